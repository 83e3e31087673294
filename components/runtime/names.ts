/**
 * Names, labels, images and the references every object agrees on (spec §1, §4, §5, §7, §11a).
 * Names are a contract: workers, RBAC, NetworkPolicies and Helm migrations depend on them.
 */
import type { RuntimeValues } from "./schema";

export const CHART_NAME = "mindroom-runtime";
export const APP_VERSION = "0.0.0";
/** `app.kubernetes.io/managed-by`: Helm wrote `Helm`; no selector uses it. */
export const MANAGED_BY = "pulumi";

export type Labels = Record<string, string>;

/** Helm's `trunc 63 | trimSuffix "-"`. */
export function dnsTrunc(name: string): string {
  return name.slice(0, 63).replace(/-$/, "");
}

/** A reference to one key of a Secret. */
export interface SecretKeyRef {
  name: string;
  key: string;
}

/** Everything derived from the values and the release that more than one object needs. */
export interface RuntimeNames {
  release: string;
  /** RNS */
  namespace: string;
  name: string;
  fullname: string;
  labels: Labels;
  selectorLabels: Labels;
  image: string;
  serviceAccountName: string;
  usesConfigMap: boolean;
  configMapName: string;
  configPath: string;
  storageClaimName: string;
  /** The agent-data volume in the pod (`storage.volumeName`, default `storage`). */
  storageVolumeName: string;
  /** Dedicated state PVC (`stateStorage`), when enabled. */
  stateStorage?: { claimName: string; volumeName: string; createsClaim: boolean };
  kubernetesWorkers: boolean;
  staticRunner: boolean;
  /** WNS */
  workerNamespace: string;
  /** `{fullname}-worker-auth`, only for kubernetes workers in the release namespace. */
  workerAuthSecretName?: string;
  workerServiceAccountName: string;
  workerImage: string;
  workerManagerName: string;
  proxyToken?: SecretKeyRef;
  credentialsKey?: SecretKeyRef;
  registrationToken?: SecretKeyRef;
  /** Appservice token (`matrix.appserviceToken`), mounted as a file; only with `managedAccountAuth=appservice`. */
  appserviceToken?: SecretKeyRef;
  /** Chart-managed event-journal PostgreSQL (§11a), when it is rendered. */
  postgres?: { name: string; secretName: string; passwordSecret: SecretKeyRef; selectorLabels: Labels; createsSecret: boolean };
  databaseUrl?: SecretKeyRef;
}

function imageRef(repository: string, tag: string, digest: string): string {
  return digest ? `${repository}:${tag}@${digest}` : `${repository}:${tag}`;
}

export function runtimeNames(v: RuntimeValues, release: string, namespace: string): RuntimeNames {
  const name = dnsTrunc(v.nameOverride || CHART_NAME);
  const chartName = v.nameOverride || CHART_NAME;
  const fullname = v.fullnameOverride
    ? dnsTrunc(v.fullnameOverride)
    : release.includes(chartName)
      ? dnsTrunc(release)
      : dnsTrunc(`${release}-${chartName}`);
  const labels: Labels = {
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": release,
    "app.kubernetes.io/version": APP_VERSION,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  };
  const selectorLabels: Labels = Object.keys(v.selectorLabels).length > 0
    ? { ...v.selectorLabels }
    : { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "runtime" };

  const tag = v.image.tag || APP_VERSION;
  const image = imageRef(v.image.repository, tag, v.image.digest);
  const wk = v.workers.kubernetes;
  const workerImage = wk.image.repository
    ? imageRef(wk.image.repository, wk.image.tag || v.image.tag || APP_VERSION, wk.image.digest || v.image.digest)
    : image;

  const kubernetesWorkers = v.workers.backend === "kubernetes";
  const workerNamespace = wk.namespace || namespace;
  const usesConfigMap = v.config.source === "configMap";

  const proxy = v.workers.sandbox.proxyToken;
  const proxyTokenName = proxy.existingSecret || (proxy.value !== "" ? `${fullname}-sandbox-proxy` : "");
  const creds = v.workers.sandbox.credentialsEncryptionKey;
  const reg = v.matrix.registrationToken;
  const appservice = v.matrix.appserviceToken;
  const state = v.stateStorage;

  const cache = v.eventCache;
  const pgValues = cache.postgres;
  let postgres: RuntimeNames["postgres"];
  if (cache.backend === "postgres" && pgValues.create) {
    const pgName = pgValues.nameOverride || dnsTrunc(`${fullname}-event-cache-postgres`);
    const secretName = dnsTrunc(`${pgName}-auth`);
    postgres = {
      name: pgName,
      secretName,
      passwordSecret: { name: pgValues.auth.existingSecret || secretName, key: pgValues.auth.passwordKey },
      selectorLabels: Object.keys(pgValues.selectorLabels).length > 0
        ? { ...pgValues.selectorLabels }
        : { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": release, "app.kubernetes.io/component": "event-cache-postgres" },
      createsSecret: !pgValues.auth.existingSecret,
    };
  }
  const databaseUrlKey = cache.databaseUrl.key || cache.databaseUrlEnv;
  let databaseUrl: SecretKeyRef | undefined;
  if (cache.backend === "postgres") {
    if (cache.databaseUrl.existingSecret) databaseUrl = { name: cache.databaseUrl.existingSecret, key: databaseUrlKey };
    else if (postgres?.createsSecret) databaseUrl = { name: postgres.secretName, key: databaseUrlKey };
  }

  return {
    release,
    namespace,
    name,
    fullname,
    labels,
    selectorLabels,
    image,
    serviceAccountName: v.serviceAccount.create ? v.serviceAccount.name || fullname : v.serviceAccount.name || "default",
    usesConfigMap,
    configMapName: v.config.existingConfigMap || `${fullname}-config`,
    configPath: usesConfigMap ? v.config.mountPath : v.config.path,
    storageClaimName: v.storage.existingClaim || `${fullname}-storage`,
    storageVolumeName: v.storage.volumeName || "storage",
    stateStorage: state.enabled
      ? { claimName: state.existingClaim || `${fullname}-state`, volumeName: state.volumeName || "state-storage", createsClaim: state.create && !state.existingClaim }
      : undefined,
    kubernetesWorkers,
    staticRunner: v.workers.backend === "static_runner",
    workerNamespace,
    workerAuthSecretName: kubernetesWorkers && workerNamespace === namespace ? `${fullname}-worker-auth` : undefined,
    workerServiceAccountName: wk.serviceAccount.create ? wk.serviceAccount.name || `${fullname}-worker` : wk.serviceAccount.name || "default",
    workerImage,
    workerManagerName: `${fullname}-worker-manager`,
    proxyToken: proxyTokenName ? { name: proxyTokenName, key: proxy.key } : undefined,
    credentialsKey: creds.existingSecret ? { name: creds.existingSecret, key: creds.key } : undefined,
    registrationToken: reg.existingSecret ? { name: reg.existingSecret, key: reg.key } : undefined,
    appserviceToken: appservice.existingSecret ? { name: appservice.existingSecret, key: appservice.key } : undefined,
    postgres,
    databaseUrl,
  };
}
