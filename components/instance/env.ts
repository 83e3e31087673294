/**
 * Environment of the `mindroom` container (spec §5.4, §6.2, §11), in the chart's order. API keys
 * are files under /etc/secrets read through `*_API_KEY_FILE`; the two values the runtime needs
 * as env come from secretKeyRefs, so no secret value ever appears in the Deployment.
 */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import type { InstanceNames } from "./names";

type EnvVar = k8s.types.input.core.v1.EnvVar;

export const SECRETS_DIR = "/etc/secrets";
export const CONFIG_TEMPLATE_PATH = "/app/config.yaml";

const env = (name: string, value: string): EnvVar => ({ name, value });
const fromSecret = (name: string, secretName: string, key: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: secretName, key } } });

/** The two secretKeyRefs shared by `mindroom` and the `sandbox-runner` sidecar. */
export function secretRefEnv(n: InstanceNames): EnvVar[] {
  return [
    fromSecret("MINDROOM_SANDBOX_PROXY_TOKEN", n.apiKeysSecret, "sandbox_proxy_token"),
    fromSecret("MINDROOM_CREDENTIALS_ENCRYPTION_KEY", n.apiKeysSecret, "credentials_encryption_key"),
  ];
}

function kubernetesWorkerEnv(r: ResolvedInstance, n: InstanceNames): EnvVar[] {
  const w = r.kubernetesWorker;
  const p = "MINDROOM_KUBERNETES_WORKER_";
  return [
    env(`${p}NAMESPACE`, NAMESPACE),
    env(`${p}IMAGE`, w.image),
    env(`${p}IMAGE_PULL_POLICY`, w.imagePullPolicy),
    env(`${p}PORT`, w.port),
    env(`${p}SERVICE_ACCOUNT_NAME`, w.serviceAccountName),
    env(`${p}STORAGE_PVC_NAME`, n.mindroomStorage),
    env(`${p}STORAGE_MOUNT_PATH`, r.storagePath),
    env(`${p}STORAGE_SUBPATH_PREFIX`, w.storageSubpathPrefix),
    env(`${p}CONFIG_MAP_NAME`, n.mindroomConfig),
    env(`${p}CONFIG_KEY`, "config.yaml"),
    env(`${p}CONFIG_PATH`, CONFIG_TEMPLATE_PATH),
    ...(r.controlPlaneNodeName ? [env(`${p}NODE_NAME`, r.controlPlaneNodeName)] : []),
    env(`${p}IDLE_TIMEOUT_SECONDS`, w.idleTimeoutSeconds),
    env(`${p}READY_TIMEOUT_SECONDS`, w.readyTimeoutSeconds),
    env(`${p}NAME_PREFIX`, w.namePrefix),
    env(`${p}ENABLE_SERVICE_LINKS`, w.enableServiceLinks),
    env(`${p}AUTH_SECRET_NAME`, n.workerAuthSecret),
    // The one place the id keeps its given type (a number stays a JSON number), as upstream.
    env(`${p}LABELS_JSON`, JSON.stringify({ customer: r.customerRaw })),
    env(`${p}OWNER_DEPLOYMENT_NAME`, n.mindroom),
  ];
}

function trustedUpstreamEnv(r: ResolvedInstance): EnvVar[] {
  const t = r.trustedUpstreamAuth;
  if (!t.on) return [];
  const p = "MINDROOM_TRUSTED_UPSTREAM_";
  const ifSet = (name: string, value: string) => (value ? [env(`${p}${name}`, value)] : []);
  return [
    env(`${p}AUTH_ENABLED`, "true"),
    env(`${p}USER_ID_HEADER`, t.userIdHeader),
    ...ifSet("EMAIL_HEADER", t.emailHeader),
    ...ifSet("MATRIX_USER_ID_HEADER", t.matrixUserIdHeader),
    ...ifSet("EMAIL_TO_MATRIX_USER_ID_TEMPLATE", t.emailToMatrixUserIdTemplate),
    ...(t.strict
      ? [
          env(`${p}REQUIRE_JWT`, "true"),
          env(`${p}JWT_HEADER`, t.jwtHeader),
          env(`${p}JWKS_URL`, t.jwksUrl),
          env(`${p}JWT_AUDIENCE`, t.jwtAudience),
          env(`${p}JWT_ISSUER`, t.jwtIssuer),
          env(`${p}JWT_EMAIL_CLAIM`, t.jwtEmailClaim),
          ...ifSet("JWT_USER_ID_CLAIM", t.jwtUserIdClaim),
          ...ifSet("JWT_MATRIX_USER_ID_CLAIM", t.jwtMatrixUserIdClaim),
        ]
      : []),
  ];
}

