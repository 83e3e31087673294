/**
 * Values of the upstream "runtime" chart (`cluster/k8s/runtime`, chart `mindroom-runtime` 0.1.0),
 * core surface: the same keys and defaults, so an existing values file keeps working.
 *
 * Parsing follows Helm: the operator's values are deep-merged over {@link RUNTIME_DEFAULTS} (maps
 * merge key by key, lists and scalars replace, `null` clears a default), then zod checks types and
 * every upstream validation. Each failure is one line naming the value and the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { parseOrThrow, ValuesError } from "../../infra/values/errors";
import { mergeValues } from "../../infra/values/load";
import { laterList, laterStringValue, laterToggle } from "./later";

/** A raw Kubernetes object (EnvVar, Volume, Container, affinity, ...) passed through verbatim. */
const raw = z.record(z.string(), z.unknown(), { error: "must be a map (a Kubernetes object written as YAML keys)" });
type Raw = z.output<typeof raw>;

// Helm hands `null` to templates as "unset": strings read as "", booleans as false, maps and lists as empty.
const str = z.string().nullable().transform((v) => v ?? "");
const bool = z.boolean().nullable().transform((v) => v ?? false);
const int = z.number({ error: "must be a whole number (unquoted in YAML)" }).int("must be a whole number");
const count = int.min(0, "must be 0 or more");
/** TCP port numbers, as every Kubernetes port field requires. */
const port = int.min(1, "must be a port number from 1 to 65535").max(65535, "must be a port number from 1 to 65535");
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
const pullPolicy = str.pipe(z.enum(PULL_POLICIES, { error: "must be Always, IfNotPresent or Never" }));
/** Worker image pull policy: empty means the runtime image's. */
const optionalPullPolicy = str.pipe(z.enum(["", ...PULL_POLICIES], { error: "must be Always, IfNotPresent, Never or empty (the runtime image's policy)" }));
const quantity = str.pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, "must be a Kubernetes quantity such as 10Gi"));
/** Empty (the default) or a DNS label: these values become object names, label values or a namespace. */
const EMPTY_OR_DNS_LABEL = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const nameValue = str.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be lower-case letters, digits and '-' (it names Kubernetes objects), or empty"));
/** Values the chart prints into env or manifests as given; `"30"` and `30` both stay valid. */
const scalar = z.union([z.string(), z.number()]).nullable().transform((v) => (v === null ? "" : String(v)));
/** Number or percentage (PodDisruptionBudget); empty means unset. */
const intOrString = z
  .union([count, z.string().regex(/^$|^[0-9]+%?$/, "must be a whole number or a percentage such as 50%")], { error: "must be a whole number or a percentage such as 50%" })
  .nullable()
  .transform((v) => v ?? "");
const rawMap = raw.nullable().transform((v): Raw => v ?? {});
const rawList = z.array(raw, { error: "must be a list (YAML '- ' entries)" }).nullable().transform((v): Raw[] => v ?? []);
const stringMap = z
  .record(z.string(), z.string({ error: "must be a string (quote numbers and booleans)" }), { error: "must be a map of strings" })
  .nullable()
  .transform((v): Record<string, string> => v ?? {});
const stringList = z.array(z.string(), { error: "must be a list of strings" }).nullable().transform((v): string[] => v ?? []);

/**
 * An inline secret value: a plain string (from a values file or stack config) or a Pulumi Output
 * (for example `config.requireSecret(...)`). Either way it is registered as a Pulumi secret and
 * lands only in a Kubernetes Secret.
 */
const secretString = z
  .union([z.string(), z.custom<pulumi.Output<string>>((v) => pulumi.Output.isInstance(v))], {
    error: "must be a string (quote it) or a Pulumi Output<string>; in stack config set it with `pulumi config set --secret --path`",
  })
  .nullable()
  .transform((v) => v ?? "");

