/** `jobs` (the job list) and `watch <job>` (follow one job to its end). */
import type { Command } from "commander";
import { context } from "../context";
import { elapsed, out, outJson, table, when } from "../format";
import { readJob, type JobView } from "../jobs";
import { counts } from "../progress";
import { duration, instanceId, positiveInt } from "../options";
import { follow, TIMEOUT_HELP } from "./follow";
import type { Register } from "./register";

function detail(job: JobView): string {
  if (job.error) return `${job.error.detail} (HTTP ${job.error.status_code})`;
  const c = counts(job);
  if (c) return `${c.done}/${c.total} done, ${c.failed} failed`;
  return job.progress?.at(-1)?.message ?? "";
}

export const registerJobs: Register = (program, run) => {
  program
    .command("jobs")
    .description("recent jobs, newest first (finished ones are kept for PROVISIONER_JOB_RETENTION_HOURS)")
    .option("--instance <id>", "only this tenant's jobs", instanceId)
    .option("--kind <kind>", "only jobs of this kind: provision, uninstall, upgrade, preview, rollout")
    .option("--status <status>", "only jobs with this status: queued, running, succeeded, failed")
    .option("--limit <n>", "at most this many (API default 50, at most 500)", positiveInt)
    .option("--json", "print the API's JSON ({jobs: [...]}) instead of a table")
    .addHelpText("after", "\nExamples:\n  mindroom jobs\n  mindroom jobs --instance 42\n  mindroom jobs --kind rollout --status running\n  mindroom jobs --status failed --json | jq -r '.jobs[].job_id'\n")
    .action(run(async (opts: { instance?: string; kind?: string; status?: string; limit?: number }, cmd: Command) => {
      const ctx = context(cmd);
      const { body } = await ctx.client.get<{ jobs: JobView[] }>("/system/jobs", {
        query: { instance_id: opts.instance, kind: opts.kind, status: opts.status, limit: opts.limit },
      });
      if (ctx.json) return outJson(body);
      if (!body.jobs.length) return out("no jobs");
      out(table(body.jobs, [
        { header: "JOB", value: (j) => j.job_id },
        { header: "KIND", value: (j) => j.kind },
        { header: "INSTANCE", value: (j) => j.instance_id },
        { header: "STATUS", value: (j) => j.status },
        { header: "CREATED", value: (j) => when(j.created_at) },
        { header: "TOOK", value: (j) => elapsed(j.started_at, j.finished_at) },
        { header: "DETAIL", value: detail, max: 80 },
      ]));
    }));

  program
    .command("watch")
    .argument("<job>", "a job id, as printed by provision/upgrade/deprovision or listed by `mindroom jobs`")
    .description("follow a job until it ends, with progress on stderr; exit by its outcome")
    .option("--timeout <duration>", TIMEOUT_HELP, duration)
    .option("--json", "print the finished job as the API returns it")
    .addHelpText(
      "after",
      `
Exit 0 when the job succeeded, 1 when it failed, 5 for a rollout with failed or skipped tenants,
4 when --timeout passed first. Ctrl-C stops watching only; the job goes on.

Examples:
  mindroom watch 0b6c1f9e-2f3a-4c55-9a0e-6d3b2a1c9f10
  mindroom watch "$(mindroom jobs --kind rollout --status running --json | jq -r '.jobs[0].job_id')"
`,
    )
    .action(run(async (jobId: string, opts: { timeout?: string }, cmd: Command) => {
      const ctx = context(cmd);
      // Without --timeout the kind picks the default (a rollout runs longer): one read more.
      const kind = opts.timeout === undefined ? (await readJob(ctx.client, jobId)).kind : "";
      return follow(ctx, jobId, kind, opts.timeout);
    }));
};
