/**
 * The job runner (spec provisioner.md §5, Deviation 8): one FIFO queue per tenant stack, at most
 * one stack operation per tenant at a time, a global cap on concurrent operations, durable records.
 *
 * A handler runs while holding its tenant's slot and one global slot; it may call `release()` once
 * the stack operation is over (the readiness wait must not block the tenant's next operation).
 * On boot, queued jobs are resumed in order; jobs that were running are finished with a reason, and
 * the tenant's next operation first runs `recover` (clears the stale lock of our own crashed run),
 * which is safe because this process is the only writer and nothing of ours runs yet. A resumable
 * kind (a rollout) is queued again instead and continues from its checkpoint.
 *
 * Each use case owns its job kinds: it calls `define` with the handler and gets a typed queue to
 * submit to, so the runner knows no use case and no params type.
 */
import { randomUUID } from "node:crypto";
import { EventEmitter } from "node:events";
import type { ProgressEvent } from "../ports";
import { Failure, shortReason } from "../errors";
import { JobStore } from "./store";
import { MAX_PROGRESS, type JobContext, type JobDefinition, type JobError, type JobKind, type JobQueue, type JobRecord } from "./types";

export type { JobContext } from "./types";

export type JobHandler<P = Record<string, unknown>> = (ctx: JobContext<P>) => Promise<unknown>;

interface Definition extends JobDefinition {
  handler: JobHandler;
}

export interface JobRunnerOptions {
  store: JobStore;
  /** Handlers defined up front (same as calling `define` for each); the services define their own. */
  handlers?: Partial<Record<JobKind, JobHandler>>;
  /** Global cap on concurrent stack phases. */
  concurrency: number;
  /** Per-operation timeout (stack phase and after), enforced through the handler's AbortSignal. */
  operationTimeoutMs: number;
  retentionMs: number;
  /**
   * How long an aborted operation may take to stop before its job is failed anyway (default
   * 120 s): Pulumi answers SIGINT by finishing the resource operations in flight, which may take a
   * while, but a CLI or provider that hangs must not keep its job "running" and a slot taken forever.
   */
  abortGraceMs?: number;
  /** Clears a stale lock of our own crashed run (TenantStacks.recover). */
  recover(instanceId: string): Promise<void>;
  /** Called at boot for each job finished because a restart interrupted it. */
  onInterrupted?(job: JobRecord): void;
  /** Called whenever a job finishes (metrics). */
  onFinished?(job: JobRecord): void;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
  now?: () => Date;
}

const DEFAULT_ABORT_GRACE_MS = 120_000;

/**
 * A job the provisioner died in. Nothing has been recovered yet when this is written: the recovery
 * (stale lock cleared, pending operations refreshed) runs before the tenant's next operation.
 */
export function interruptedDetail(job: Pick<JobRecord, "kind" | "instance_id">): string {
  const head = `Interrupted by a provisioner restart during the stack operation; the stack of instance ${job.instance_id} will be recovered (stale lock cleared, pending operations refreshed) before its next operation`;
  return job.kind === "provision"
    ? `${head}. Retry with instance_id ${job.instance_id} or the same subscription_id: that re-provisions instance ${job.instance_id}, it does not create another`
    : `${head}. Retry the request`;
}

export class JobRunner {
  private readonly definitions = new Map<JobKind, Definition>();
  private readonly queues = new Map<string, JobRecord[]>();
  private readonly busyTenants = new Set<string>();
  private readonly needsRecovery = new Set<string>();
  /** Per instance: the tail of the requests being admitted (validated and queued), in arrival order. */
  private readonly admissions = new Map<string, Promise<unknown>>();
  private readonly events = new EventEmitter();
  private readonly flushTimers = new Map<string, NodeJS.Timeout>();
  private readonly stopController = new AbortController();
  private readonly pruneTimer: NodeJS.Timeout;
  private active = 0;
  private stopped = false;

  constructor(private readonly opts: JobRunnerOptions) {
    for (const [kind, handler] of Object.entries(opts.handlers ?? {})) if (handler) this.define(kind as JobKind, handler);
    this.events.setMaxListeners(0);
    this.opts.store.prune(this.opts.retentionMs, this.now().getTime());
    this.pruneTimer = setInterval(() => this.opts.store.prune(this.opts.retentionMs, this.now().getTime()), 10 * 60_000);
    this.pruneTimer.unref();
  }

