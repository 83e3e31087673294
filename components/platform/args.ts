/**
 * Arguments of the `Platform` component: the upstream platform chart's values keys verbatim
 * (platform.md §2), after parsing, plus the project's `provisioner` workload keys. Build them with
 * `parsePlatformValues(values)`; the defaults below are applied there.
 *
 * Flags that add or remove objects are plain booleans (they decide the shape of the graph).
 * Values the chart copies into the ConfigMap keep the string form the user gave (`"yes"` stays
 * `"yes"`), as Helm's `quote` does. Secret values accept a plain string or a `pulumi.Output<string>`
 * (e.g. `config.requireSecret(...)`); the component wraps them with `pulumi.secret`.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { TrustedUpstreamAuthSettings } from "../../infra/trusted-upstream";

/** A secret value: plain text from a values file, or an Output from encrypted stack config. */
export type SecretInput = string | pulumi.Output<string>;

/** Kubernetes resource requests/limits; `{}` means "no requests or limits". */
export interface ResourceRequirements {
  /** Quantities by resource name (`cpu`, `memory`); absent = none requested. */
  requests?: Record<string, string>;
  /** Quantities by resource name; absent = unlimited. */
  limits?: Record<string, string>;
}

export interface AutoscalingTarget {
  /** Lower bound of the HPA. */
  minReplicas: number;
  /** Upper bound of the HPA. */
  maxReplicas: number;
  /** Average CPU utilization (percent of requests) the HPA aims for. */
  targetCPUUtilizationPercentage: number;
}

/** Where the provisioner keeps its data directory (file backend state and job store). */
export interface ProvisionerStorageArgs {
  /**
   * Default: a PVC exactly when `backendUrl` is empty (the file backend needs durable storage).
   * Set `true` to keep the job store durable with a remote backend too; `false` uses an emptyDir.
   */
  enabled: boolean;
  /** Default `10Gi`: state files and job records are small; the size leaves years of history. */
  size: string;
  /** Default `""` = the cluster's default StorageClass; set `hcloud-volumes` on Hetzner so state survives node loss. */
  storageClassName: string;
}

/** The Express provisioner's own workload (project keys) and the upstream `provisioner.*` keys. */
export interface ProvisionerArgs {
  /** Default `""`: bearer key of `/system/*` (Secret key `provisioner_api_key`). */
  apiKey: SecretInput;
  /** Default `""`: root secret of derived tenant secrets (Secret key `instance_credentials_encryption_secret`). */
  instanceCredentialsEncryptionSecret: SecretInput;
  /** Default `""` → `domain`: tenant base domain. */
  instanceBaseDomain: string;
  /** Default `""` → the tenant component's default class; production sets `hcloud-volumes`. */
  instanceStorageClassName: string;
  /** Default `""` → the tenant component's image. */
  instanceMindroomImage: string;
  /** Default `""` → the tenant component's pull policy. */
  instanceMindroomImagePullPolicy: string;
  /** Default `""` → the tenant component's Synapse image. */
  instanceSynapseImage: string;
  /** Default `""` → the tenant component's pull policy. */
  instanceSynapseImagePullPolicy: string;
  /** Default `[]`: pull secrets tenants reference (ConfigMap, comma-joined). */
  instanceImagePullSecretNames: string[];
  /** `provisioner.trustedUpstreamAuth.*`: trusted upstream auth forwarded to tenants (ConfigMap `INSTANCE_TRUSTED_UPSTREAM_*`). */
  trustedUpstreamAuth: TrustedUpstreamAuthSettings;