/** Keys the core schema does not know are an error: a typo must not silently drop behaviour. */
function obj<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}: not a value of the runtime chart's core surface; check the spelling (later features: docs/runtime.md)`
        : undefined,
  });
}

const imageSchema = obj({ repository: str, tag: scalar, digest: str, pullPolicy });

const probeSchema = obj({
  enabled: bool,
  custom: rawMap,
  path: str,
  port: z.union([z.string(), int]),
  periodSeconds: count,
  timeoutSeconds: count,
  failureThreshold: count,
});

const postgresSchema = obj({
  create: bool,
  nameOverride: str,
  selectorLabels: stringMap,
  image: obj({ repository: str, tag: scalar, pullPolicy }),
  service: obj({ port, annotations: stringMap }),
  auth: obj({ database: str, username: str, existingSecret: str, password: secretString, passwordKey: str }),
  persistence: obj({
    enabled: bool,
    volumeName: str,
    includeChartLabels: bool,
    labels: stringMap,
    accessModes: stringList,
    storageClassName: str,
    size: quantity,
  }),
  resources: rawMap,
  podAnnotations: stringMap,
  podLabels: stringMap,
  podSecurityContext: rawMap,
  securityContext: rawMap,
  nodeSelector: stringMap,
  tolerations: rawList,
  affinity: rawMap,
  networkPolicy: obj({ create: bool, name: str }),
});

const kubernetesWorkersSchema = obj({
  namespace: str.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be a namespace name (lower-case letters, digits and '-'), or empty for the release namespace")),
  image: obj({ repository: str, tag: scalar, digest: str, pullPolicy: optionalPullPolicy }),
  serviceAccount: obj({ create: bool, name: str, annotations: stringMap, automountServiceAccountToken: bool }),
  rbac: obj({ create: bool }),
  networkPolicy: obj({ create: bool, name: str }),
  port,
  readyTimeoutSeconds: scalar,
  idleTimeoutSeconds: scalar,
  reconcilePodTemplates: bool,
  namePrefix: str,
  storageSubpathPrefix: str,
  enableServiceLinks: bool,
  configMapName: str,
  configKey: str,
  configPath: str,
  ownerDeploymentName: str,
  nodeName: str,
  colocateWithControlPlaneNode: bool,
  extraEnv: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: "must be a string, number or boolean (worker env values are plain)" }))
    .nullable()
    .transform((v) => v ?? {}),
  extraLabels: stringMap,
  extraAnnotations: stringMap,
  extraContainers: rawList,
  extraVolumes: rawList,
  resources: rawMap,
  scriptResources: obj({ defaultProfile: str, profiles: rawMap }),
  agentVault: laterToggle("workers.kubernetes.agentVault"),
});

