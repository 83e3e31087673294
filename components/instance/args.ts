/**
 * Arguments of {@link MindroomInstance}: the upstream "instance" chart values, one to one, with
 * snake_case keys in camelCase (`mindroom_image` → `mindroomImage`). Defaults are the chart's, so a
 * tenant that moves from Helm to Pulumi renders the same objects. Values files use the upstream
 * keys verbatim; `parseInstanceValues` (values.ts) parses them into these args, renaming the
 * snake_case ones by its `ARG_NAMES` table.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { TrustedUpstreamAuthSettings } from "../../infra/trusted-upstream";
import type { ResourcesOverDefault } from "../../infra/values/fields";

/** Kubernetes container resources (`requests`/`limits`), exactly as they appear in a pod spec. */
export interface ContainerResources {
  requests?: Record<string, string | number>;
  limits?: Record<string, string | number>;
}

/** A chart flag: upstream compares the lower-cased string form, so `"true"`, `true`, `"1"`, `"on"` … */
export type Flag = boolean | string;

export interface MatrixOidcArgs {
  /** Default `"false"`. Synapse OIDC is rendered only for exactly `true` (string or bool), as upstream (§10). */
  enabled?: Flag;
  /** Default `""`; required when OIDC is on (the platform's `https://api.{domain}/matrix-oidc`). */
  issuer?: string;
  /** Default `mindroom-synapse`, the client the platform registers; required when OIDC is on. */
  clientId?: string;
  /** Default `""`. Secret: tenant Secret key `matrix_oidc_client_secret`, read by Synapse from a file. */
  clientSecret?: pulumi.Input<string>;
}

export interface MatrixRoomAccessArgs {
  /** Default `single_user_private`: rooms stay private to the tenant owner unless configured. */
  mode?: string;
  /** Default `public`. */
  multiUserJoinRule?: string;
  /** Default `false`. */
  publishToRoomDirectory?: boolean;
  /** Default `[]`. */
  inviteOnlyRooms?: string[];
  /** Default `false`: existing rooms keep their settings unless asked. */
  reconcileExistingRooms?: boolean;
}

export interface InstanceSecretsArgs {
  /** Default `true` (truthy test): the component owns the tenant Secret (Deviation 6). `false` mounts an operator-managed Secret. */
  create?: Flag;
  /** Default `""` → `mindroom-api-keys-{customer}`, the name the provisioner and pods expect. */
  name?: string;
  /** Default `""` → computed from the secret values. The provisioner passes its own rollout hash (plain, not secret). */
  hash?: string;
}

/**
 * `trustedUpstreamAuth.*`: the settings documented on {@link TrustedUpstreamAuthSettings} (defaults
 * and why), each optional; absent means its default.
 */
export type TrustedUpstreamAuthArgs = Partial<Omit<TrustedUpstreamAuthSettings, "enabled" | "requireJwt">> & {
  /** Default `"false"` (truthy test); a boolean works too. See {@link TrustedUpstreamAuthSettings.enabled}. */
  enabled?: Flag;
  /** Default `"false"` (truthy test); a boolean works too. See {@link TrustedUpstreamAuthSettings.requireJwt}. */
  requireJwt?: Flag;
};