  /**
   * Registers the handler of a job kind (once per kind, before `boot`) and returns its typed queue.
   * Records on disk are untyped JSON: the params reach the handler as they were submitted.
   */
  define<P extends Record<string, unknown>>(kind: JobKind, handler: JobHandler<P>, definition: JobDefinition = {}): JobQueue<P> {
    if (this.definitions.has(kind)) throw new Error(`job kind ${kind} is defined twice`);
    this.definitions.set(kind, { ...definition, handler: handler as JobHandler });
    return {
      kind,
      submit: (instanceId, params, jobId) => this.submit(kind, instanceId, params, jobId),
      submitDurable: (instanceId, params, jobId, alongside) => this.submitDurable(kind, instanceId, params, jobId, alongside),
    };
  }

  /** Re-queues accepted jobs and finishes interrupted ones. Call once, after every `define`, before serving. */
  boot(): { resumed: number; interrupted: number } {
    let resumed = 0;
    let interrupted = 0;
    for (const job of this.opts.store.all()) {
      if (job.needs_recovery) this.needsRecovery.add(job.instance_id);
      if (job.status === "queued") {
        this.enqueue(job);
        resumed++;
      } else if (job.status === "running" && this.definitions.get(job.kind)?.resumable) {
        // Its own work is other jobs (durable on their own): it continues from its checkpoint.
        job.status = "queued";
        this.opts.store.save(job);
        this.enqueue(job);
        resumed++;
      } else if (job.status === "running") {
        interrupted++;
        if (job.phase === "after") {
          // The stack work finished; only a wait was lost. Report what upstream answers when not ready.
          this.finish(job, { result: job.result_if_interrupted });
        } else {
          job.needs_recovery = true;
          job.interrupted = true;
          this.needsRecovery.add(job.instance_id);
          this.finish(job, { error: { status_code: 500, detail: interruptedDetail(job) } });
        }
        this.opts.onInterrupted?.(job);
      }
    }
    this.pump();
    return { resumed, interrupted };
  }

  /** Accepts a job: durable before this returns, so a 202 is never lost. Use cases submit through their `define`d queue. */
  submit(kind: JobKind, instanceId: string, params: Record<string, unknown>, jobId: string = randomUUID()): JobRecord {
    const job = this.newJob(kind, instanceId, params, jobId);
    this.opts.store.save(job);
    this.queueNew(job);
    return job;
  }

  /**
   * `submit` for the request path under load: the record is written off the event loop, its fsyncs
   * shared with concurrent submissions (group commit). Resolves once the record is on disk,
   * directory entry included; only then is the job queued, so a 202 sent after it is never lost.
   *
   * `alongside` is another durable write the job depends on (a provision's row insert), run at the
   * same time so the request waits for one round of fsyncs instead of two: the job is queued only
   * once both landed; when `alongside` fails, the saved record is discarded again and its error is
   * thrown.
   * @throws Failure `failed` (500) when the record could not be written: nothing is queued, and no
   * later boot runs it.
   */
  async submitDurable(kind: JobKind, instanceId: string, params: Record<string, unknown>, jobId: string = randomUUID(), alongside?: Promise<unknown>): Promise<JobRecord> {
    const job = this.newJob(kind, instanceId, params, jobId);
    const [saved, other] = await Promise.allSettled([this.opts.store.saveDurable(job), alongside]);
    if (other.status === "rejected") {
      if (saved.status === "fulfilled") this.discard(job);
      throw other.reason;
    }
    if (saved.status === "rejected") {
      const err = saved.reason as Error;
      this.opts.log?.error({ job_id: jobId, kind, instance_id: instanceId, err: shortReason(err) }, "could not write the job record to disk; the request was refused");
      const code = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? "I/O error";
      throw new Failure("failed", `Job ${kind} of instance ${instanceId} was not accepted: its record could not be written to disk (${code}); see the provisioner logs, then retry`);
    }
    this.queueNew(job);
    return job;
  }

  /** A saved job whose caller is refused: it must not run, now or after a restart. */
  private discard(job: JobRecord): void {
    try {
      this.opts.store.discard(job.job_id);
    } catch (err) {
      // The disk already failed the write beside it; a restart may find this job and run it.
      this.opts.log?.error({ job_id: job.job_id, kind: job.kind, instance_id: job.instance_id, err: shortReason(err) }, "could not remove the record of a refused job; a restart may run it");
    }
  }