const baseSchema = obj({
  nameOverride: nameValue,
  fullnameOverride: nameValue,
  replicaCount: count,
  image: imageSchema,
  imagePullSecrets: rawList,
  deploymentAnnotations: stringMap,
  podAnnotations: stringMap,
  podLabels: stringMap,
  selectorLabels: stringMap,
  priorityClassName: str,
  nodeSelector: stringMap,
  tolerations: rawList,
  affinity: rawMap,
  topologySpreadConstraints: rawList,
  serviceAccount: obj({ create: bool, name: str, annotations: stringMap, automountServiceAccountToken: bool }),
  podSecurityContext: rawMap,
  securityContext: rawMap,
  service: obj({
    type: str.pipe(z.enum(["ClusterIP", "NodePort", "LoadBalancer"], { error: "must be ClusterIP, NodePort or LoadBalancer" })),
    port,
    annotations: stringMap,
  }),
  podDisruptionBudget: obj({ create: bool, maxUnavailable: intOrString, minAvailable: intOrString }),
  networkPolicy: obj({ create: bool, name: str, apiIngressFrom: rawList, extraIngress: rawList, extraEgress: rawList }),
  runtime: obj({ apiHost: str, apiPort: port, logLevel: str, timezone: str, timing: bool }),
  config: obj({
    source: str,
    path: str,
    create: bool,
    existingConfigMap: str,
    key: str,
    mountPath: str,
    data: str,
    bootstrapContentBundle: laterStringValue("config.bootstrapContentBundle", "name"),
    bootstrapBundlePath: laterToggle("config.bootstrapBundlePath"),
  }),
  eventCache: obj({
    backend: str,
    databaseUrlEnv: str,
    databaseUrl: obj({ existingSecret: str, key: str }),
    postgres: postgresSchema,
  }),
  storage: obj({
    create: bool,
    existingClaim: str,
    volumeName: str,
    accessModes: stringList,
    storageClassName: str,
    size: quantity,
    mountPath: str,
  }),
  env: obj({ extra: rawList, envFrom: rawList }),
  matrix: obj({
    homeserverUrl: str,
    serverName: str,
    startupTimeoutSeconds: scalar,
    managedAccountAuth: str,
    registrationToken: obj({ existingSecret: str, key: str }),
    appserviceToken: obj({ existingSecret: str, key: str }),
  }),
  resources: rawMap,
  probes: obj({ startup: probeSchema, readiness: probeSchema, liveness: probeSchema }),
  workers: obj({
    backend: str,
    cleanupIntervalSeconds: scalar,
    sandbox: obj({
      executionMode: str,
      proxyTools: str,
      proxyToken: obj({ existingSecret: str, key: str, value: secretString }),
      credentialsEncryptionKey: obj({ existingSecret: str, key: str }),
    }),
    staticRunner: obj({ port, resources: rawMap }),
    kubernetes: kubernetesWorkersSchema,
  }),
  initContainers: rawList,
  extraContainers: rawList,
  extraVolumes: rawList,
  extraVolumeMounts: rawList,
  // Later features (spec §12): accepted only while switched off, so nothing is silently dropped.
  approvedEgress: laterToggle("approvedEgress"),
  egressProxy: laterToggle("egressProxy"),
  agentVault: laterToggle("agentVault"),
  stateStorage: laterToggle("stateStorage"),
  scriptGateway: laterToggle("scriptGateway"),
  sessionStorage: laterToggle("sessionStorage"),
  knowledgeStorage: laterToggle("knowledgeStorage"),
  contentBundles: laterList("contentBundles"),
  providerCredentials: laterList("providerCredentials"),
});

