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

const rateLimited = (err: unknown) => err instanceof ApiError && err.status === 429;

/**
 * The limit is a fixed window per client address (upstream's contract, without rate-limit headers,
 * so the reset time is unknown): every CLI and script behind one address, e.g. all operators on
 * one port-forward, shares it.
 */
const RATE_LIMITED = "rate limited by the provisioner (GET /system/jobs/{id}: 60 a minute per client address, shared by every CLI and script on it; MINDROOM_POLL_INTERVAL_MS sets how often this one polls)";

/** Pause after a failed poll: a restart or a rate limit is not over in less. */
const FAILED_POLL_PAUSE_MS = 2000;
const DEFAULT_RETRY_FOR_MS = 120_000;
/** The slowest a rate-limited wait polls: a rollout's progress still moves every few seconds. */
const MAX_POLL_MS = 12_000;

/**
 * One read of the job. A transient failure answers undefined, is noted once per stretch of failures
 * (a rate-limited wait can stall for most of a minute after the job ended, and without a word that
 * looks like a hung job), and is thrown once the stretch has lasted `retryForMs`. `onRateLimited`
 * runs when a stretch starts with a 429; what it answers is added to the note.
 */
function jobReader(client: Client, jobId: string, retryForMs: number, onRateLimited?: () => string): () => Promise<JobView | undefined> {
  let failingSince: number | undefined;
  return async () => {
    try {
      const job = (await client.get<JobView>(`/system/jobs/${encodeURIComponent(jobId)}`, { timeoutMs: 30_000 })).body;
      failingSince = undefined;
      return job;
    } catch (err) {
      if (!transient(err)) throw err;
      if (failingSince === undefined) {
        failingSince = Date.now();
        const said = rateLimited(err) ? `${RATE_LIMITED}${onRateLimited?.() ?? ""}` : (err as Error).message;
        note(`${said}; retrying for up to ${retryForMs / 1000} s`);
      } else if (Date.now() - failingSince > retryForMs) throw err;
      return undefined;
    }
  };
}

/** The job as it is now, read through restarts and rate limits like a wait's polls. */
export async function readJob(client: Client, jobId: string): Promise<JobView> {
  const read = jobReader(client, jobId, DEFAULT_RETRY_FOR_MS);
  for (;;) {
    const job = await read();
    if (job) return job;
    await sleep(FAILED_POLL_PAUSE_MS);
  }
}

/**
 * Polls the job until it ends, drawing progress on stderr. Ctrl-C stops waiting (exit 130) and
 * says how to pick the job up again; the job itself goes on in the provisioner.
 */
export async function waitForJob(client: Client, jobId: string, opts: WaitOptions): Promise<JobView> {
  const progress = createProgress();
  const deadline = opts.timeoutSeconds > 0 ? Date.now() + opts.timeoutSeconds * 1000 : Infinity;
  // A rate limit means more readers share the budget than it holds: this wait takes half as many
  // from then on, so a few CLIs behind one address settle within it instead of stalling each minute.
  let pollMs = opts.pollMs;
  const read = jobReader(client, jobId, opts.retryForMs ?? DEFAULT_RETRY_FOR_MS, () => {
    pollMs = Math.min(pollMs * 2, MAX_POLL_MS);
    return `; this wait now polls every ${pollMs / 1000} s`;
  });
  const onSigint = () => {
    progress.stop();
    note(`stopped waiting; job ${jobId} goes on in the provisioner: mindroom watch ${jobId}`);
    process.exit(130);
  };
  process.once("SIGINT", onSigint);
  try {
    for (;;) {
      const job = await read();
      if (job) {
        progress.update(job);
        if (isFinished(job)) return job;
      }
      if (Date.now() >= deadline) {
        throw new TimedOut(`job ${jobId} is still ${job?.status ?? "unfinished"} after ${opts.timeoutSeconds} s; it goes on: follow it with mindroom watch ${jobId}`);
      }
      await sleep(Math.min(job ? pollMs : Math.max(pollMs, FAILED_POLL_PAUSE_MS), Math.max(0, deadline - Date.now())));
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
