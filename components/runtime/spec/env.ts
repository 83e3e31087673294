/** Container env of the runtime and the static sandbox runner (spec §3.2, §6, §7). */
import type { RuntimeNames, SecretKeyRef } from "../names";
import type { RuntimeValues } from "../schema";
import { filterWorkerExtraEnv } from "../worker-env";
import { workerProxyEnv } from "./egress-proxy";
import { goJson } from "./json";
// approvedEgress, agentVault (issue 11)
import { agentVaultRuntimeEnv } from "./agent-vault";
import { approvedEgressRuntimeEnv } from "./approved-egress";
import { providerCredentialEnv } from "./provider-credentials";

/** Where the appservice token Secret is mounted; MindRoom reads the token from the file named in env. */
export const APPSERVICE_TOKEN_DIR = "/etc/mindroom/matrix-appservice";

export type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef: SecretKeyRef } } | Record<string, unknown>;

const plain = (name: string, value: string): EnvVar => ({ name, value });
const fromSecret = (name: string, ref: SecretKeyRef): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: ref.name, key: ref.key } } });

/** Resource quantity as the chart prints it (`{{ .Values...memory }}`), or undefined when unset. */
function quantity(resources: Record<string, unknown>, kind: "requests" | "limits", name: "cpu" | "memory"): string | undefined {
  const value = (resources[kind] as Record<string, unknown> | undefined)?.[name];
  return value === undefined || value === null || value === "" ? undefined : String(value);
}

/** `MINDROOM_KUBERNETES_*` block of the runtime container (spec §7.2), in chart order. */
export function kubernetesWorkerEnv(v: RuntimeValues, n: RuntimeNames): { env: EnvVar[]; droppedExtraEnv: { name: string; reason: string }[] } {
  const wk = v.workers.kubernetes;
  const env: EnvVar[] = [plain("MINDROOM_KUBERNETES_WORKER_NAMESPACE", n.workerNamespace)];
  if (n.workerAuthSecretName) env.push(plain("MINDROOM_KUBERNETES_WORKER_AUTH_SECRET_NAME", n.workerAuthSecretName));
  env.push(
    plain("MINDROOM_KUBERNETES_WORKER_IMAGE", n.workerImage),
    plain("MINDROOM_KUBERNETES_WORKER_IMAGE_PULL_POLICY", wk.image.pullPolicy || v.image.pullPolicy),
    plain("MINDROOM_KUBERNETES_WORKER_PORT", String(wk.port)),
    plain("MINDROOM_KUBERNETES_WORKER_SERVICE_ACCOUNT_NAME", n.workerServiceAccountName),
    plain("MINDROOM_KUBERNETES_WORKER_STORAGE_PVC_NAME", n.storageClaimName),
    plain("MINDROOM_KUBERNETES_WORKER_STORAGE_MOUNT_PATH", v.storage.mountPath),
    plain("MINDROOM_KUBERNETES_WORKER_STORAGE_SUBPATH_PREFIX", wk.storageSubpathPrefix),
  );
  if (n.usesConfigMap) {
    env.push(
      plain("MINDROOM_KUBERNETES_WORKER_CONFIG_MAP_NAME", wk.configMapName || n.configMapName),
      plain("MINDROOM_KUBERNETES_WORKER_CONFIG_KEY", wk.configKey || v.config.key),
    );
  }
  env.push(
    plain("MINDROOM_KUBERNETES_WORKER_CONFIG_PATH", wk.configPath || n.configPath),
    plain("MINDROOM_KUBERNETES_WORKER_IDLE_TIMEOUT_SECONDS", wk.idleTimeoutSeconds),
    plain("MINDROOM_KUBERNETES_WORKER_READY_TIMEOUT_SECONDS", wk.readyTimeoutSeconds),
    plain("MINDROOM_KUBERNETES_WORKER_RECONCILE_POD_TEMPLATES", String(wk.reconcilePodTemplates)),
    plain("MINDROOM_KUBERNETES_WORKER_NAME_PREFIX", wk.namePrefix),
    plain("MINDROOM_KUBERNETES_WORKER_ENABLE_SERVICE_LINKS", String(wk.enableServiceLinks)),
    plain("MINDROOM_KUBERNETES_WORKER_LABELS_JSON", goJson(wk.extraLabels)),
    plain("MINDROOM_KUBERNETES_WORKER_ANNOTATIONS_JSON", goJson(wk.extraAnnotations)),
    plain("MINDROOM_KUBERNETES_WORKER_EXTRA_VOLUMES_JSON", goJson(wk.extraVolumes)),
    plain("MINDROOM_KUBERNETES_WORKER_EXTRA_CONTAINERS_JSON", goJson(wk.extraContainers)),
  );
  const resourceEnv: [string, string | undefined][] = [
    ["MINDROOM_KUBERNETES_WORKER_MEMORY_REQUEST", quantity(wk.resources, "requests", "memory")],
    ["MINDROOM_KUBERNETES_WORKER_MEMORY_LIMIT", quantity(wk.resources, "limits", "memory")],
    ["MINDROOM_KUBERNETES_WORKER_CPU_REQUEST", quantity(wk.resources, "requests", "cpu")],
    ["MINDROOM_KUBERNETES_WORKER_CPU_LIMIT", quantity(wk.resources, "limits", "cpu")],
  ];
  for (const [name, value] of resourceEnv) if (value !== undefined) env.push(plain(name, value));
  env.push(
    plain("MINDROOM_KUBERNETES_DEFAULT_SCRIPT_RESOURCE_PROFILE", wk.scriptResources.defaultProfile),
    plain("MINDROOM_KUBERNETES_SCRIPT_RESOURCE_PROFILES_JSON", goJson(wk.scriptResources.profiles)),
  );
  if (wk.nodeName) env.push(plain("MINDROOM_KUBERNETES_WORKER_NODE_NAME", wk.nodeName));
  if (wk.colocateWithControlPlaneNode) env.push(plain("MINDROOM_KUBERNETES_WORKER_COLOCATE_WITH_CONTROL_PLANE_NODE", "true"));
  const { kept, dropped } = filterWorkerExtraEnv(wk.extraEnv);
  // Upstream `workerExtraEnvJson`: the proxy env first, so an operator's extraEnv entry wins.
  const workerEnv = { ...workerProxyEnv(v, n), ...kept };
  if (Object.keys(workerEnv).length > 0) env.push(plain("MINDROOM_KUBERNETES_WORKER_ENV_JSON", goJson(workerEnv)));
  if (wk.ownerDeploymentName || n.workerNamespace === n.namespace) {
    env.push(plain("MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME", wk.ownerDeploymentName || n.fullname));
  }
  env.push(...agentVaultRuntimeEnv(v, n)); // agentVault
  return { env, droppedExtraEnv: dropped };
}