/** The chart's validations (spec §11, §11a), in upstream order; the first failure wins. */
export const runtimeValuesSchema = baseSchema.superRefine((v, ctx) => {
  const fail = (path: PropertyKey[], message: string) => ctx.addIssue({ code: "custom", path, message });
  const cache = v.eventCache;
  if (cache.backend !== "postgres" && cache.backend !== "sqlite") {
    return fail(["eventCache", "backend"], `must be postgres or sqlite, got "${cache.backend}"; set eventCache.backend to postgres (default) or sqlite`);
  }
  if (cache.backend === "postgres") {
    if (!cache.databaseUrlEnv) {
      return fail(["eventCache", "databaseUrlEnv"], "is required with eventCache.backend=postgres; set it to an env name such as MINDROOM_EVENT_CACHE_DATABASE_URL");
    }
    if (cache.databaseUrlEnv !== "DATABASE_URL" && !cache.databaseUrlEnv.endsWith("_DATABASE_URL")) {
      return fail(
        ["eventCache", "databaseUrlEnv"],
        `"${cache.databaseUrlEnv}" must be DATABASE_URL or end in _DATABASE_URL (MindRoom keeps such env out of workers); use e.g. MINDROOM_EVENT_CACHE_DATABASE_URL`,
      );
    }
  }
  const matrix = v.matrix;
  if (matrix.managedAccountAuth !== "password" && matrix.managedAccountAuth !== "appservice") {
    return fail(["matrix", "managedAccountAuth"], `must be password or appservice, got "${matrix.managedAccountAuth}"; use password (default)`);
  }
  if (matrix.managedAccountAuth === "appservice" && (!matrix.appserviceToken.existingSecret || !matrix.appserviceToken.key)) {
    return fail(["matrix", "appserviceToken"], "managedAccountAuth=appservice needs matrix.appserviceToken.existingSecret and .key; set both, or use managedAccountAuth=password");
  }
  if (matrix.managedAccountAuth === "password" && matrix.appserviceToken.existingSecret) {
    return fail(["matrix", "appserviceToken", "existingSecret"], "is only used with matrix.managedAccountAuth=appservice; clear it, or switch to appservice");
  }
  if (matrix.managedAccountAuth === "appservice" && matrix.registrationToken.existingSecret) {
    return fail(["matrix", "registrationToken", "existingSecret"], "is not allowed with managedAccountAuth=appservice (appservice accounts need no registration token); clear it");
  }
  if (v.config.source !== "configMap" && v.config.source !== "file") {
    return fail(["config", "source"], `must be configMap or file, got "${v.config.source}"; use configMap (default) or file with config.path`);
  }
  if (v.config.source === "file" && !v.config.path.startsWith("/")) {
    return fail(["config", "path"], `config.source=file needs an absolute path (starting with /) to a config file inside the container, got "${v.config.path}"`);
  }
  const pg = cache.postgres;
  if (cache.backend === "postgres" && pg.create && pg.auth.existingSecret && !cache.databaseUrl.existingSecret) {
    return fail(
      ["eventCache", "postgres", "auth", "existingSecret"],
      "needs eventCache.databaseUrl.existingSecret too (a Secret with the full connection URL); otherwise the runtime gets no database URL",
    );
  }
  // Later features (spec §12) after the upstream checks, so upstream's own errors keep precedence.
  if (matrix.managedAccountAuth === "appservice") {
    return fail(["matrix", "managedAccountAuth"], "appservice is not supported yet by the runtime component (a later feature, see docs/runtime.md); use password");
  }
});

/** Fully parsed values: every key present, defaults applied, validations passed. */
export type RuntimeValues = z.output<typeof runtimeValuesSchema>;
/** What a values file may contain: the same keys, all optional. */
export type RuntimeValuesInput = DeepPartial<z.input<typeof runtimeValuesSchema>>;

type DeepPartial<T> = unknown extends T
  ? T
  : T extends pulumi.Output<unknown> | unknown[] | string | number | boolean | null | undefined
    ? T
    : { [K in keyof T]?: DeepPartial<T[K]> | null };

