/**
 * Progress of a job the CLI waits for. On a terminal (stderr is a TTY) a cli-progress bar: a
 * rollout's bar counts finished tenants, a single tenant's job moves queued → running → done;
 * new progress events are printed above it. Elsewhere (CI, pipes, files) one line per progress
 * event and per status change on stderr, no control characters. stdout stays for the result.
 */
import { MultiBar, Presets, type SingleBar } from "cli-progress";
import { elapsed } from "./format";
import type { JobView } from "./jobs";

export interface Progress {
  /** Shows what changed since the last call. */
  update(job: JobView): void;
  /** Leaves the terminal clean (bar finished, cursor back). */
  stop(): void;
}

/** Tenants finished out of the total, from `result` (done) or `summary` (running), when the job has them. */
export function counts(job: JobView): { done: number; total: number; failed: number; skipped: number } | undefined {
  const s = (job.result ?? job.summary) as { total?: unknown; succeeded?: unknown; moved?: unknown; already?: unknown; failed?: unknown; skipped?: unknown } | undefined;
  if (!s || typeof s !== "object" || typeof s.total !== "number") return undefined;
  const n = (v: unknown) => (typeof v === "number" ? v : 0);
  // A rekey (docs/rekey.md) counts its successes as moved and already.
  return { done: n(s.succeeded) + n(s.moved) + n(s.already) + n(s.failed) + n(s.skipped), total: s.total, failed: n(s.failed), skipped: n(s.skipped) };
}

/** `upgrade 42` / `provision 7` / `upgrade rollout` / `drift rollout`: what the job is, for prefixes. */
export function label(job: JobView): string {
  if (job.kind === "rollout") {
    const action = ((job.result ?? job.summary) as { action?: unknown } | undefined)?.action;
    return action === "preview" ? "drift rollout" : action === "upgrade" ? "upgrade rollout" : "rollout";
  }
  return job.instance_id && job.kind !== "rekey" ? `${job.kind} ${job.instance_id}` : job.kind;
}

/** Progress events not shown yet: those after the last one shown (the job keeps only the newest 100). */
function fresh(job: JobView, last: string | undefined): { events: JobView["progress"]; last: string | undefined } {
  const events = job.progress ?? [];
  const key = (e: { at: string; message: string }) => `${e.at}\u0000${e.message}`;
  const at = last === undefined ? -1 : events.findIndex((e) => key(e) === last);
  const newer = events.slice(at + 1);
  return { events: newer, last: events.length ? key(events[events.length - 1]) : last };
}

class LineProgress implements Progress {
  private last: string | undefined;
  private status: string | undefined;
  private counted = "";

  update(job: JobView): void {
    const tag = label(job);
    const seen = fresh(job, this.last);
    this.last = seen.last;
    for (const e of seen.events) process.stderr.write(`${tag}: ${e.message}\n`);
    const c = counts(job);
    const counted = c ? `${c.done}/${c.total} done, ${c.failed} failed` : "";
    if (job.status !== this.status || (counted !== this.counted && seen.events.length === 0)) {
      process.stderr.write(`${tag}: ${job.status}${counted ? ` (${counted})` : ""}\n`);
    }
    this.status = job.status;
    this.counted = counted;
  }

  stop(): void {}
}

const PHASE: Record<string, number> = { queued: 0, running: 1, succeeded: 2, failed: 2 };

class BarProgress implements Progress {
  private readonly multi = new MultiBar(
    {
      stream: process.stderr,
      format: "{label} [{bar}] {counts} | {time} | {message}",
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 24,
      fps: 5,
      autopadding: true,
      emptyOnZero: true,
    },
    Presets.shades_classic,
  );
  private bar: SingleBar | undefined;
  private last: string | undefined;

  update(job: JobView): void {
    const seen = fresh(job, this.last);
    this.last = seen.last;
    const c = counts(job);
    // A rollout counts tenants (none yet before its first summary); a single job moves by phase.
    const rollout = job.kind === "rollout";
    const total = c ? Math.max(c.total, 1) : rollout ? 1 : 2;
    const value = c ? c.done : rollout ? 0 : (PHASE[job.status] ?? 0);
    const newest = job.progress?.at(-1)?.message ?? "";
    const payload = {
      label: label(job),
      counts: c ? `${c.done}/${c.total}${c.failed ? ` (${c.failed} failed)` : ""}` : job.status,
      time: elapsed(job.started_at ?? job.created_at, job.finished_at),
      message: newest.length > 60 ? `${newest.slice(0, 59)}…` : newest,
    };
    // Above the bar, so the scrollback keeps every event (a rollout's: one line per finished tenant).
    for (const e of seen.events) this.multi.log(`${payload.label}: ${e.message}\n`);
    if (!this.bar) this.bar = this.multi.create(total, value, payload);
    else {
      this.bar.setTotal(total);
      this.bar.update(value, payload);
    }
  }

  stop(): void {
    if (!this.bar) return;
    this.multi.update(); // flushes the lines logged since the last frame
    this.multi.stop();
    this.bar = undefined;
  }
}

export function createProgress(tty = Boolean(process.stderr.isTTY)): Progress {
  return tty ? new BarProgress() : new LineProgress();
}