  /**
   * Default `false`: the upstream chart has no separate provisioner (its backend image runs Helm),
   * so a default render equals upstream plus the deviations. The project's stacks set `true`.
   */
  enabled: boolean;
  /** Default `""` → `{registry}/mindroom-provisioner:{imageTag}`. The image must contain the Pulumi CLI and provider plugins. */
  image: string;
  /** Default `""` → `imagePullPolicy`. */
  imagePullPolicy: string;
  /**
   * Default requests 250m / 1Gi, limits 2 / 3Gi: one stack operation runs the Pulumi CLI plus a
   * Kubernetes provider process and peaks around 1-2 GiB (pulumi.md §2.10).
   */
  resources: ResourceRequirements;
  /** Default `""` → `file://{data dir}/state` on the PVC. `s3://`, `postgres://`, ... share state across hosts. */
  backendUrl: string;
  /**
   * Default `""` → generated once and kept by the provisioner Secret's state: the tenant stacks'
   * own passphrase (`PULUMI_CONFIG_PASSPHRASE`). Never the platform stack's: the provisioner is
   * internet-facing, and that passphrase opens the root stacks' secrets (docs/rekey.md).
   */
  pulumiConfigPassphrase: SecretInput;
  /**
   * Default `""`: the tenant stacks' passphrase before a move to `pulumiConfigPassphrase`
   * (`PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE`, for `POST /system/rekey`); temporary, remove it once moved.
   */
  previousPulumiConfigPassphrase: SecretInput;
  /** Default `mindroom-provisioner-secrets`: Secret holding `pulumi_config_passphrase` (and `pulumi_previous_config_passphrase` during a move; pre-created when `platformSecrets.create=false`). */
  secretName: string;
  /** Storage of the data directory `/data` (`MINDROOM_DATA_DIR`). */
  storage: ProvisionerStorageArgs;
  /** Default `{}`: extra plain env (e.g. operation limits). Secret names are rejected; secrets go through files. */
  extraEnv: Record<string, string>;
  /**
   * Default `300`: a stopping pod gets time to interrupt its Pulumi operation cleanly (SIGINT to the
   * CLI) instead of leaving a stack lock and pending operations behind (pulumi.md §2.10).
   */
  terminationGracePeriodSeconds: number;
  /** Default runAsNonRoot, uid/gid/fsGroup 1000, seccomp RuntimeDefault: the service needs no privileges; fsGroup makes the PVC and secret files readable. */
  podSecurityContext: Record<string, unknown>;
  /** Default no privilege escalation, all capabilities dropped. */
  securityContext: Record<string, unknown>;
}

export interface MatrixOidcArgs {
  /** Default `"false"`: the platform as OIDC provider for tenant Synapses is opt-in. Truthy test. */
  enabled: string;
  /** Default `""` → `https://api.{domain}/matrix-oidc`, where the backend serves it. */
  issuer: string;
  /** Default `mindroom-synapse`. */
  clientId: string;
  /** Default `""`; required when enabled and the component creates the Secret (validation 7). */
  clientSecret: SecretInput;
  /** Default `""`; required when enabled and the component creates the Secret (validation 8). */
  privateKey: SecretInput;
  /** Default `mindroom-platform`. */
  keyId: string;
}

export interface MonitoringAlertsArgs {
  /** Default `0`: any blocked IP alerts. */
  blockedIpThreshold: number;
  /** Default `5m`. */
  blockedIpFor: string;
  /** Default `5m`. */
  adminUnauthorizedWindow: string;
  /** Default `5`. */
  adminUnauthorizedThreshold: number;
  /** Default `1m`. */
  adminUnauthorizedFor: string;
  /** Default `5m`. */
  blockedRequestWindow: string;
  /** Default `10`. */
  blockedRequestThreshold: number;
  /** Default `2m`. */
  blockedRequestFor: string;
}

