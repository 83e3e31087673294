/**
 * `upgrade` and `preview`: fleet work (docs/fleet.md). An upgrade is one `rollout` job driving one
 * `upgrade` job per selected tenant; a preview of one tenant is a `preview` job, of the fleet
 * (`--all`) a drift check (`POST /system/drift`, a rollout of previews).
 */
import type { Command } from "commander";
import { confirm } from "../confirm";
import { context, type Ctx, type InstanceView } from "../context";
import { UsageError } from "../errors";
import { out, outJson } from "../format";
import { duration, instanceId, jsonObject, positiveInt } from "../options";
import { follow, TIMEOUT_HELP } from "./follow";
import type { Register } from "./register";

interface SelectionOpts {
  all?: boolean;
  tier?: string;
  status?: string;
  concurrency?: number;
}

interface ChangeOpts {
  image?: string;
  synapseImage?: string;
  values?: Record<string, unknown>;
}

interface RolloutAccepted {
  job_id: string;
  status: string;
  kind?: string;
  total?: number;
  instance_ids?: string[];
}

function selection(ids: string[], opts: SelectionOpts) {
  if (ids.length && opts.all) throw new UsageError("give instance ids or --all, not both");
  if (!ids.length && !opts.all) throw new UsageError("name the tenants: one or more instance ids, or --all (narrowed by --tier/--status)");
  return { ...(opts.all ? { all: true } : { instance_ids: ids }), tier: opts.tier, status: opts.status, concurrency: opts.concurrency };
}

function changes(opts: ChangeOpts) {
  return { mindroom_image: opts.image, synapse_image: opts.synapseImage, values: opts.values };
}

/** How many tenants `--all` (with its filters) selects, for the question; the API decides for real. */
async function countSelected(ctx: Ctx, opts: SelectionOpts): Promise<number> {
  const { body } = await ctx.client.get<{ instances: InstanceView[] }>("/system/instances");
  return body.instances.filter((i) => i.status !== "deprovisioned" && (!opts.tier || i.tier === opts.tier) && (!opts.status || i.status === opts.status)).length;
}

function accepted(ctx: Ctx, a: RolloutAccepted, what: string): void {
  if (ctx.json) return outJson(a);
  const ids = a.instance_ids ?? [];
  const shown = ids.length > 20 ? `${ids.slice(0, 20).join(", ")}, …` : ids.join(", ");
  out(`${what} of ${a.total ?? ids.length} tenants ${a.status} as job ${a.job_id}${shown ? `: ${shown}` : ""}`);
  out(`follow it: mindroom watch ${a.job_id}`);
}

const selectionOptions = (cmd: Command) =>
  cmd
    .option("--all", "every tenant that is not deprovisioned (narrowed by --tier and --status)")
    .option("--tier <tier>", "only tenants of this tier")
    .option("--status <status>", "only tenants with this status: running, stopped, error, provisioning or restarting")
    .option("--concurrency <n>", "at most this many tenants at once (default: the provisioner's cap)", positiveInt);

