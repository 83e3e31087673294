/**
 * Job records (spec provisioner.md §4.7, §5) and the contract between the runner and the use cases
 * that own a job kind: what `GET /system/jobs/{id}` returns and what survives a restart.
 */
import type { ProgressEvent } from "../ports";

/**
 * Every job kind, each owned by one use case (which defines it on the runner):
 * provision, upgrade (ProvisioningService), uninstall (LifecycleService), preview and rollout (FleetService).
 */
export const JOB_KINDS = ["provision", "uninstall", "upgrade", "preview", "rollout", "rekey", "rekey-stack"] as const;
export type JobKind = (typeof JOB_KINDS)[number];
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

export interface JobError {
  status_code: number;
  detail: string;
}

export interface JobRecord {
  job_id: string;
  kind: JobKind;
  /** The tenant whose queue the job runs in; a fleet job (rollout) names its own queue, e.g. `fleet`. */
  instance_id: string;
  status: JobStatus;
  created_at: string;
  started_at: string | null;
  finished_at: string | null;
  /** The upstream 200 body (provision) or ActionResult (uninstall); only when succeeded. */
  result?: unknown;
  /** Only when failed. */
  error?: JobError;
  /** Newest progress lines, bounded (MAX_PROGRESS). */
  progress: ProgressEvent[];
  /** Operation input; never holds secret values (they are derived again when the job runs). */
  params: Record<string, unknown>;
  /** Counters so far of a job that drives others (a rollout), shown while it runs. */
  summary?: Record<string, unknown>;
  /** A resumable job's checkpoint (e.g. which child job a rollout started per tenant). */
  state?: Record<string, unknown>;
  /** `stack` while the tenant's slot is held, `after` once it is released (readiness wait). */
  phase?: "stack" | "after";
  /** Result to report if the process dies during the `after` phase (the stack work is done). */
  result_if_interrupted?: unknown;
  /** Set on a job interrupted mid-operation: the tenant's stack may hold our stale lock. */
  needs_recovery?: boolean;
  /** Set on a job a provisioner restart ended (a rollout retries such a child once). */
  interrupted?: boolean;
}

export const MAX_PROGRESS = 100;

/** What a job's handler gets: its record, typed params, and the runner's controls. */
export interface JobContext<P = Record<string, unknown>> {
  job: Readonly<JobRecord>;
  params: P;
  onProgress(event: ProgressEvent): void;
  /** Ends the stack phase: frees the tenant and global slots. `interimResult` is reported if the process dies afterwards. */
  release(interimResult?: unknown): void;
  /** Aborted when the operation timeout elapses or the runner stops. */
  signal: AbortSignal;
  /** Saves a resumable job's checkpoint durably (it is `job.state` when the job resumes after a restart). */
  checkpoint(state: Record<string, unknown>): void;
  /** Shows counters so far on the job record (written with the next progress flush). */
  report(summary: Record<string, unknown>): void;
}

export interface JobDefinition {
  /**
   * Whether the job takes one of the global slots (default true): stack operations do, a job that
   * only drives other jobs (a rollout) does not, or it would hold a slot its children need.
   */
  usesGlobalSlot?: boolean;
  /**
   * Whether a restart resumes the job (default false): a stack operation cut off mid-way is
   * failed and its stack recovered; a rollout picks up from its checkpoint instead.
   */
  resumable?: boolean;
  /** Per-job time limit in ms (default: the runner's operation timeout). A rollout has none of its own. */
  timeoutMs?: number | null;
}

/** A use case's handle on its job kind: submit typed params, the runner does the rest. */
export interface JobQueue<P extends Record<string, unknown>> {
  readonly kind: JobKind;
  /** Accepts a job: durable before this returns, so a 202 is never lost. */
  submit(instanceId: string, params: P, jobId?: string): JobRecord;
  /**
   * The same for the request path under load: resolves once durable, its fsyncs shared with
   * concurrent submissions, and queued only once `alongside` (a write the job depends on) landed
   * too (JobRunner.submitDurable).
   */
  submitDurable(instanceId: string, params: P, jobId?: string, alongside?: Promise<unknown>): Promise<JobRecord>;
}
