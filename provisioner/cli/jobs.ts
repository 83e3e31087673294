/**
 * Jobs as the CLI sees them (`GET /system/jobs/{id}`), following one until it ends, and the exit
 * code its outcome means.
 */
import type { Client } from "./client";
import { ApiError, CliError, EXIT, TimedOut, Unreachable } from "./errors";
import { note } from "./format";
import { createProgress, counts, label } from "./progress";

export interface JobView {
  job_id: string;
  kind: string;
  instance_id: string;
  status: "queued" | "running" | "succeeded" | "failed" | string;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  result?: unknown;
  error?: { status_code: number; detail: string };
  progress: { at: string; message: string }[];
  /** A rollout's counters so far (fleet.md). */
  summary?: Record<string, unknown>;
}

export const isFinished = (job: JobView) => job.status === "succeeded" || job.status === "failed";

export interface WaitOptions {
  pollMs: number;
  /** 0 = no limit. */
  timeoutSeconds: number;
  /** How long polls may fail in a row (provisioner restarting, rate limit) before giving up. */
  retryForMs?: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether a failed poll is worth repeating: no answer, a restart (503), a rate limit (429), a gateway. */
function transient(err: unknown): boolean {
  if (err instanceof Unreachable) return true;
  return err instanceof ApiError && [429, 502, 503, 504].includes(err.status);
}

/**
 * Polls the job until it ends, drawing progress on stderr. Ctrl-C stops waiting (exit 130) and
 * says how to pick the job up again; the job itself goes on in the provisioner.
 */
export async function waitForJob(client: Client, jobId: string, opts: WaitOptions): Promise<JobView> {
  const progress = createProgress();
  const deadline = opts.timeoutSeconds > 0 ? Date.now() + opts.timeoutSeconds * 1000 : Infinity;
  const retryForMs = opts.retryForMs ?? 120_000;
  const onSigint = () => {
    progress.stop();
    note(`stopped waiting; job ${jobId} goes on in the provisioner: mindroom watch ${jobId}`);
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  let failingSince: number | undefined;
  try {
    for (;;) {
      let job: JobView | undefined;
      try {
        job = (await client.get<JobView>(`/system/jobs/${encodeURIComponent(jobId)}`, { timeoutMs: 30_000 })).body;
        failingSince = undefined;
      } catch (err) {
        if (!transient(err)) throw err;
        if (failingSince === undefined) {
          failingSince = Date.now();
          // A rate limit is routine (other callers share the budget): back off without a word.
          if (!(err instanceof ApiError && err.status === 429)) note(`${(err as Error).message}; retrying for up to ${retryForMs / 1000} s`);
        } else if (Date.now() - failingSince > retryForMs) throw err;
      }
      if (job) {
        progress.update(job);
        if (isFinished(job)) return job;
      }
      if (Date.now() >= deadline) {
        throw new TimedOut(`job ${jobId} is still ${job?.status ?? "unfinished"} after ${opts.timeoutSeconds} s; it goes on: follow it with mindroom watch ${jobId}`);
      }
      await sleep(Math.min(job ? opts.pollMs : Math.max(opts.pollMs, 2000), Math.max(0, deadline - Date.now())));
    }
  } finally {
    progress.stop();
    process.removeListener("SIGINT", onSigint);
  }
}

/**
 * The exit code of a finished job: 0 succeeded, 1 failed (its detail on stderr), 5 a rollout that
 * finished with failed or skipped tenants (the counts on stderr).
 */
export function outcome(job: JobView): number {
  if (job.status === "failed") {
    const e = job.error;
    throw new CliError(`${label(job)} failed: ${e?.detail ?? "no detail"}${e ? ` (HTTP ${e.status_code})` : ""}; job ${job.job_id}`, EXIT.failed);
  }
  const c = counts(job);
  if (job.status === "succeeded" && c && (c.failed > 0 || c.skipped > 0)) {
    // Which tenants: the table on stdout (or the document's `instances`) and the progress lines above.
    const r = job.result as { stopped_early?: boolean };
    note(`${label(job)} finished with ${c.failed} failed and ${c.skipped} skipped of ${c.total}${r.stopped_early ? " (stopped early: the failure budget was spent)" : ""}; job ${job.job_id}`);
    return EXIT.partial;
  }
  return EXIT.ok;
}

/** The `--timeout` used when none is given: a rollout runs for hours, one tenant's job for minutes. */
export function defaultTimeout(kind: string): string {
  return kind === "rollout" || kind === "rekey" ? "6h" : "30m";
}