export interface MindroomInstanceArgs {
  /**
   * Tenant id (chart default `demo`); string or number. Its string form names every object, label
   * and host (Deviation 1), so it must be a DNS-1123 label of at most 54 characters.
   */
  customer: string | number;
  /** Default `mindroom.chat`. Hosts `{c}.{bd}`, `{c}.api.{bd}`, `{c}.matrix.{bd}` and the Matrix server name. */
  baseDomain?: string;
  /** Not declared upstream; becomes env `ACCOUNT_ID` (empty when unset) and is part of the config hash. */
  accountId?: string | number;
  /** Default `10Gi`; the size of BOTH PVCs, as upstream. */
  storage?: string;
  /** Default `hcloud-volumes`; always emitted, so `""` means "no class" (not "cluster default"). */
  storageClassName?: string;
  /** Default `ReadWriteOnce` (Hetzner volumes are RWO). Kubernetes workers need `ReadWriteMany` or a node pin. */
  storageAccessMode?: string;
  /** Default `ReadWriteOnce`. */
  synapseStorageAccessMode?: string;
  /** Default `/mindroom_data`; also `HOME`, `MINDROOM_STORAGE_PATH` and the worker mount path. */
  storagePath?: string;
  /**
   * Default requests 250m/512Mi, limits 1000m/2Gi; `null` renders `resources: {}` as upstream. A map
   * merges over the default as Helm coalesces values (`{requests: {cpu: "500m"}}` keeps the other
   * defaults; a `null` inside removes that default key).
   */
  mindroomResources?: ResourcesOverDefault | null;
  /** Default requests 250m/512Mi, limits 1000m/2Gi; `null` renders `resources: {}`; a map merges as for `mindroomResources`. */
  synapseResources?: ResourcesOverDefault | null;
  /** Default requests 100m/256Mi, limits 500m/1Gi (static sidecar only); `null` renders `resources: {}`; a map merges as for `mindroomResources`. */
  sandboxRunnerResources?: ResourcesOverDefault | null;
  /**
   * Project key, default `2Gi` (upstream: unbounded): `sizeLimit` of the static sidecar's
   * `sandbox-workspace` emptyDir, where agents' shell and python write. It lives on the node's disk,
   * which every tenant on the node shares; past the limit the kubelet evicts the MindRoom pod (and
   * the scratch files go) instead of one tenant filling the disk and the node evicting everyone.
   */
  sandboxWorkspaceSizeLimit?: string;
  /** Default `ghcr.io/mindroom-ai/mindroom:latest`: runtime, init container, sidecar and default worker image. */
  mindroomImage?: string;
  /** Default `Always` (the default image is a moving `latest` tag). */
  mindroomImagePullPolicy?: string;
  /** Default `matrixdotorg/synapse:latest`. */
  synapseImage?: string;
  /** Default `Always`. */
  synapseImagePullPolicy?: string;
  /**
   * Project arg (Deviation 2), default `false`: the stock Synapse image starts as root and drops to
   * uid 991 itself. Set `true` only for an image that starts non-root; adds `runAsNonRoot` and drops ALL capabilities.
   */
  synapseImageRunsAsNonRoot?: boolean;
  /** Default `[]`; on the MindRoom pod and (kubernetes mode) the worker-manager ServiceAccount; not on Synapse (as upstream). */
  imagePullSecrets?: { name: string }[];
  matrixOidc?: MatrixOidcArgs;
  /** Default `[]`; replaces `authorization.global_users` of the seed config. */
  authorizationGlobalUsers?: string[];
  /**
   * Project key, default `""` → the project's `components/instance/seed-config.yaml`: the path of a
   * MindRoom `config.yaml` (on the machine that runs the program; relative to its working directory)
   * that seeds the tenant instead, e.g. the catalogue a MindRoom release ships. The two per-tenant
   * overrides still replace its `authorization.global_users` and `matrix_room_access`. It must be a
   * YAML map with the `models` and `agents` maps the runtime requires.
   */
  seedConfigPath?: string;
  matrixRoomAccess?: MatrixRoomAccessArgs;
  /** Default `[]`; Synapse `auto_join_rooms` (only with OIDC on). */
  matrixAutoJoinRoomKeys?: string[];
  /** Default `0` (wait for Matrix forever). */
  matrixHomeserverStartupTimeoutSeconds?: number | string;
  /** Default `static_runner` (sidecar); `kubernetes` runs dedicated worker pods. Not enum-checked, as upstream. */
  workerBackend?: string;
  /** Default `30`. */
  workerCleanupIntervalSeconds?: number | string;
  /** Default `""`. Pins the MindRoom pod (`nodeName`) and the workers to one node, for RWO storage. */
  controlPlaneNodeName?: string;
  /**
   * Default `false`. Project value (upstream always renders one replica): `true` renders both
   * Deployments at 0 replicas, so re-applying a stopped tenant (a fleet upgrade) keeps it stopped
   * instead of starting it. The provisioner sets it from the tenant's desired state.
   */
  stopped?: boolean;
  /** Default `""` → `mindroomImage`. */
  kubernetesWorkerImage?: string;
  /** Default `""` → `mindroomImagePullPolicy`. */
  kubernetesWorkerImagePullPolicy?: string;
  /** Default `""` → `default`. */
  kubernetesWorkerServiceAccountName?: string;
  /**
   * Default `mindroom-worker-{customer}` (upstream: `mindroom-worker`, shared by every tenant): worker
   * names are `{prefix}-{24 hex}` in the shared namespace, so each tenant gets its own prefix and the
   * worker admission policy admits only names under it. In kubernetes mode it must be a DNS label of
   * at most 38 characters. Two tenants must never be given the same prefix.
   */
  kubernetesWorkerNamePrefix?: string;
  /** Default `workers`. */
  kubernetesWorkerStorageSubpathPrefix?: string;
  /** Default `8766`, the runtime's runner port; the NetworkPolicy opens it in kubernetes mode. */
  kubernetesWorkerPort?: number | string;
  /** Default `60`. */
  kubernetesWorkerReadyTimeoutSeconds?: number | string;
  /** Default `1800`. */
  kubernetesWorkerIdleTimeoutSeconds?: number | string;
  /** Default `false`: worker pods do not get service-link env. */
  kubernetesWorkerEnableServiceLinks?: Flag;
  instanceSecrets?: InstanceSecretsArgs;
  /** Secret, default `""`. */
  openaiKey?: pulumi.Input<string>;
  /** Secret, default `""`. */
  anthropicKey?: pulumi.Input<string>;
  /** Secret, default `""`. */
  googleKey?: pulumi.Input<string>;
  /** Secret, default `""`. */
  openrouterKey?: pulumi.Input<string>;
  /** Secret, default `""`. */
  deepseekKey?: pulumi.Input<string>;
  /** Secret, default `""`: shared sandbox token (worker tokens are derived from it). */
  sandboxProxyToken?: pulumi.Input<string>;
  /** Secret, default `""` (credential encryption off). */
  credentialsEncryptionKey?: pulumi.Input<string>;
  /**
   * Secret, default `""` → `matrixAdminPassword` → a 48-character value generated in-process, which
   * changes on every `up` (a warning says so): give it. The provisioner always does (derived from its
   * root secret); the Synapse macaroon/form secrets derive from it.
   */
  matrixRegistrationSharedSecret?: pulumi.Input<string>;
  /** Default `""`; plain env `SUPABASE_URL`. */
  supabaseUrl?: string;
  /** Default `""`; plain env `SUPABASE_ANON_KEY` (a public key). */
  supabaseAnonKey?: string;
  /** Secret, default `""`: tenant Secret key `supabase_service_key`. */
  supabaseServiceKey?: pulumi.Input<string>;
  trustedUpstreamAuth?: TrustedUpstreamAuthArgs;
  /** Secret, default `""`: legacy fallback for the registration secret, macaroon key and form secret. */
  matrixAdminPassword?: pulumi.Input<string>;
  /**
   * Project key, secret, default `""` → `matrixAdminPassword` → HMAC-SHA256 of the registration
   * secret (label `synapse-macaroon`, 32 hex characters): Synapse `macaroon_secret_key`. Set it to
   * keep a tenant's existing value (its `synapse-config-{c}` ConfigMap, `homeserver.yaml`).
   */
  synapseMacaroonSecretKey?: pulumi.Input<string>;
  /** Project key, secret, default `""` → `matrixAdminPassword` → derived (label `synapse-form`): Synapse `form_secret`. */
  synapseFormSecret?: pulumi.Input<string>;
  /**
   * Deviation 9, default `true`: destroying the stack leaves both PVCs (and their volumes) in the
   * cluster, so an uninstall never loses tenant data by accident. `false` lets destroy delete them.
   * The tenant Secret is always kept: kept volumes need its credentials key.
   */
  retainData?: boolean;
}
