/**
 * The provisioner's ports: the narrow interfaces the HTTP routes and the job runner talk to.
 * Each has one real adapter (Automation API, Kubernetes API, Supabase) and an in-memory fake for
 * tests. Keep them small and stable: routes and jobs depend on them, adapters implement them.
 * Additive changes only; document every method's errors.
 */

/** Desired state recorded on the tenant stack (tags/config). Stop/start change it, provision sets running. */
export type DesiredState = "running" | "stopped";

/** Everything one `up` of a tenant stack needs. Secret values stay in memory and reach the
 * inline program through its closure (never argv, never plaintext stack config). */
export interface TenantSpec {
  /** Instance id as a string (Deviation 1); the stack name is derived from it and the environment. */
  instanceId: string;
  /** Chart-compatible values for `stacks/tenant.ts` (upstream keys verbatim), secrets included. */
  values: Record<string, unknown>;
  /** Non-secret bookkeeping recorded as stack tags. */
  tags: { customer: string; account: string; tier: string; desiredState: DesiredState };
}

/** Progress of a long stack operation, forwarded to job records (`GET /system/jobs/{id}`). */
export interface ProgressEvent {
  at: string;
  /** One short line for people, e.g. "creating kubernetes:apps/v1:Deployment mindroom-42". Never CLI output verbatim. */
  message: string;
}

export interface OperationOptions {
  onProgress?: (event: ProgressEvent) => void;
  signal?: AbortSignal;
}

export interface UpResult {
  /** Stack outputs; secret outputs are omitted or masked. */
  outputs: Record<string, unknown>;
  /** Resource changes by operation, e.g. {create: 11}. */
  changes: Record<string, number>;
}

export interface DestroyResult {
  /** PVC names left in the cluster (Deviation 9): empty when data was deleted. */
  keptVolumes: string[];
}

export interface StackSummary {
  instanceId: string;
  stackName: string;
  desiredState?: DesiredState;
  tier?: string;
  account?: string;
  lastUpdate?: string;
  resourceCount?: number;
}

/** Thrown when a tenant stack does not exist (HTTP 404). */
export class StackNotFound extends Error {
  constructor(readonly instanceId: string) {
    super(`Instance ${instanceId} has no stack`);
    this.name = "StackNotFound";
  }
}

/** Thrown when another process holds the stack's lock (ConcurrentUpdateError). */
export class StackBusy extends Error {
  constructor(readonly instanceId: string) {
    super(`Instance ${instanceId} is being changed by another operation; retry later`);
    this.name = "StackBusy";
  }
}

/** An engine failure; `message` is already redacted and safe to show (no CLI output, no secrets). */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/** Tenant stacks in the Pulumi backend. Implemented with LocalWorkspace (provisioner/stacks). */
export interface TenantStacks {
  /** Create-or-select the stack, then `up` the tenant program. Idempotent. */
  up(spec: TenantSpec, options?: OperationOptions): Promise<UpResult>;
  /** `destroy` then remove the stack. Missing stack → resolves with no kept volumes. */
  destroy(instanceId: string, deleteData: boolean, options?: OperationOptions): Promise<DestroyResult>;
  /** Outputs of the last update. @throws StackNotFound */
  outputs(instanceId: string): Promise<Record<string, unknown>>;
  /** Every tenant stack of this environment. */
  list(): Promise<StackSummary[]>;
  /** Records the desired state on an existing stack without an update. @throws StackNotFound */
  setDesiredState(instanceId: string, state: DesiredState): Promise<void>;
  /** Clears a stale lock left by this provisioner's own crashed run, then refreshes. Recovery only. */
  recover(instanceId: string): Promise<void>;
  /** Stack name of a tenant (pure, no I/O), e.g. `instance-42`; the mirror records it as `stack_name`
   * before the stack exists, so the adapter, which owns naming, must expose it. Added by the service. */
  stackName(instanceId: string): string;
}

/** Kubernetes reads and direct actions on tenant workloads (start/stop/restart, readiness, live Secret). */
export interface TenantKube {
  deploymentExists(name: string): Promise<boolean>;
  /** Patches the scale subresource. */
  scale(name: string, replicas: number): Promise<void>;
  /** Sets `kubectl.kubernetes.io/restartedAt` on the pod template, as `kubectl rollout restart`. */
  restart(name: string): Promise<void>;
  /** True when the Deployment is rolled out (provisioner.md §6.12). Missing → false. */
  isRolledOut(name: string): Promise<boolean>;
  /** Replicas of a Deployment, or null when it does not exist. */
  replicas(name: string): Promise<number | null>;
  /** Decoded string data of a Secret in mindroom-instances, or null when it does not exist. */
  readSecret(name: string): Promise<Record<string, string> | null>;
  /** `spec.storageClassName` of a PVC: null when the PVC does not exist. */
  pvcStorageClass(name: string): Promise<string | null>;
  /** Deletes a PVC; missing is fine. */
  deletePvc(name: string): Promise<void>;
  /**
   * Deletes the Helm 3 release records of `release` (e.g. `instance-42`) in mindroom-instances:
   * the Secrets labelled `owner=helm,name=<release>` whose type is `helm.sh/release.v1`
   * (`sh.helm.release.v1.<release>.v<n>`). Only the records go, never the release's objects, so
   * `helm uninstall` can no longer remove a tenant the stack has adopted (spec §6.11). Secrets of
   * any other type are left alone even when their labels match. Resolves with the deleted names;
   * none → []. Added by the provisioning service.
   * @throws KubeApiError when listing or deleting fails (a record already gone counts as deleted by someone else and is skipped)
   */
  deleteHelmReleaseRecords(release: string): Promise<string[]>;
}

/** Status values of the `instances` table (upstream CHECK constraint). */
export type InstanceStatus = "provisioning" | "running" | "stopped" | "error" | "deprovisioned" | "restarting";

/** The columns of `instances` the provisioner writes (spec provisioner.md §10.1), plus the project's. */
export interface InstanceRow {
  instance_id: number | string;
  account_id?: string | null;
  subscription_id?: string | null;
  status?: InstanceStatus;
  tier?: string | null;
  instance_url?: string | null;
  frontend_url?: string | null;
  backend_url?: string | null;
  api_url?: string | null;
  matrix_url?: string | null;
  matrix_server_url?: string | null;
  openrouter_key_hash?: string | null;
  openrouter_key_label?: string | null;
  openrouter_key_limit_usd?: number | null;
  openrouter_key_limit_reset?: string | null;
  openrouter_key_created_at?: string | null;
  kubernetes_synced_at?: string | null;
  /** Project columns. */
  stack_name?: string | null;
  last_job_id?: string | null;
  last_error?: string | null;
  created_at?: string;
  updated_at?: string;
}

/**
 * The Supabase mirror of tenant status. Writes are durable: they go to an outbox first and are
 * retried until Supabase accepts them, so `write` never fails because Supabase is down.
 */
export interface InstanceMirror {
  /** False when SUPABASE_URL is unset (mirror off). */
  readonly enabled: boolean;
  /** Queue an upsert of the row keyed by instance_id; resolves once it is durably queued. */
  write(row: InstanceRow): Promise<void>;
  /** Read one row, or null. Throws when Supabase cannot be reached. */
  get(instanceId: string): Promise<InstanceRow | null>;
  /** Read all rows. Throws when Supabase cannot be reached. */
  list(): Promise<InstanceRow[]>;
  /** Email of an account (owner MXID, provisioner.md §6.4), or null. */
  accountEmail(accountId: string): Promise<string | null>;
  /** Writes still waiting in the outbox. */
  pending(): number;
}