export const registerFleet: Register = (program, run) => {
  selectionOptions(
    program
      .command("upgrade")
      .argument("[ids...]", "instance ids of the tenants to upgrade (or --all)")
      .description("re-apply tenants' stacks, optionally with a new image or values, as one rollout job"),
  )
    .option("--image <image>", "new MindRoom image, e.g. ghcr.io/mindroom-ai/mindroom:v1.4.0 (kept for later re-provisions)")
    .option("--synapse-image <image>", "new Synapse image, e.g. matrixdotorg/synapse:v1.120.0")
    .option("--values <json>", "chart-value overrides merged over each tenant's values: inline JSON or @file.json", jsonObject)
    .option("--max-failures <n>", "stop starting tenants once this many failed; the rest are skipped (API default 1)", positiveInt)
    .option("-y, --yes", "do not ask before an --all upgrade; required then when stdin is not a terminal")
    .option("--wait", "follow the rollout until it ends, with a progress bar on stderr")
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the API's JSON (the 202 answer, or with --wait the finished rollout job)")
    .addHelpText(
      "after",
      `
Nothing to change means re-apply each tenant's component as it is. Stopped tenants stay stopped.
With --wait: exit 0 when every tenant succeeded, 5 when some failed or were skipped, 1 when the rollout itself failed.

Examples:
  mindroom upgrade --all --image ghcr.io/mindroom-ai/mindroom:v1.4.0 --yes --wait
  mindroom upgrade 3 7 --synapse-image matrixdotorg/synapse:v1.120.0 --wait
  mindroom upgrade --all --tier pro --concurrency 2 --max-failures 3 --yes
  mindroom upgrade --all --status error --yes --wait      # retry the tenants a rollout left failed
`,
    )
    .action(run(async (ids: string[], opts: SelectionOpts & ChangeOpts & { maxFailures?: number; yes?: boolean; wait?: boolean; timeout?: string }, cmd: Command) => {
      for (const id of ids) instanceIdOrUsage(id);
      const ctx = context(cmd);
      const body = { ...selection(ids, opts), ...changes(opts), max_failures: opts.maxFailures };
      if (opts.all && !opts.yes) {
        const n = process.stdin.isTTY ? await countSelected(ctx, opts) : 0;
        const change = [opts.image && `MindRoom image ${opts.image}`, opts.synapseImage && `Synapse image ${opts.synapseImage}`, opts.values && "new values"].filter(Boolean).join(", ") || "their current settings";
        await confirm(`Upgrade ${n} tenants${opts.tier ? ` of tier ${opts.tier}` : ""}${opts.status ? ` with status ${opts.status}` : ""} to ${change}?`, "upgrade every tenant", opts.yes);
      }
      const { body: a } = await ctx.client.post<RolloutAccepted>("/system/upgrade", body, { wait: 0 });
      if (opts.wait) return follow(ctx, a.job_id, "rollout", opts.timeout);
      return accepted(ctx, a, "upgrade");
    }));

  selectionOptions(
    program
      .command("preview")
      .argument("[id]", "the tenant to preview (or --all for a drift check of the fleet)", instanceId)
      .description("show what re-applying a tenant would change (the engine's diff), or check the fleet for drift with --all"),
  )
    .option("--image <image>", "preview an upgrade to this MindRoom image (one tenant only)")
    .option("--synapse-image <image>", "preview an upgrade to this Synapse image (one tenant only)")
    .option("--values <json>", "preview these chart-value overrides (one tenant only): inline JSON or @file.json", jsonObject)
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the finished preview (or drift rollout) job as the API returns it")
    .addHelpText(
      "after",
      `
A preview changes nothing. It waits for its job and prints the resources that would change.
--all records each tenant's drift (clean/drifted), shown by \`mindroom list\`; exit 5 when some previews failed.

Examples:
  mindroom preview 42
  mindroom preview 42 --image ghcr.io/mindroom-ai/mindroom:v1.4.0
  mindroom preview --all --tier pro
`,
    )
    .action(run(async (id: string | undefined, opts: SelectionOpts & ChangeOpts & { timeout?: string }, cmd: Command) => {
      const ctx = context(cmd);
      if (id && opts.all) throw new UsageError("give an instance id or --all, not both");
      if (id) {
        const body = changes(opts);
        const hasChange = Object.values(body).some((v) => v !== undefined);
        const { body: a } = await ctx.client.post<{ job_id: string }>(`/system/instances/${id}/preview`, hasChange ? body : undefined, { wait: 0 });
        return follow(ctx, a.job_id, "preview", opts.timeout);
      }
      if (opts.image || opts.synapseImage || opts.values) throw new UsageError("--image, --synapse-image and --values preview one tenant: give its id instead of a selection");
      const { body: a } = await ctx.client.post<RolloutAccepted>("/system/drift", selection([], opts), { wait: 0 });
      return follow(ctx, a.job_id, "rollout", opts.timeout);
    }));
};

function instanceIdOrUsage(id: string): void {
  try {
    instanceId(id);
  } catch (err) {
    throw new UsageError(`${id}: ${(err as Error).message}`);
  }
}