export interface PlatformArgs {
  /**
   * Release namespace the caller expects (`helm -n`, `render -n`). Optional; when given it must be
   * `mindroom-{environment}`, the only namespace the chart uses.
   */
  namespace?: string;
  /** Default `staging`: namespace suffix and `environment` label. Must be a DNS label. */
  environment: string;
  /** Default `mindroom.chat`: Ingress hosts, default tenant base domain and OIDC issuer. */
  domain: string;
  /** Default `ghcr.io/mindroom-ai`. */
  registry: string;
  /** Default `latest` (upstream); pin it in production. */
  imageTag: string;
  /** Default `""` → `imageTag`. */
  frontendImageTag: string;
  /** Default `""` → `imageTag`. */
  backendImageTag: string;
  /** Default `Always`, which makes the mutable `latest` tag move. */
  imagePullPolicy: string;
  /** Default `[]`. */
  imagePullSecrets: { name: string }[];
  /** Default `1`; ignored when autoscaling is on. */
  replicas: number;
  /** Container resources of the two upstream workloads. */
  resources: {
    /** Default requests 100m / 256Mi, limits 500m / 512Mi; `null` → `{}`. */
    frontend: ResourceRequirements;
    /** Default requests 250m / 512Mi, limits 1000m / 1Gi; `null` → `{}`. */
    backend: ResourceRequirements;
  };
  /** HPAs for frontend and backend (never for the provisioner: it must stay single-replica). */
  autoscaling: {
    /** Default `false`: HPAs need metrics-server and spare capacity (deployment guide). */
    enabled: boolean;
    /** Default 1-3 at 70 % CPU. */
    frontend: AutoscalingTarget;
    /** Default 1-4 at 65 % CPU. */
    backend: AutoscalingTarget;
  };
  /** The backend's daily job that scales down tenants without entitlement. */
  cleanupScheduler: {
    /** Default `"true"` → `ENABLE_CLEANUP_SCHEDULER`; empty → `"false"`. */
    enabled: string;
  };
  /** Whether the component creates the platform Secret (and the provisioner Secret). */
  platformSecrets: {
    /** Default `true`: values go to encrypted state. `false` mounts a pre-created Secret and accepts no secret values. */
    create: boolean;
    /** Default `platform-secrets`. */
    name: string;
  };
  /** Supabase project the backend and provisioner use. */
  supabase: {
    /** Default `""`. */
    url: string;
    /** Default `""` (public key, ConfigMap). */
    anonKey: string;
    /** Default `""` (service role key, Secret). */
    serviceKey: SecretInput;
  };
  /** Stripe keys of the billing webhooks. */
  stripe: {
    /** Default `""` (public key, ConfigMap). */
    publishableKey: string;
    /** Default `""`. */
    secretKey: SecretInput;
    /** Default `""`. */
    webhookSecret: SecretInput;
  };
  /** Tenant defaults forwarded by the provisioner, and the provisioner's own workload. */
  provisioner: ProvisionerArgs;
  /** The platform as OIDC provider of tenant Synapses. */
  matrixOidc: MatrixOidcArgs;
  /** Default `""` each: shared LLM provider keys (Secret). */
  apiKeys: {
    openai: SecretInput;
    anthropic: SecretInput;
    openrouter: SecretInput;
    openrouterProvisioning: SecretInput;
    google: SecretInput;
    deepseek: SecretInput;
  };
  /** Ingress `platform-ingress` options. */
  ingress: {
    /** Default `false`: many nginx installs reject snippets. */
    enableConfigurationSnippet: boolean;
    /** Default `"300"`: bounds synchronous provisioning calls through the Ingress. */
    proxyReadTimeout: string;
    /** Default `"300"`. */
    proxySendTimeout: string;
  };
  /** Ingress `platform-root-redirect`. */
  apexRedirect: {
    /** Default `false`: the production apex is a Matrix server name on another host. */
    enabled: boolean;
  };
  /** ServiceMonitor and PrometheusRule (prometheus-operator CRDs). */
  monitoring: {
    /** Default `false` (Deviation 5; upstream `true`): the objects need prometheus-operator CRDs. */
    enabled: boolean;
    /** Default `monitoring`: the release name kube-prometheus-stack selects on. */
    releaseLabel: string;
    /** Default `30s`. */
    scrapeInterval: string;
    /** Default `10s`. */
    scrapeTimeout: string;
    /** PrometheusRule thresholds (upstream defaults). */
    alerts: MonitoringAlertsArgs;
  };
}
