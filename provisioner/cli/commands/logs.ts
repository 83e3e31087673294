/** `logs <id>`: one container's log of a tenant pod, streamed to stdout (`-f` follows it). */
import type { Command } from "commander";
import { context } from "../context";
import { CliError, EXIT, UsageError } from "../errors";
import { outJson } from "../format";
import { duration, instanceId, positiveInt } from "../options";
import type { Register } from "./register";

export const registerLogs: Register = (program, run) => {
  program
    .command("logs")
    .argument("<id>", "the tenant's instance id", instanceId)
    .description("print a tenant's pod log (GET /system/instances/{id}/logs)")
    .option("-f, --follow", "keep streaming new lines until Ctrl-C")
    .option("-c, --container <name>", "mindroom (default), synapse, sandbox-runner or wait-for-synapse")
    .option("--tail <n>", "last n lines (API default 200, at most 10000)", positiveInt)
    .option("--since <duration>", "only lines newer than this, e.g. 30s, 10m, 2h", duration)
    .option("--pod <name>", "this pod of the tenant instead of the newest")
    .option("--json", "print {instance_id, pod, container, lines: [...]} (not with --follow)")
    .addHelpText("after", "\nExamples:\n  mindroom logs 42\n  mindroom logs 42 -f --since 10m\n  mindroom logs 42 --container synapse --tail 1000 | grep -i error\n")
    .action(run(async (id: string, opts: { follow?: boolean; container?: string; tail?: number; since?: string; pod?: string }, cmd: Command) => {
      const ctx = context(cmd);
      if (ctx.json && opts.follow) throw new UsageError("--json prints one document, so it cannot --follow; drop one of them");
      const res = await ctx.client.fetch("GET", `/system/instances/${id}/logs`, {
        query: { container: opts.container, tail: opts.tail, since: opts.since, pod: opts.pod, follow: opts.follow ? "true" : undefined },
        timeoutMs: opts.follow ? 0 : 120_000,
      });
      if (ctx.json) {
        const text = await ctx.client.text(res);
        const lines = text.split("\n");
        if (lines.at(-1) === "") lines.pop();
        return outJson({ instance_id: id, pod: res.headers.get("x-pod"), container: res.headers.get("x-container") ?? opts.container ?? "mindroom", lines });
      }
      if (!res.body) return;
      try {
        for await (const chunk of res.body) {
          if (!process.stdout.write(chunk)) await new Promise((r) => process.stdout.once("drain", r));
        }
      } catch (err) {
        // The provisioner cuts the connection when its own stream from Kubernetes broke: the log is incomplete.
        throw new CliError(`the log of instance ${id} was cut off before its end (${(err as Error).message}); run the command again`, EXIT.failed);
      }
    }));
};