/** Env of container `mindroom` (spec §3.2), in chart order. */
export function runtimeEnv(v: RuntimeValues, n: RuntimeNames): { env: EnvVar[]; droppedExtraEnv: { name: string; reason: string }[] } {
  const env: EnvVar[] = [
    plain("MINDROOM_STORAGE_PATH", v.storage.mountPath),
    plain("MINDROOM_CONFIG_PATH", n.configPath),
    plain("HOME", v.storage.mountPath),
  ];
  if (v.runtime.logLevel) env.push(plain("LOG_LEVEL", v.runtime.logLevel));
  if (v.runtime.timezone) env.push(plain("TZ", v.runtime.timezone));
  if (v.runtime.timing) env.push(plain("MINDROOM_TIMING", "1"));
  if (n.databaseUrl) env.push(fromSecret(v.eventCache.databaseUrlEnv, n.databaseUrl));
  env.push(
    plain("MINDROOM_WORKER_BACKEND", v.workers.backend),
    plain("MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS", v.workers.cleanupIntervalSeconds),
    plain("MINDROOM_SANDBOX_EXECUTION_MODE", v.workers.sandbox.executionMode),
    plain("MINDROOM_SANDBOX_PROXY_TOOLS", v.workers.sandbox.proxyTools),
  );
  if (n.credentialsKey) env.push(fromSecret("MINDROOM_CREDENTIALS_ENCRYPTION_KEY", n.credentialsKey));
  if (n.proxyToken) env.push(fromSecret("MINDROOM_SANDBOX_PROXY_TOKEN", n.proxyToken));
  env.push(...approvedEgressRuntimeEnv(v, n)); // approvedEgress
  if (n.staticRunner) env.push(plain("MINDROOM_SANDBOX_PROXY_URL", `http://localhost:${v.workers.staticRunner.port}`));
  let droppedExtraEnv: { name: string; reason: string }[] = [];
  if (n.kubernetesWorkers) {
    const workers = kubernetesWorkerEnv(v, n);
    env.push(...workers.env);
    droppedExtraEnv = workers.droppedExtraEnv;
  }
  if (v.matrix.homeserverUrl) env.push(plain("MATRIX_HOMESERVER", v.matrix.homeserverUrl));
  if (v.matrix.serverName) env.push(plain("MATRIX_SERVER_NAME", v.matrix.serverName));
  if (v.matrix.startupTimeoutSeconds) env.push(plain("MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS", v.matrix.startupTimeoutSeconds));
  env.push(plain("MATRIX_MANAGED_ACCOUNT_AUTH", v.matrix.managedAccountAuth));
  if (n.registrationToken) env.push(fromSecret("MATRIX_REGISTRATION_TOKEN", n.registrationToken));
  // A file, not env: the kubelet refreshes a mounted Secret in place when the token is rotated.
  if (n.appserviceToken) env.push(plain("MATRIX_APPSERVICE_TOKEN_FILE", `${APPSERVICE_TOKEN_DIR}/${n.appserviceToken.key}`));
  env.push(...providerCredentialEnv(v));
  env.push(...v.env.extra);
  return { env, droppedExtraEnv };
}

/** Env of the `sandbox-runner` sidecar (spec §7.1). */
export function sandboxRunnerEnv(v: RuntimeValues, n: RuntimeNames): EnvVar[] {
  const env: EnvVar[] = [
    plain("MINDROOM_SANDBOX_RUNNER_MODE", "true"),
    plain("MINDROOM_SANDBOX_RUNNER_PORT", String(v.workers.staticRunner.port)),
    plain("MINDROOM_CONFIG_PATH", n.configPath),
    plain("MINDROOM_STORAGE_PATH", v.storage.mountPath),
    plain("HOME", v.storage.mountPath),
  ];
  if (n.proxyToken) env.push(fromSecret("MINDROOM_SANDBOX_PROXY_TOKEN", n.proxyToken));
  if (n.credentialsKey) env.push(fromSecret("MINDROOM_CREDENTIALS_ENCRYPTION_KEY", n.credentialsKey));
  return env;
}
