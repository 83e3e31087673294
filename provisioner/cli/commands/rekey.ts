/**
 * `rekey`: moves the tenant stacks to the provisioner's own passphrase (docs/rekey.md), one `rekey`
 * job driving one `rekey-stack` job per tenant stack (`POST /system/rekey`). Stacks already on it
 * are skipped, so running it again is safe.
 */
import type { Command } from "commander";
import { context } from "../context";
import { UsageError } from "../errors";
import { out, outJson } from "../format";
import { duration, instanceId, positiveInt } from "../options";
import { follow, TIMEOUT_HELP } from "./follow";
import type { Register } from "./register";

export const registerRekey: Register = (program, run) => {
  program
    .command("rekey")
    .argument("[ids...]", "only these tenants (default: every tenant stack of the environment)")
    .description("move the tenant stacks to the provisioner's own passphrase (after setting the previous one; docs/rekey.md)")
    .option("--concurrency <n>", "at most this many stacks at once (default: the provisioner's cap)", positiveInt)
    .option("--max-failures <n>", "stop starting stacks once this many failed; the rest are skipped (API default 1)", positiveInt)
    .option("--wait", "follow the rekey until it ends, with a progress bar on stderr")
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the API's JSON (the 202 answer, or with --wait the finished rekey job)")
    .addHelpText(
      "after",
      `
A stack already on the provisioner's passphrase is left untouched; no tenant resource changes.
With --wait: exit 0 when every stack is on the passphrase, 5 when some failed or were skipped, 1 when the rekey itself failed.

Examples:
  mindroom rekey --wait
  mindroom rekey 3 7 --wait
`,
    )
    .action(run(async (ids: string[], opts: { concurrency?: number; maxFailures?: number; wait?: boolean; timeout?: string }, cmd: Command) => {
      for (const id of ids) {
        try {
          instanceId(id);
        } catch (err) {
          throw new UsageError(`${id}: ${(err as Error).message}`);
        }
      }
      const ctx = context(cmd);
      const body = { ...(ids.length ? { instance_ids: ids } : {}), concurrency: opts.concurrency, max_failures: opts.maxFailures };
      const { body: a } = await ctx.client.post<{ job_id: string; status: string }>("/system/rekey", body, { wait: 0 });
      if (opts.wait) return follow(ctx, a.job_id, "rekey", opts.timeout);
      if (ctx.json) return outJson(a);
      out(`rekey ${a.status} as job ${a.job_id}`);
      out(`follow it: mindroom watch ${a.job_id}`);
    }));
};
