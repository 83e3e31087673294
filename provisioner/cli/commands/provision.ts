/** `provision` and `deprovision`: one tenant's stack, as a job (202 at once; `--wait` follows it). */
import type { Command } from "commander";
import { confirm } from "../confirm";
import { context } from "../context";
import { UsageError } from "../errors";
import { fields, out, outJson } from "../format";
import { duration, instanceId, uuid } from "../options";
import { follow, TIMEOUT_HELP } from "./follow";
import type { Register } from "./register";

interface Accepted {
  job_id?: string;
  status?: string;
  customer_id?: string | number;
  frontend_url?: string;
  api_url?: string;
  matrix_url?: string;
  message?: string;
  kept_volumes?: string[];
}

export const registerProvision: Register = (program, run) => {
  program
    .command("provision")
    .description("create a tenant (or re-provision one with --instance); answers with its job at once")
    .option("--subscription <uuid>", "the subscription the tenant belongs to (required for a new tenant)", uuid)
    .option("--account <uuid>", "the owner's account (its email becomes the owner's Matrix id)", uuid)
    .option("--tier <tier>", "free, byok, hobby, pro or enterprise (default: free for a new tenant, its own tier on a re-provision)")
    .option("--instance <id>", "re-provision this existing tenant instead of creating one", instanceId)
    .option("--wait", "follow the job until it ends, with progress on stderr")
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the API's JSON (the 202 answer, or with --wait the finished job)")
    .addHelpText(
      "after",
      `
Retrying with the same --subscription re-provisions that subscription's tenant; it never creates a second one.

Examples:
  mindroom provision --subscription 6f1c1e3a-3c1b-4b8e-9a51-0f2b6f0c9d11 --account a1b2c3d4-0000-4000-8000-000000000042 --tier pro --wait
  mindroom provision --instance 42 --wait          # re-apply tenant 42 (e.g. to adopt a Helm-era tenant)
  job=$(mindroom provision --subscription "$SUB" --tier free --json | jq -r .job_id); mindroom watch "$job"
`,
    )
    .action(run(async (opts: { subscription?: string; account?: string; tier?: string; instance?: string; wait?: boolean; timeout?: string }, cmd: Command) => {
      if (!opts.subscription && !opts.instance) throw new UsageError("give --subscription <uuid> for a new tenant, or --instance <id> to re-provision one");
      const ctx = context(cmd);
      const body = { subscription_id: opts.subscription, account_id: opts.account, tier: opts.tier, instance_id: opts.instance };
      const { status, body: a } = await ctx.client.post<Accepted>("/system/provision", body, { wait: 0 });
      if (opts.wait && status === 202 && a.job_id) return follow(ctx, a.job_id, "provision", opts.timeout);
      if (ctx.json) return outJson(a);
      out(fields([
        ["instance", a.customer_id],
        ["job", a.job_id],
        ["status", a.status ?? "succeeded"],
        ["message", a.message],
        ["frontend", a.frontend_url],
        ["api", a.api_url],
        ["matrix", a.matrix_url],
      ]));
      if (a.job_id) out(`follow it: mindroom watch ${a.job_id}`);
    }));

  program
    .command("deprovision")
    .argument("<id>", "the tenant's instance id", instanceId)
    .description("uninstall a tenant's stack (its volumes are kept unless --delete-data); asks first unless --yes")
    .option("--delete-data", "also delete the tenant's data volumes (PVCs): cannot be undone")
    .option("-y, --yes", "do not ask; required when stdin is not a terminal")
    .option("--wait", "follow the job until it ends, with progress on stderr")
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the API's JSON (the 202 answer, or with --wait the finished job)")
    .addHelpText(
      "after",
      `
Without a terminal (scripts, CI) it refuses unless --yes is given (exit 2) and changes nothing.

Examples:
  mindroom deprovision 42                          # asks, keeps the volumes
  mindroom deprovision 42 --delete-data --yes --wait
`,
    )
    .action(run(async (id: string, opts: { deleteData?: boolean; yes?: boolean; wait?: boolean; timeout?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const data = opts.deleteData ? "and DELETE its data volumes (cannot be undone)" : "(its data volumes are kept)";
      await confirm(`Deprovision instance ${id} ${data}?`, `deprovision instance ${id}`, opts.yes);
      const { status, body: a } = await ctx.client.request<Accepted>("DELETE", `/system/instances/${id}/uninstall`, {
        query: { delete_data: opts.deleteData ? "true" : "false" },
        wait: 0,
      });
      if (opts.wait && status === 202 && a.job_id) return follow(ctx, a.job_id, "uninstall", opts.timeout);
      if (ctx.json) return outJson(a);
      out(fields([
        ["instance", id],
        ["job", a.job_id],
        ["status", a.status ?? "succeeded"],
        ["message", a.message],
        ["kept volumes", a.kept_volumes ? a.kept_volumes.join(", ") || "none" : undefined],
      ]));
      if (a.job_id) out(`follow it: mindroom watch ${a.job_id}`);
    }));
};