export function mindroomEnv(r: ResolvedInstance, n: InstanceNames): EnvVar[] {
  const workerBlock =
    r.workerBackend === "static_runner" ? [env("MINDROOM_SANDBOX_PROXY_URL", "http://localhost:8766")]
      : r.workerBackend === "kubernetes" ? kubernetesWorkerEnv(r, n)
        : [];
  return [
    env("OPENAI_API_KEY_FILE", `${SECRETS_DIR}/openai_key`),
    env("ANTHROPIC_API_KEY_FILE", `${SECRETS_DIR}/anthropic_key`),
    env("ACCOUNT_ID", r.accountId),
    env("CUSTOMER_ID", r.customer),
    env("MINDROOM_STORAGE_PATH", r.storagePath),
    env("MINDROOM_CONFIG_PATH", `${r.storagePath}/config/config.yaml`),
    env("MINDROOM_CONFIG_TEMPLATE", CONFIG_TEMPLATE_PATH),
    env("MINDROOM_PUBLIC_URL", `https://${n.hosts.frontend}`),
    env("LOG_LEVEL", "INFO"),
    env("MINDROOM_WORKER_BACKEND", r.workerBackend),
    env("MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS", r.workerCleanupIntervalSeconds),
    ...workerBlock,
    ...secretRefEnv(n),
    env("MINDROOM_SANDBOX_EXECUTION_MODE", "selective"),
    env("MINDROOM_SANDBOX_PROXY_TOOLS", "shell,file,python"),
    env("MATRIX_HOMESERVER", `http://${n.synapse}:8008`),
    env("MINDROOM_DESKTOP_MATRIX_HOMESERVER", `https://${n.hosts.matrix}`),
    env("MATRIX_SERVER_NAME", n.matrixServerName),
    env("MATRIX_REGISTRATION_SHARED_SECRET_FILE", `${SECRETS_DIR}/matrix_registration_shared_secret`),
    env("MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS", r.matrixHomeserverStartupTimeoutSeconds),
    env("SUPABASE_URL", r.supabaseUrl),
    env("SUPABASE_SERVICE_KEY_FILE", `${SECRETS_DIR}/supabase_service_key`),
    env("SUPABASE_ANON_KEY", r.supabaseAnonKey),
    ...trustedUpstreamEnv(r),
    env("MINDROOM_PLATFORM_LOGIN_URL", `https://app.${r.baseDomain}/auth/login`),
    env("OPENROUTER_API_KEY_FILE", `${SECRETS_DIR}/openrouter_key`),
    env("GOOGLE_API_KEY_FILE", `${SECRETS_DIR}/google_key`),
    env("DEEPSEEK_API_KEY_FILE", `${SECRETS_DIR}/deepseek_key`),
    env("HOME", r.storagePath),
  ];
}

/** Env of the static `sandbox-runner` sidecar (§6.1): no runner-port env (runtime default 8766). */
export function sandboxRunnerEnv(r: ResolvedInstance, n: InstanceNames): EnvVar[] {
  return [
    env("MINDROOM_SANDBOX_RUNNER_MODE", "true"),
    ...secretRefEnv(n),
    env("MINDROOM_CONFIG_PATH", CONFIG_TEMPLATE_PATH),
    env("MINDROOM_STORAGE_PATH", r.storagePath),
    env("HOME", r.storagePath),
  ];
}
