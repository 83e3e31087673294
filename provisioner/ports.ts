/**
 * The provisioner's ports: the narrow interfaces the HTTP routes and the job runner talk to.
 * Each has one real adapter (Automation API, Kubernetes API, Supabase) and an in-memory fake for
 * tests. Keep them small and stable: routes and jobs depend on them, adapters implement them.
 * Additive changes only; document every method's errors.
 */
import type { Readable } from "node:stream";

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
  tags: { customer: string; account: string; tier: string; desiredState: DesiredState; subscription?: string };
  /**
   * The operator's choices for this tenant beyond its tier (images, value overrides, opt-ins):
   * non-secret, exported as the stack output `settings` so the next re-provision or upgrade
   * starts from them (they live in the backend's state, not in the provisioner's data dir).
   */
  settings?: TenantSettings;
}

/** What an upgrade may change and a re-provision keeps (see TenantSpec.settings). */
export interface TenantSettings {
  mindroomImage?: string;
  synapseImage?: string;
  /** Chart-value overrides merged over the provisioner's values (never secret keys). */
  values?: Record<string, unknown>;
  /** The tenant opted into credentials encryption (§6.7). */
  credentialsEncryption?: boolean;
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

/** One resource a preview would change. */
export interface ResourceChange {
  /** e.g. `kubernetes:apps/v1:Deployment`. */
  type: string;
  /** The Kubernetes object name (`metadata.name`, e.g. `mindroom-7`), else the URN's last segment. */
  name: string;
  /** The engine's step: create, update, delete, replace, create-replacement, … (never `same`). */
  op: string;
  /** Top-level property paths that differ, when the engine reports them (e.g. `spec`). */
  diffs?: string[];
}

export interface PreviewResult {
  /** Steps by operation, `same` included, e.g. {same: 11, update: 1}. */
  changes: Record<string, number>;
  /** Only the resources that would change. */
  resources: ResourceChange[];
}

export interface DestroyResult {
  /** The tenant's PVCs the destroy left in the cluster (Deviation 9: always kept); empty when there was no stack. */
  keptVolumes: string[];
}

/** What `TenantStacks.changePassphrase` did. */
export interface PassphraseChange {
  /** `moved`: re-encrypted to the provisioner's passphrase; `already`: it was on it, nothing was run or written. */
  status: "moved" | "already";
}

export interface StackSummary {
  instanceId: string;
  stackName: string;
  desiredState?: DesiredState;
  tier?: string;
  account?: string;
  /** The subscription the tenant was provisioned for (a retry by subscription finds it without Supabase). */
  subscription?: string;
  lastUpdate?: string;
  resourceCount?: number;
  /** Set when the stack's tags could not be read: it is listed anyway (desiredState, tier, account unknown). */
  unreadable?: string;
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
  /**
   * `preview` of the tenant program with these values against the existing stack (refresh first,
   * so drift in the cluster shows). Changes nothing. @throws StackNotFound when there is no stack
   */
  preview(spec: TenantSpec, options?: OperationOptions): Promise<PreviewResult>;
  /**
   * `destroy` then remove the stack. The PVCs stay (Deviation 9): the caller deletes them when the
   * tenant's data must go. Missing stack → resolves with no kept volumes.
   */
  destroy(instanceId: string, options?: OperationOptions): Promise<DestroyResult>;
  /** Outputs of the last update. @throws StackNotFound */
  outputs(instanceId: string): Promise<Record<string, unknown>>;
  /**
   * Every tenant stack of this environment. `tags: false` skips the per-stack tag reads (one CLI
   * call in all; desiredState/tier/account stay unset): sync, which has them in memory, asks so.
   */
  list(options?: { tags?: boolean }): Promise<StackSummary[]>;
  /** Records the desired state on an existing stack without an update. @throws StackNotFound */
  setDesiredState(instanceId: string, state: DesiredState): Promise<void>;
  /**
   * Clears a stale lock left by this provisioner's own crashed run, then refreshes. Recovery only.
   * With a previous passphrase set, a stack not yet on the provisioner's is moved first (as by
   * `changePassphrase`), so the refresh can read it.
   */
  recover(instanceId: string): Promise<void>;
  /**
   * The first step of `recover`, without any CLI command: no process of a dead run of ours still
   * holds or writes the stack (its CLI gets a grace period, then SIGKILL; its provider plugins go),
   * and blobs it left half written are removed (file backend). The boot runs it for every stack a
   * job died in, before the stacks are listed: one such stack must not hide every tenant.
   */
  release(instanceId: string): Promise<void>;
  /**
   * Moves the stack's secrets (its checkpoint and stack config) from the previous passphrase
   * (`PULUMI_PREVIOUS_CONFIG_PASSPHRASE[_FILE]`) to the provisioner's own with `pulumi stack
   * change-secrets-provider passphrase`: the new passphrase on stdin, never in argv. A stack that
   * already opens with the provisioner's passphrase is left as it is (`already`). No resource is
   * touched. Run it in the tenant's queue. Added for the rekey (docs/rekey.md).
   * @throws StackNotFound when there is no stack
   * @throws StackBusy when another process holds the stack's lock
   * @throws EngineError when the stack opens with neither passphrase (or does not open with ours and
   *   no previous one is set), the stacks use a KMS secrets provider, or the CLI fails; redacted
   */
  changePassphrase(instanceId: string, options?: OperationOptions): Promise<PassphraseChange>;
  /** Stack name of a tenant (pure, no I/O), e.g. `instance-42`; the mirror records it as `stack_name`
   * before the stack exists, so the adapter, which owns naming, must expose it. Added by the service. */
  stackName(instanceId: string): string;
}

/**
 * Thrown when a Deployment has no pod whose log can be read (HTTP 404): the Deployment does not
 * exist, it has no pod (stopped, or not created yet), the named pod is not one of its pods, the pod
 * has no such container, or the container has not started yet. `message` says which.
 */
export class PodNotFound extends Error {
  constructor(
    readonly deployment: string,
    message: string,
  ) {
    super(message);
    this.name = "PodNotFound";
  }
}

/** What `TenantKube.podLogs` reads. */
export interface PodLogOptions {
  /** Container name within the pod (an init container works too). */
  container: string;
  /** One pod of the Deployment by name; default: the newest running pod (rolling updates have several). */
  pod?: string;
  /** Lines from the end of the log (at least 1); unset: the whole log. */
  tailLines?: number;
  /** Only lines newer than this many seconds (at least 1). */
  sinceSeconds?: number;
  /** Keep the stream open and pass new lines on as the container writes them. */
  follow?: boolean;
  /** Aborting ends the upstream request; the stream then ends without an error. */
  signal?: AbortSignal;
}

export interface PodLogStream {
  /** The pod read, e.g. `mindroom-42-7d9c5b6f4-x2x9k`. */
  pod: string;
  /**
   * The log's bytes as the kubelet sends them. Ends when the log ends (with `follow`: when the
   * container stops) or on abort; errors when the connection to the API server breaks. Destroying it
   * ends the upstream request too.
   */
  stream: Readable;
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
  /**
   * `spec.replicas` of every MindRoom Deployment (`app=mindroom`) in mindroom-instances, by name,
   * in one list call (sync reads the fleet this way, not one read per tenant). Added by sync.
   * @throws KubeApiError when the list fails (nothing is assumed about any tenant then)
   */
  mindroomReplicas(): Promise<Map<string, number>>;
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
  /**
   * Opens the log of one container of a Deployment's pod in mindroom-instances (`GET pods/log`).
   * The pods are those matching the Deployment's selector; without `options.pod`, the newest
   * running one (else the newest at all). Resolves once the API server has answered with the log,
   * so a caller can still answer with an error status before streaming. Added for the logs route.
   * @throws PodNotFound when there is no such Deployment, pod or container, or the container has not started
   * @throws KubeApiError when reading the Deployment, listing its pods or opening the log fails
   */
  podLogs(deployment: string, options: PodLogOptions): Promise<PodLogStream>;
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
  /**
   * Queue several rows as one durable write, delivered together (one request per set of columns):
   * sync's corrections over the whole fleet. Empty → nothing. Added by sync.
   */
  writeMany(rows: InstanceRow[]): Promise<void>;
  /** Read one row, or null. Throws when Supabase cannot be reached. */
  get(instanceId: string): Promise<InstanceRow | null>;
  /** Read all rows. Throws when Supabase cannot be reached. */
  list(): Promise<InstanceRow[]>;
  /** Email of an account (owner MXID, provisioner.md §6.4), or null. */
  accountEmail(accountId: string): Promise<string | null>;
  /** Writes still waiting in the outbox. */
  pending(): number;
}
