/**
 * The runtime chart's values as a zod schema (core surface): the same keys as upstream's
 * `values.yaml`, every upstream validation (spec §11, §11a), and the later features (spec §12)
 * accepted only while switched off.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { bool, count, EMPTY_OR_DNS_LABEL, int, intOrString, nameValue, obj, optionalPullPolicy, port, pullPolicy, quantity, rawList, rawMap, scalar, secretString, str, stringList, stringMap } from "./fields";
import { laterToggle } from "./later";
import { checkContentBundles, contentBundlesSchema } from "./schema-content-bundles";
import { checkEgressProxy, egressProxySchema } from "./schema-egress-proxy";
import { checkProviderCredentials, providerCredentialsSchema, SECRET_KEY } from "./schema-provider-credentials";
import { checkStateStorage, stateStorageSchema } from "./schema-state-storage";
// approvedEgress, agentVault (issue 11)
import { approvedEgressIssue, approvedEgressSchema } from "./schema-approved-egress";
import { agentVaultIssue, agentVaultSchema, topLevelAgentVault } from "./schema-agent-vault";

/**
 * Keys some values files carry that upstream's runtime chart (9f69327b) does not read: accepted
 * while empty, an error when set, because nothing here could honour them.
 */
function notInChart(key: string, field?: string) {
  return z
    .unknown()
    .optional()
    .superRefine((v, ctx) => {
      const value = field && typeof v === "object" && v !== null ? (v as Record<string, unknown>)[field] : v;
      if (value !== undefined && value !== null && value !== "" && value !== false) {
        ctx.addIssue({
          code: "custom",
          path: field ? [field] : [],
          message: `is not a value of upstream's runtime chart (no template reads ${field ? `${key}.${field}` : key}); copy the config with contentBundles, set config.source=file and config.path, and remove this key`,
        });
      }
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
  agentVault: agentVaultSchema,
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
    bootstrapContentBundle: notInChart("config.bootstrapContentBundle", "name"),
    bootstrapBundlePath: notInChart("config.bootstrapBundlePath"),
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
  stateStorage: stateStorageSchema,
  contentBundles: contentBundlesSchema,
  providerCredentials: providerCredentialsSchema,
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
  approvedEgress: approvedEgressSchema,
  egressProxy: egressProxySchema,
  // Not a chart key: an error pointing at workers.kubernetes.agentVault when set.
  agentVault: topLevelAgentVault,
  scriptGateway: laterToggle("scriptGateway"),
  sessionStorage: laterToggle("sessionStorage"),
  knowledgeStorage: laterToggle("knowledgeStorage"),
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
  if (matrix.managedAccountAuth === "appservice" && !SECRET_KEY.test(matrix.appserviceToken.key)) {
    return fail(["matrix", "appserviceToken", "key"], `"${matrix.appserviceToken.key}" must be a Secret key (letters, digits, '-', '_' and '.'); it is also the token's file name`);
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
  // Upstream's feature checks, in validate.yaml's order.
  if (checkStateStorage(v.stateStorage, v.storage, fail)) return;
  if (checkContentBundles(v.contentBundles, v.storage.mountPath, fail)) return;
  if (checkProviderCredentials(v.providerCredentials, v.env.extra, fail)) return;
  if (checkEgressProxy(v.egressProxy, { backend: v.workers.backend, workerPolicy: v.workers.kubernetes.networkPolicy.create, approvedEgress: v.approvedEgress.enabled }, fail)) return;
  // approvedEgress, then agentVault: validate.yaml's last two blocks.
  if (approvedEgressIssue({ approvedEgress: v.approvedEgress, proxyToken: v.workers.sandbox.proxyToken, egressPolicy: v.egressProxy.networkPolicy.create }, fail)) return;
  const agentVault = { agentVault: v.workers.kubernetes.agentVault, approvedEgress: v.approvedEgress, kubernetesWorkers: v.workers.backend === "kubernetes" };
  if (agentVaultIssue(agentVault, fail)) return;
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
