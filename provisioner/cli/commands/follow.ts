/** The end of every waiting command: follow the job, print its result (or document), exit by its outcome. */
import type { Ctx } from "../context";
import { outJson } from "../format";
import { defaultTimeout, outcome, waitForJob, type JobView } from "../jobs";
import { durationSeconds } from "../options";
import { showJob } from "../render";

export async function follow(ctx: Ctx, jobId: string, kind: string, timeout: string | undefined): Promise<number> {
  const job: JobView = await waitForJob(ctx.client, jobId, { pollMs: ctx.config.pollMs, timeoutSeconds: durationSeconds(timeout ?? defaultTimeout(kind)) ?? 0 });
  if (ctx.json) outJson(job);
  else if (job.status === "succeeded") showJob(job);
  return outcome(job);
}

export const TIMEOUT_HELP = "stop waiting after this long (exit 4; the job goes on), e.g. 30m; 0 = never (default 30m, a rollout 6h)";