const profile = (cpuRequest: string, memoryRequest: string, cpuLimit: string, memoryLimit: string) => ({
  requests: { cpu: cpuRequest, memory: memoryRequest },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

/**
 * The chart's `values.yaml` (core surface) at upstream `9f69327b`. Operator values merge over it
 * the way `helm install -f` merges a values file over the chart's defaults.
 */
export const RUNTIME_DEFAULTS = {
  nameOverride: "",
  fullnameOverride: "",
  replicaCount: 1,
  image: { repository: "ghcr.io/mindroom-ai/mindroom", tag: "latest", digest: "", pullPolicy: "Always" },
  imagePullSecrets: [],
  deploymentAnnotations: {},
  podAnnotations: {},
  podLabels: {},
  // Empty means the chart's own selector; set only to adopt a Deployment whose selector is immutable.
  selectorLabels: {},
  priorityClassName: "",
  nodeSelector: {},
  tolerations: [],
  affinity: {},
  topologySpreadConstraints: [],
  // The runtime needs an API token in kubernetes worker mode, hence automount true.
  serviceAccount: { create: true, name: "", annotations: {}, automountServiceAccountToken: true },
  podSecurityContext: { fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch" },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  service: { type: "ClusterIP", port: 8765, annotations: {} },
  podDisruptionBudget: { create: false, maxUnavailable: 1, minAvailable: "" },
  networkPolicy: { create: false, name: "", apiIngressFrom: [], extraIngress: [], extraEgress: [] },
  runtime: { apiHost: "0.0.0.0", apiPort: 8765, logLevel: "INFO", timezone: "", timing: false },
  config: { source: "configMap", path: "", create: true, existingConfigMap: "", key: "config.yaml", mountPath: "/app/config.yaml", data: "" },
  eventCache: {
    // PostgreSQL by default: the Matrix event journal must survive restarts.
    backend: "postgres",
    databaseUrlEnv: "MINDROOM_EVENT_CACHE_DATABASE_URL",
    databaseUrl: { existingSecret: "", key: "" },
    postgres: {
      create: true,
      nameOverride: "",
      selectorLabels: {},
      image: { repository: "postgres", tag: "17", pullPolicy: "IfNotPresent" },
      service: { port: 5432, annotations: {} },
      auth: { database: "mindroom_cache", username: "mindroom_cache", existingSecret: "", password: "", passwordKey: "password" },
      persistence: {
        enabled: true,
        volumeName: "data",
        includeChartLabels: true,
        labels: {},
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        size: "20Gi",
      },
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      podAnnotations: {},
      podLabels: {},
      podSecurityContext: {},
      securityContext: {},
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      networkPolicy: { create: true, name: "" },
    },
  },
  storage: {
    create: true,
    existingClaim: "",
    volumeName: "storage",
    accessModes: ["ReadWriteOnce"],
    storageClassName: "",
    size: "10Gi",
    mountPath: "/app/agent_data",
  },
  env: { extra: [], envFrom: [] },
  matrix: {
    homeserverUrl: "",
    serverName: "",
    startupTimeoutSeconds: "",
    managedAccountAuth: "password",
    registrationToken: { existingSecret: "", key: "MATRIX_REGISTRATION_TOKEN" },
    appserviceToken: { existingSecret: "", key: "MATRIX_APPSERVICE_TOKEN" },
  },
  resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
  probes: {
    startup: { enabled: true, custom: {}, path: "/api/ready", port: "api", periodSeconds: 5, timeoutSeconds: 10, failureThreshold: 120 },
    readiness: { enabled: true, custom: {}, path: "/api/ready", port: "api", periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    liveness: { enabled: true, custom: {}, path: "/api/health", port: "api", periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 },
  },
  workers: {
    backend: "static_runner",
    cleanupIntervalSeconds: 30,
    sandbox: {
      executionMode: "selective",
      proxyTools: "shell,file,python",
      // Prefer existingSecret in production; value makes the component create a Secret.
      proxyToken: { existingSecret: "", key: "MINDROOM_SANDBOX_PROXY_TOKEN", value: "" },
      credentialsEncryptionKey: { existingSecret: "", key: "MINDROOM_CREDENTIALS_ENCRYPTION_KEY" },
    },
    staticRunner: { port: 8766, resources: profile("100m", "256Mi", "500m", "1Gi") },
    kubernetes: {
      namespace: "",
      image: { repository: "", tag: "", digest: "", pullPolicy: "" },
      // Worker pods run agent tool code: no Kubernetes API token for them.
      serviceAccount: { create: true, name: "", annotations: {}, automountServiceAccountToken: false },
      rbac: { create: true },
      networkPolicy: { create: true, name: "" },
      port: 8766,
      readyTimeoutSeconds: 60,
      idleTimeoutSeconds: 1800,
      reconcilePodTemplates: true,
      namePrefix: "mindroom-worker",
      storageSubpathPrefix: "workers",
      enableServiceLinks: false,
      configMapName: "",
      configKey: "",
      configPath: "",
      ownerDeploymentName: "",
      nodeName: "",
      colocateWithControlPlaneNode: false,
      extraEnv: {},
      extraLabels: {},
      extraAnnotations: {},
      extraContainers: [],
      extraVolumes: [],
      resources: profile("100m", "256Mi", "500m", "1Gi"),
      scriptResources: {
        defaultProfile: "small",
        profiles: {
          small: profile("100m", "256Mi", "500m", "1Gi"),
          standard: profile("250m", "512Mi", "1", "2Gi"),
          large: profile("500m", "2Gi", "2", "8Gi"),
        },
      },
    },
  },
  initContainers: [],
  extraContainers: [],
  extraVolumes: [],
  extraVolumeMounts: [],
} satisfies z.input<typeof runtimeValuesSchema>;

/** Release identity, as `helm install <name> --namespace <ns>` gives it. */
export interface RuntimeRelease {
  /** Release name R (default `mindroom-runtime`, as the chart README installs it). */
  name?: string;
  /** Release namespace RNS (default `mindroom`, as the chart README installs it). */
  namespace?: string;
}

export const DEFAULT_RELEASE_NAME = "mindroom-runtime";
export const DEFAULT_NAMESPACE = "mindroom";

/** The release name and namespace name every object (spec §1), so they must be DNS labels. */
export function validateRelease(release: string, namespace: string): void {
  for (const [key, value] of [["releaseName", release], ["namespace", namespace]] as const) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
      throw new ValuesError(`${key}: "${value}" must be a DNS label (lower-case letters, digits and '-', at most 63 characters); it names the runtime's objects`);
    }
  }
}

/**
 * Merges `raw` over the chart defaults and validates it. Throws a {@link ValuesError}
 * (`<prefix><path>: <what is wrong and how to fix it>`) on the first problem.
 */
export function validateRuntimeValues(raw: unknown, prefix = ""): RuntimeValues {
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ValuesError(`${prefix || "values"}: must be a map of runtime chart values`);
  }
  const merged = mergeValues(RUNTIME_DEFAULTS, (raw ?? {}) as Record<string, unknown>);
  return parseOrThrow(runtimeValuesSchema, merged, prefix);
}

/**
 * Chart values (keys verbatim, upstream defaults) to {@link MindroomRuntimeArgs}. The release name
 * defaults to `mindroom-runtime` and the namespace to `mindroom`, as the chart README installs it.
 * `prefix` is put in front of the value path in errors (e.g. `mindroom-runtime:values.`).
 */
export function parseRuntimeValues(raw: Record<string, unknown>, release: RuntimeRelease = {}, prefix = ""): MindroomRuntimeArgs {
  const values = validateRuntimeValues(raw, prefix);
  const releaseName = release.name || DEFAULT_RELEASE_NAME;
  const namespace = release.namespace || DEFAULT_NAMESPACE;
  validateRelease(releaseName, namespace);
  return { ...values, releaseName, namespace };
}

type V = RuntimeValuesInput;

/**
 * Arguments of {@link MindroomRuntime}: the runtime chart's values (every key optional, merged
 * over the chart defaults and validated when the component is constructed) plus the release identity.
 */
export interface MindroomRuntimeArgs {
  /** Release name R. Default: the component's resource name. Names every object (spec §1), so keep it stable. */
  releaseName?: string;
  /** Release namespace RNS. Default `mindroom`, as the chart README installs it; it must exist. */
  namespace?: string;
  /** Default `""` (chart name `mindroom-runtime`): replaces the chart name in names and labels. */
  nameOverride?: V["nameOverride"];
  /** Default `""`: replaces the computed fullname, e.g. to adopt objects installed under another name. */
  fullnameOverride?: V["fullnameOverride"];
  /** Default 1: the runtime keeps state on a RWO volume, so one replica with a Recreate rollout. */
  replicaCount?: V["replicaCount"];
  /** Default `ghcr.io/mindroom-ai/mindroom:latest`, pull `Always` (a moving tag must be re-pulled); pin a digest in production. */
  image?: V["image"];
  /** Default `[]`: public image. */
  imagePullSecrets?: V["imagePullSecrets"];
  /** Default `{}`. */
  deploymentAnnotations?: V["deploymentAnnotations"];
  /** Default `{}`; there is no config checksum annotation, so a config change alone does not restart the pod (upstream behaviour). */
  podAnnotations?: V["podAnnotations"];
  /** Default `{}`: extra pod labels, never part of the selector. */
  podLabels?: V["podLabels"];
  /** Default `{}` (the chart's three selector labels): set only to adopt a Deployment whose selector is immutable. */
  selectorLabels?: V["selectorLabels"];
  /** Default `""`. */
  priorityClassName?: V["priorityClassName"];
  /** Default `{}`. */
  nodeSelector?: V["nodeSelector"];
  /** Default `[]`. */
  tolerations?: V["tolerations"];
  /** Default `{}`. */
  affinity?: V["affinity"];
  /** Default `[]`. */
  topologySpreadConstraints?: V["topologySpreadConstraints"];
  /** Default create `{fullname}` with token automount on: the runtime calls the Kubernetes API in kubernetes worker mode. */
  serviceAccount?: V["serviceAccount"];
  /** Default fsGroup 1000 + OnRootMismatch, so the volume is writable by the image user without a full chown on every start. */
  podSecurityContext?: V["podSecurityContext"];
  /** Default no privilege escalation, drop ALL capabilities: the runtime needs none. */
  securityContext?: V["securityContext"];
  /** Default ClusterIP on 8765: ingress belongs to the operator's cluster. */
  service?: V["service"];
  /** Default off (one replica); when on, maxUnavailable 1 unless minAvailable is set. */
  podDisruptionBudget?: V["podDisruptionBudget"];
  /** Default off: the operator's cluster decides; when on, only the API port is admitted. */
  networkPolicy?: V["networkPolicy"];
  /** Default listen 0.0.0.0:8765, log level INFO. */
  runtime?: V["runtime"];
  /** Default a chart-created ConfigMap with a minimal config; `existingConfigMap` or `source: file` for an external one. */
  config?: V["config"];
  /** Default PostgreSQL created by the component (restart-safe event journal); `sqlite` for light installs. */
  eventCache?: V["eventCache"];
  /** Default a 10Gi RWO PVC `{fullname}-storage`; `existingClaim` to keep existing agent data. */
  storage?: V["storage"];
  /** Default none: `extra` EnvVars are appended after the chart's env, `envFrom` feeds the container. */
  env?: V["env"];
  /** Default unset: Matrix lives outside this component; the registration token only by Secret reference. */
  matrix?: V["matrix"];
  /** Default requests 250m/512Mi, limit memory 2Gi and no CPU limit (CPU bursts at startup are fine). */
  resources?: V["resources"];
  /** Default startup/readiness on /api/ready and liveness on /api/health (spec §3.3). */
  probes?: V["probes"];
  /** Default `static_runner` (sidecar); `kubernetes` for dedicated worker pods. */
  workers?: V["workers"];
  /** Default `[]`. */
  initContainers?: V["initContainers"];
  /** Default `[]`. */
  extraContainers?: V["extraContainers"];
  /** Default `[]`. */
  extraVolumes?: V["extraVolumes"];
  /** Default `[]`. */
  extraVolumeMounts?: V["extraVolumeMounts"];
  /** Later feature (rejected when enabled). */
  approvedEgress?: V["approvedEgress"];
  /** Later feature (rejected when enabled). */
  egressProxy?: V["egressProxy"];
  /** Later feature (rejected when enabled). */
  agentVault?: V["agentVault"];
  /** Later feature (rejected when enabled). */
  stateStorage?: V["stateStorage"];
  /** Later feature (rejected when enabled). */
  scriptGateway?: V["scriptGateway"];
  /** Later feature (rejected when enabled). */
  sessionStorage?: V["sessionStorage"];
  /** Later feature (rejected when enabled). */
  knowledgeStorage?: V["knowledgeStorage"];
  /** Later feature (rejected when non-empty). */
  contentBundles?: V["contentBundles"];
  /** Later feature (rejected when non-empty). */
  providerCredentials?: V["providerCredentials"];
}
