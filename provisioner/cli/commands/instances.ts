/** `list`, `status [id]`, `sync`: the tenants as the provisioner sees them. */
import type { Command } from "commander";
import { byId, context, type InstanceView } from "../context";
import { CliError, EXIT } from "../errors";
import { fields, out, outJson, table, when } from "../format";
import { instanceId } from "../options";
import type { Register } from "./register";

export const registerInstances: Register = (program, run) => {
  program
    .command("list")
    .description("list the tenants: id, status, desired state, tier, drift, URL, last error")
    .option("--status <status>", "only tenants with this status (running, stopped, error, provisioning, deprovisioned)")
    .option("--tier <tier>", "only tenants of this tier")
    .option("--json", "print the API's JSON ({instances: [...]}) instead of a table")
    .addHelpText("after", "\nExamples:\n  mindroom list\n  mindroom list --status error\n  mindroom list --json | jq -r '.instances[].instance_id'\n")
    .action(run(async (opts: { status?: string; tier?: string }, cmd: Command) => {
      const ctx = context(cmd);
      const { body } = await ctx.client.get<{ instances: InstanceView[] }>("/system/instances");
      const filtered = opts.status || opts.tier;
      const instances = body.instances.filter((i) => (!opts.status || i.status === opts.status) && (!opts.tier || i.tier === opts.tier));
      if (ctx.json) return outJson(filtered ? { ...body, instances } : body);
      if (!instances.length) return out(filtered ? "no tenants match" : "no tenants");
      out(table([...instances].sort(byId), [
        { header: "ID", value: (i) => i.instance_id },
        { header: "STATUS", value: (i) => i.status },
        { header: "DESIRED", value: (i) => i.desired_state },
        { header: "TIER", value: (i) => i.tier },
        { header: "DRIFT", value: (i) => i.drift },
        { header: "URL", value: (i) => i.frontend_url },
        { header: "LAST ERROR", value: (i) => i.last_error, max: 60 },
      ]));
    }));

  program
    .command("status")
    .argument("[id]", "a tenant's instance id; without it, the provisioner's own readiness", instanceId)
    .description("one tenant's status and URLs, or (without an id) whether the provisioner is ready")
    .option("--json", "print the API's JSON (the instance view, or /readyz) instead of fields")
    .addHelpText("after", "\nExamples:\n  mindroom status 42\n  mindroom status            # provisioner readiness and tenants per status\n  mindroom status 42 --json | jq -r .status\n")
    .action(run(async (id: string | undefined, _opts: object, cmd: Command) => {
      const ctx = context(cmd);
      if (id) {
        const { body: i } = await ctx.client.get<InstanceView>(`/system/instances/${id}`);
        if (ctx.json) return outJson(i);
        out(fields([
          ["instance", i.instance_id],
          ["status", i.status],
          ["desired state", i.desired_state],
          ["tier", i.tier],
          ["drift", i.drift ? `${i.drift}${i.drift_checked_at ? ` (checked ${when(i.drift_checked_at)})` : ""}` : undefined],
          ["frontend", i.frontend_url],
          ["api", i.api_url],
          ["matrix", i.matrix_url],
          ["stack", i.stack_name],
          ["subscription", i.subscription_id],
          ["account", i.account_id],
          ["last job", i.last_job_id],
          ["last error", i.last_error],
          ["updated", when(i.updated_at)],
        ]));
        return;
      }
      const { body: ready } = await ctx.client.get<{ status: string; mirror?: string; mirror_pending?: number; jobs?: { queued: number; running: number } }>("/readyz");
      if (ctx.json) return outJson(ready);
      const { body } = await ctx.client.get<{ instances: InstanceView[] }>("/system/instances");
      const per = new Map<string, number>();
      for (const i of body.instances) per.set(i.status ?? "unknown", (per.get(i.status ?? "unknown") ?? 0) + 1);
      out(fields([
        ["provisioner", `${ready.status} at ${ctx.config.apiUrl}`],
        ["mirror", ready.mirror ? `${ready.mirror}${ready.mirror_pending ? `, ${ready.mirror_pending} writes pending` : ""}` : undefined],
        ["jobs", ready.jobs ? `${ready.jobs.running} running, ${ready.jobs.queued} queued` : undefined],
        ["tenants", body.instances.length ? [...per].map(([s, n]) => `${n} ${s}`).join(", ") : "none"],
      ]));
    }));

  program
    .command("sync")
    .description("reconcile the tenants' status with their Deployments (POST /system/sync-instances)")
    .option("--json", "print the API's JSON ({total, synced, errors, updates, drifted}) instead of a summary")
    .addHelpText("after", "\nExit code 1 when the sync reports errors (rows it could not repair).\n\nExamples:\n  mindroom sync\n  mindroom sync --json\n")
    .action(run(async (_opts: object, cmd: Command) => {
      const ctx = context(cmd);
      const { body } = await ctx.client.post<{ total: number; synced: number; errors: number; updates: { instance_id: string | number; old_status: string; new_status: string; reason: string }[]; drifted?: string[] }>(
        "/system/sync-instances",
        undefined,
        { timeoutMs: 600_000 },
      );
      if (ctx.json) outJson(body);
      else {
        out(`${body.synced} of ${body.total} tenants synced, ${body.errors} errors, ${body.updates.length} updates`);
        // The last drift check's findings (`mindroom preview --all`), until an upgrade re-applies them.
        if (body.drifted?.length) out(`drifted: ${body.drifted.join(", ")}`);
        if (body.updates.length) {
          out(table(body.updates, [
            { header: "ID", value: (u) => u.instance_id },
            { header: "OLD", value: (u) => u.old_status },
            { header: "NEW", value: (u) => u.new_status },
            { header: "REASON", value: (u) => u.reason },
          ]));
        }
      }
      if (body.errors > 0) throw new CliError(`sync reported ${body.errors} errors; see the updates above`, EXIT.failed);
    }));
};