  private newJob(kind: JobKind, instanceId: string, params: Record<string, unknown>, jobId: string): JobRecord {
    if (!this.definitions.has(kind)) throw new Error(`job kind ${kind} has no handler`);
    if (this.stopped) throw new Failure("unavailable", "Provisioner is shutting down; retry shortly");
    return { job_id: jobId, kind, instance_id: instanceId, status: "queued", created_at: this.now().toISOString(), started_at: null, finished_at: null, progress: [], params };
  }

  /** Queues a job whose record was just saved (a durable record of a job stopping meanwhile runs at the next boot). */
  private queueNew(job: JobRecord): void {
    this.enqueue(job);
    // Started on the next turn: the job's first writes (its running record, mirror rows) then
    // follow the caller's 202 instead of delaying it.
    setImmediate(() => this.pump());
  }

  /**
   * Runs `admit` (a request's checks and row writes before its 202, ending in `submit`) after every
   * earlier admission for the same instance has queued its job or failed. Without it a re-provision
   * still awaiting its row update would be overtaken by an uninstall that arrived after it, and
   * the tenant would be re-created after the operator's uninstall.
   */
  inOrder<T>(instanceId: string, admit: () => Promise<T> | T): Promise<T> {
    const run = (this.admissions.get(instanceId) ?? Promise.resolve()).then(admit);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    this.admissions.set(instanceId, tail);
    void tail.then(() => {
      if (this.admissions.get(instanceId) === tail) this.admissions.delete(instanceId);
    });
    return run;
  }

  get(jobId: string): JobRecord | undefined {
    return this.opts.store.get(jobId);
  }

  /** Jobs newest first, optionally of one instance, kind or status. */
  list(filter: { instanceId?: string; kind?: JobKind; status?: string; limit?: number } = {}): JobRecord[] {
    const matches = this.opts.store
      .all()
      .filter((j) => (filter.instanceId === undefined || j.instance_id === filter.instanceId) && (filter.kind === undefined || j.kind === filter.kind) && (filter.status === undefined || j.status === filter.status))
      .reverse();
    return filter.limit === undefined ? matches : matches.slice(0, filter.limit);
  }

