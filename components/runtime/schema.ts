/**
 * The runtime chart's values as a zod schema (core surface): the same keys as upstream's
 * `values.yaml`, every upstream validation (spec §11, §11a), and the later features (spec §12)
 * accepted only while switched off.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { count, EMPTY_OR_DNS_LABEL, int, intOrPercent, nameValue, nullableBool, nullableString, nullableStringList, nullableStringMap, nullableText, port, pullPolicy, quantity, rawList, rawMap } from "../../infra/values/fields";
import { emptyOrPullPolicy, inlineSecret, obj } from "./values-map";
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

const imageSchema = obj({ repository: nullableString, tag: nullableText, digest: nullableString, pullPolicy });

const probeSchema = obj({
  enabled: nullableBool,
  custom: rawMap,
  path: nullableString,
  port: z.union([z.string(), int]),
  periodSeconds: count,
  timeoutSeconds: count,
  failureThreshold: count,
});

const postgresSchema = obj({
  create: nullableBool,
  nameOverride: nullableString,
  selectorLabels: nullableStringMap,
  image: obj({ repository: nullableString, tag: nullableText, pullPolicy }),
  service: obj({ port, annotations: nullableStringMap }),
  auth: obj({ database: nullableString, username: nullableString, existingSecret: nullableString, password: inlineSecret, passwordKey: nullableString }),
  persistence: obj({
    enabled: nullableBool,
    volumeName: nullableString,
    includeChartLabels: nullableBool,
    labels: nullableStringMap,
    accessModes: nullableStringList,
    storageClassName: nullableString,
    size: quantity,
  }),
  resources: rawMap,
  podAnnotations: nullableStringMap,
  podLabels: nullableStringMap,
  podSecurityContext: rawMap,
  securityContext: rawMap,
  nodeSelector: nullableStringMap,
  tolerations: rawList,
  affinity: rawMap,
  networkPolicy: obj({ create: nullableBool, name: nullableString }),
});

const kubernetesWorkersSchema = obj({
  namespace: nullableString.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be a namespace name (lower-case letters, digits and '-'), or empty for the release namespace")),
  image: obj({ repository: nullableString, tag: nullableText, digest: nullableString, pullPolicy: emptyOrPullPolicy }),
  serviceAccount: obj({ create: nullableBool, name: nullableString, annotations: nullableStringMap, automountServiceAccountToken: nullableBool }),
  rbac: obj({ create: nullableBool }),
  networkPolicy: obj({ create: nullableBool, name: nullableString }),
  port,
  readyTimeoutSeconds: nullableText,
  idleTimeoutSeconds: nullableText,
  reconcilePodTemplates: nullableBool,
  namePrefix: nullableString,
  storageSubpathPrefix: nullableString,
  enableServiceLinks: nullableBool,
  configMapName: nullableString,
  configKey: nullableString,
  configPath: nullableString,
  ownerDeploymentName: nullableString,
  nodeName: nullableString,
  colocateWithControlPlaneNode: nullableBool,
  extraEnv: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()], { error: "must be a string, number or boolean (worker env values are plain)" }))
    .nullable()
    .transform((v) => v ?? {}),
  extraLabels: nullableStringMap,
  extraAnnotations: nullableStringMap,
  extraContainers: rawList,
  extraVolumes: rawList,
  resources: rawMap,
  scriptResources: obj({ defaultProfile: nullableString, profiles: rawMap }),
  agentVault: agentVaultSchema,
});

const baseSchema = obj({
  nameOverride: nameValue,
  fullnameOverride: nameValue,
  replicaCount: count,
  image: imageSchema,
  imagePullSecrets: rawList,
  deploymentAnnotations: nullableStringMap,
  podAnnotations: nullableStringMap,
  podLabels: nullableStringMap,
  selectorLabels: nullableStringMap,
  priorityClassName: nullableString,
  nodeSelector: nullableStringMap,
  tolerations: rawList,
  affinity: rawMap,
  topologySpreadConstraints: rawList,
  serviceAccount: obj({ create: nullableBool, name: nullableString, annotations: nullableStringMap, automountServiceAccountToken: nullableBool }),
  podSecurityContext: rawMap,
  securityContext: rawMap,
  service: obj({
    type: nullableString.pipe(z.enum(["ClusterIP", "NodePort", "LoadBalancer"], { error: "must be ClusterIP, NodePort or LoadBalancer" })),
    port,
    annotations: nullableStringMap,
  }),
  podDisruptionBudget: obj({ create: nullableBool, maxUnavailable: intOrPercent, minAvailable: intOrPercent }),
  networkPolicy: obj({ create: nullableBool, name: nullableString, apiIngressFrom: rawList, extraIngress: rawList, extraEgress: rawList }),
  runtime: obj({ apiHost: nullableString, apiPort: port, logLevel: nullableString, timezone: nullableString, timing: nullableBool }),
  config: obj({
    source: nullableString,
    path: nullableString,
    create: nullableBool,
    existingConfigMap: nullableString,
    key: nullableString,
    mountPath: nullableString,
    data: nullableString,
    bootstrapContentBundle: notInChart("config.bootstrapContentBundle", "name"),
    bootstrapBundlePath: notInChart("config.bootstrapBundlePath"),
  }),
  eventCache: obj({
    backend: nullableString,
    databaseUrlEnv: nullableString,
    databaseUrl: obj({ existingSecret: nullableString, key: nullableString }),
    postgres: postgresSchema,
  }),
  storage: obj({
    create: nullableBool,
    existingClaim: nullableString,
    volumeName: nullableString,
    accessModes: nullableStringList,
    storageClassName: nullableString,
    size: quantity,
    mountPath: nullableString,
  }),
  stateStorage: stateStorageSchema,
  contentBundles: contentBundlesSchema,
  providerCredentials: providerCredentialsSchema,
  env: obj({ extra: rawList, envFrom: rawList }),
  matrix: obj({
    homeserverUrl: nullableString,
    serverName: nullableString,
    startupTimeoutSeconds: nullableText,
    managedAccountAuth: nullableString,
    registrationToken: obj({ existingSecret: nullableString, key: nullableString }),
    appserviceToken: obj({ existingSecret: nullableString, key: nullableString }),
  }),
  resources: rawMap,
  probes: obj({ startup: probeSchema, readiness: probeSchema, liveness: probeSchema }),
  workers: obj({
    backend: nullableString,
    cleanupIntervalSeconds: nullableText,
    sandbox: obj({
      executionMode: nullableString,
      proxyTools: nullableString,
      proxyToken: obj({ existingSecret: nullableString, key: nullableString, value: inlineSecret }),
      credentialsEncryptionKey: obj({ existingSecret: nullableString, key: nullableString }),
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
