/** Job records (spec provisioner.md §4.7, §5): what `GET /system/jobs/{id}` returns and what survives a restart. */
import type { ProgressEvent } from "../ports";

export type JobKind = "provision" | "uninstall";
export type JobStatus = "queued" | "running" | "succeeded" | "failed";

export interface JobError {
  status_code: number;
  detail: string;
}

export interface JobRecord {
  job_id: string;
  kind: JobKind;
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
  /** `stack` while the tenant's slot is held, `after` once it is released (readiness wait). */
  phase?: "stack" | "after";
  /** Result to report if the process dies during the `after` phase (the stack work is done). */
  result_if_interrupted?: unknown;
  /** Set on a job interrupted mid-operation: the tenant's stack may hold our stale lock. */
  needs_recovery?: boolean;
}

export const MAX_PROGRESS = 100;