  /**
   * Resolves with the job once finished, or as it is when `timeoutMs` elapses or `signal` aborts
   * (the waiting client went away: its listener and timer must not linger for the whole wait).
   */
  wait(jobId: string, timeoutMs: number, signal?: AbortSignal): Promise<JobRecord | undefined> {
    const job = this.get(jobId);
    if (!job || isFinished(job) || timeoutMs <= 0 || signal?.aborted) return Promise.resolve(job);
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.events.off(jobId, done);
        signal?.removeEventListener("abort", done);
        resolve(this.get(jobId));
      };
      const timer = setTimeout(done, timeoutMs);
      this.events.on(jobId, done);
      signal?.addEventListener("abort", done, { once: true });
    });
  }

  counts(): Record<"queued" | "running", number> {
    let queued = 0;
    let running = 0;
    for (const job of this.opts.store.all()) {
      if (job.status === "queued") queued++;
      else if (job.status === "running") running++;
    }
    return { queued, running };
  }

  /**
   * Stops taking jobs; queued ones stay durable for the next boot. Running ones get the first part
   * of `graceMs` to finish, are then aborted, and get the rest (half, at most 10 s) to stop: an
   * aborted `pulumi up` finishes its in-flight resource operations and releases the stack lock, and
   * a process killed before that leaves the lock and pending operations for the next boot's recovery.
   */
  async stop(graceMs: number): Promise<void> {
    this.stopped = true;
    clearInterval(this.pruneTimer);
    const deadline = Date.now() + graceMs;
    const abortAt = deadline - Math.min(graceMs / 2, 10_000);
    const settle = async (until: number) => {
      while (this.counts().running > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    };
    await settle(abortAt);
    this.stopController.abort(new Error("provisioner shutting down"));
    await settle(deadline);
    for (const [id, timer] of this.flushTimers) {
      clearTimeout(timer);
      const job = this.get(id);
      if (job) this.opts.store.save(job);
    }
  }

  private enqueue(job: JobRecord): void {
    const queue = this.queues.get(job.instance_id) ?? [];
    queue.push(job);
    this.queues.set(job.instance_id, queue);
  }

  private usesGlobalSlot(job: JobRecord): boolean {
    return this.definitions.get(job.kind)?.usesGlobalSlot !== false;
  }

  /** Starts the oldest waiting heads of idle tenants while global slots are free (a job that needs none starts at once). */
  private pump(): void {
    while (!this.stopped) {
      let next: JobRecord | undefined;
      for (const [tenant, queue] of this.queues) {
        if (this.busyTenants.has(tenant) || queue.length === 0) continue;
        if (this.usesGlobalSlot(queue[0]) && this.active >= this.opts.concurrency) continue;
        if (!next || queue[0].created_at < next.created_at) next = queue[0];
      }
      if (!next) return;
      const queue = this.queues.get(next.instance_id)!;
      queue.shift();
      if (queue.length === 0) this.queues.delete(next.instance_id);
      this.start(next);
    }
  }

  private start(job: JobRecord): void {
    const definition = this.definitions.get(job.kind);
    let holdsGlobal = this.usesGlobalSlot(job);
    if (holdsGlobal) this.active++;
    this.busyTenants.add(job.instance_id);
    let holdsTenant = true;
    let abandoned = false;
    const freeGlobal = () => {
      if (!holdsGlobal) return;
      holdsGlobal = false;
      this.active--;
    };
    const release = (interimResult?: unknown) => {
      if (!holdsTenant) return;
      holdsTenant = false;
      freeGlobal();
      this.busyTenants.delete(job.instance_id);
      if (job.status === "running") {
        job.phase = "after";
        if (interimResult !== undefined) job.result_if_interrupted = interimResult;
        this.saveOrLog(job, "the end of its stack phase");
      }
      this.pump();
    };
    job.status = "running";
    job.phase = "stack";
    job.started_at = this.now().toISOString();
    this.opts.store.save(job);
    const timeoutMs = definition?.timeoutMs === undefined ? this.opts.operationTimeoutMs : definition.timeoutMs;
    const signal = timeoutMs === null ? this.stopController.signal : AbortSignal.any([AbortSignal.timeout(timeoutMs), this.stopController.signal]);
    // The abort only asks the operation to stop (SIGINT to the CLI); one that ignores it must not
    // hold its job "running" and a global slot forever. At shutdown the next boot settles the job.
    let overdue: NodeJS.Timeout | undefined;
    signal.addEventListener(
      "abort",
      () => {
        if (this.stopped) return;
        overdue = setTimeout(() => {
          if (this.stopped || isFinished(job)) return;
          abandoned = true;
          this.abandon(job);
          freeGlobal();
          this.pump();
        }, this.opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS);
        overdue.unref();
      },
      { once: true },
    );
    const ctx: JobContext = {
      job,
      params: job.params,
      onProgress: (e) => this.progress(job, e),
      release,
      signal,
      checkpoint: (state) => {
        job.state = state;
        this.opts.store.save(job);
      },
      report: (summary) => {
        job.summary = summary;
        this.scheduleFlush(job);
      },
    };
    void this.execute(job, ctx)
      .then((outcome) => {
        clearTimeout(overdue);
        // Cut off by the shutdown, a resumable job stays `running` on disk: the next boot resumes it.
        if (this.stopped && definition?.resumable) return;
        if (!abandoned) return this.finish(job, outcome);
        // Its process is gone now, so clearing the lock it may have left cannot hit a live run.
        if (job.needs_recovery) this.needsRecovery.add(job.instance_id);
        this.opts.log?.warn({ job_id: job.job_id, instance_id: job.instance_id }, "abandoned operation stopped at last; the instance's queued jobs continue");
      })
      .catch((err: unknown) => this.opts.log?.error({ job_id: job.job_id, instance_id: job.instance_id, err: shortReason(err) }, "could not record the job's outcome"))
      .finally(() => release());
  }

  /**
   * Fails a job whose operation outlived its time limit and the abort grace. The tenant's slot
   * stays held until the operation really settles: a second operation of ours on the same stack
   * while the first may still run is never safe. The record asks for recovery, so a restart (which
   * ends the stuck process) clears the stack before the tenant's next operation.
   */
  private abandon(job: JobRecord): void {
    const limit = Math.round(this.opts.operationTimeoutMs / 1000);
    const grace = Math.round((this.opts.abortGraceMs ?? DEFAULT_ABORT_GRACE_MS) / 1000);
    this.opts.log?.error(
      { job_id: job.job_id, kind: job.kind, instance_id: job.instance_id, phase: job.phase },
      "operation ignored its abort after the time limit; job failed, the instance's queue waits until it stops (restart the provisioner to end it)",
    );
    if (job.phase === "after" && job.result_if_interrupted !== undefined) {
      this.finish(job, { result: job.result_if_interrupted });
      return;
    }
    if (job.phase === "stack") job.needs_recovery = true;
    this.finish(job, {
      error: {
        status_code: 500,
        detail: `Job ${job.kind} of instance ${job.instance_id} did not stop within ${grace} s of its time limit (${limit} s); the instance's next operations wait until it stops or the provisioner restarts, then retry`,
      },
    });
  }

  private async execute(job: JobRecord, ctx: JobContext): Promise<{ result?: unknown; error?: JobError }> {
    try {
      if (this.needsRecovery.has(job.instance_id)) {
        ctx.onProgress({ at: this.now().toISOString(), message: "recovering the stack after an interrupted operation" });
        await this.opts.recover(job.instance_id);
        this.needsRecovery.delete(job.instance_id);
        for (const old of this.opts.store.all()) {
          if (old.instance_id === job.instance_id && old.needs_recovery) {
            old.needs_recovery = false;
            this.opts.store.save(old);
          }
        }
      }
      const definition = this.definitions.get(job.kind);
      if (!definition) throw new Error(`job kind ${job.kind} has no handler`);
      return { result: await definition.handler(ctx) };
    } catch (err) {
      if (err instanceof Failure) return { error: { status_code: err.statusCode, detail: err.detail } };
      this.opts.log?.error({ job_id: job.job_id, instance_id: job.instance_id, err: shortReason(err) }, "job failed unexpectedly");
      return { error: { status_code: 500, detail: `Job ${job.kind} failed unexpectedly; see provisioner logs` } };
    }
  }

  private finish(job: JobRecord, outcome: { result?: unknown; error?: JobError }): void {
    const timer = this.flushTimers.get(job.job_id);
    if (timer) clearTimeout(timer);
    this.flushTimers.delete(job.job_id);
    job.finished_at = this.now().toISOString();
    delete job.phase;
    delete job.result_if_interrupted;
    if (outcome.error) {
      job.status = "failed";
      job.error = outcome.error;
    } else {
      job.status = "succeeded";
      job.result = outcome.result;
    }
    this.opts.store.save(job);
    this.opts.log?.info({ job_id: job.job_id, kind: job.kind, instance_id: job.instance_id, status: job.status }, "job finished");
    this.opts.onFinished?.(job);
    this.events.emit(job.job_id);
  }

  /** Progress is kept bounded and written at most twice a second (status changes write at once). */
  private progress(job: JobRecord, event: ProgressEvent): void {
    job.progress.push({ at: event.at, message: event.message.slice(0, 300) });
    if (job.progress.length > MAX_PROGRESS) job.progress.splice(0, job.progress.length - MAX_PROGRESS);
    this.scheduleFlush(job);
  }

  private scheduleFlush(job: JobRecord): void {
    if (this.flushTimers.has(job.job_id)) return;
    const timer = setTimeout(() => {
      this.flushTimers.delete(job.job_id);
      if (!isFinished(job)) this.saveBehind(job);
    }, 500);
    timer.unref();
    this.flushTimers.set(job.job_id, timer);
  }

  /**
   * Progress lines are written behind, off the event loop: on a network volume a synchronous fsync
   * per flush blocked every request for its duration, several times a second during a rollout. A
   * crash may lose the last half second of them; a status change saved meanwhile (synchronously)
   * is never overwritten by this older version (atomic-file.ts orders writes per path).
   */
  private saveBehind(job: JobRecord): void {
    this.opts.store.saveDurable(job).catch((err: unknown) => {
      this.opts.log?.error({ job_id: job.job_id, instance_id: job.instance_id, err: shortReason(err) }, "could not save its progress to the job record");
    });
  }

  /**
   * Saves a record whose loss costs only detail (progress lines, the phase of a job whose stack
   * work is done): a failing disk must not throw from a timer or a release and crash the process,
   * with every other tenant's job in it. The next status change saves the record again.
   */
  private saveOrLog(job: JobRecord, what: string): void {
    try {
      this.opts.store.save(job);
    } catch (err) {
      this.opts.log?.error({ job_id: job.job_id, instance_id: job.instance_id, err: shortReason(err) }, `could not save ${what} to the job record`);
    }
  }

  private now(): Date {
    return this.opts.now ? this.opts.now() : new Date();
  }
}

export function isFinished(job: JobRecord): boolean {
  return job.status === "succeeded" || job.status === "failed";
}
