/**
 * The Express provisioner's own workload (project; platform.md §6.2, provisioner.md §2): one
 * replica under ServiceAccount `platform-backend` (so the RBAC of rbac.ts is its boundary), its data
 * directory on a PVC, secrets as files only.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { PlatformArgs } from "./args";
import {
  PROVISIONER_DATA_CLAIM,
  PROVISIONER_DATA_PATH,
  PROVISIONER_NAME,
  PROVISIONER_PORT,
  SECRETS_MOUNT_PATH,
  SERVICE_ACCOUNT_NAME,
  platformNamespace,
} from "./names";
import { appLabels } from "./workloads";
import { configMapData } from "./config";

/** Key of the passphrase in the provisioner Secret: the tenant stacks' own (docs/rekey.md). */
export const PASSPHRASE_KEY = "pulumi_config_passphrase";
/** Key of the tenant stacks' previous passphrase in the provisioner Secret, only while a move is under way. */
export const PREVIOUS_PASSPHRASE_KEY = "pulumi_previous_config_passphrase";

/** Whether the provisioner gets the previous passphrase (an Output counts as given: the stack's secret config). */
export const hasPreviousPassphrase = (args: PlatformArgs): boolean =>
  args.platformSecrets.create && (typeof args.provisioner.previousPulumiConfigPassphrase !== "string" || args.provisioner.previousPulumiConfigPassphrase !== "");

/** `NAME_FILE` env → key in the platform Secret. The service reads each secret from `NAME` or `NAME_FILE`; we only ever set the file form. */
export const PROVISIONER_PLATFORM_SECRET_FILES: [env: string, key: string][] = [
  ["PROVISIONER_API_KEY_FILE", "provisioner_api_key"],
  ["INSTANCE_CREDENTIALS_ENCRYPTION_SECRET_FILE", "instance_credentials_encryption_secret"],
  ["SUPABASE_SERVICE_KEY_FILE", "supabase_service_key"],
  ["INSTANCE_MATRIX_OIDC_CLIENT_SECRET_FILE", "matrix_oidc_client_secret"],
  ["OPENROUTER_PROVISIONING_API_KEY_FILE", "openrouter_provisioning_key"],
];

/**
 * ConfigMap keys the provisioner reads (provisioner/config.ts; spec provisioner.md §2): the upstream
 * backend's tenant settings. They reach the pod as plain env values rather than `envFrom`, for two
 * reasons: a changed value changes the pod template, so the single replica restarts with it instead
 * of running on stale settings; and an empty value is left out, because the service reads "unset"
 * and "" alike except for `SUPABASE_URL`, where "" would stop the boot (unset turns the mirror off).
 */
export const PROVISIONER_CONFIG_KEYS = [
  "PLATFORM_DOMAIN",
  "ENVIRONMENT",
  "INSTANCE_BASE_DOMAIN",
  "INSTANCE_STORAGE_CLASS_NAME",
  "INSTANCE_MINDROOM_IMAGE",
  "INSTANCE_MINDROOM_IMAGE_PULL_POLICY",
  "INSTANCE_SYNAPSE_IMAGE",
  "INSTANCE_SYNAPSE_IMAGE_PULL_POLICY",
  "INSTANCE_IMAGE_PULL_SECRET_NAMES",
  "INSTANCE_TRUSTED_UPSTREAM_AUTH_ENABLED",
  "INSTANCE_TRUSTED_UPSTREAM_USER_ID_HEADER",
  "INSTANCE_TRUSTED_UPSTREAM_EMAIL_HEADER",
  "INSTANCE_TRUSTED_UPSTREAM_MATRIX_USER_ID_HEADER",
  "INSTANCE_TRUSTED_UPSTREAM_EMAIL_TO_MATRIX_USER_ID_TEMPLATE",
  "INSTANCE_TRUSTED_UPSTREAM_REQUIRE_JWT",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_HEADER",
  "INSTANCE_TRUSTED_UPSTREAM_JWKS_URL",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_AUDIENCE",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_ISSUER",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_EMAIL_CLAIM",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_USER_ID_CLAIM",
  "INSTANCE_TRUSTED_UPSTREAM_JWT_MATRIX_USER_ID_CLAIM",
  "INSTANCE_MATRIX_OIDC_ENABLED",
  "INSTANCE_MATRIX_OIDC_ISSUER",
  "INSTANCE_MATRIX_OIDC_CLIENT_ID",
  "SUPABASE_URL",
  "SUPABASE_ANON_KEY",
] as const;

/**
 * The service reads the trusted-upstream switch as `INSTANCE_TRUSTED_UPSTREAM_ENABLED` (spec
 * provisioner.md §6.9 row 16), the ConfigMap names it `…_AUTH_ENABLED` (platform.md §4): the pod
 * gets both, so the switch reaches tenants whichever name the service settles on.
 */
const TRUSTED_UPSTREAM_ENABLED_ENV = "INSTANCE_TRUSTED_UPSTREAM_ENABLED";

/**
 * Project settings of trusted upstream auth (infra/trusted-upstream.ts; docs/instance.md): not in
 * the upstream ConfigMap, so they reach only the provisioner, which forwards them to every tenant.
 */
export const TRUSTED_UPSTREAM_ACCESS_ENV = [
  ["INSTANCE_TRUSTED_UPSTREAM_AUTH_URL", "authUrl"],
  ["INSTANCE_TRUSTED_UPSTREAM_AUTH_SIGNIN", "authSignin"],
  ["INSTANCE_TRUSTED_UPSTREAM_ACKNOWLEDGE_UNVERIFIED_HEADERS", "acknowledgeUnverifiedHeaders"],
] as const;

/** Env the component sets itself (some only when their value is non-empty); `provisioner.extraEnv` may not override them. */
export const PROVISIONER_OWNED_ENV: ReadonlySet<string> = new Set([
  "NODE_ENV",
  "PORT",
  "MINDROOM_DATA_DIR",
  "POD_IP",
  ...PROVISIONER_CONFIG_KEYS,
  TRUSTED_UPSTREAM_ENABLED_ENV,
  ...TRUSTED_UPSTREAM_ACCESS_ENV.map(([name]) => name),
  "PULUMI_BACKEND_URL",
  ...PROVISIONER_PLATFORM_SECRET_FILES.map(([name]) => name),
  "PULUMI_CONFIG_PASSPHRASE_FILE",
  "PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE",
]);

/** The provisioner container's env before `extraEnv`: settings as values, secrets as `*_FILE` paths only. */
export function provisionerEnv(args: PlatformArgs): k8s.types.input.core.v1.EnvVar[] {
  const p = args.provisioner;
  const file = (key: string) => `${SECRETS_MOUNT_PATH}/${key}`;
  const config = configMapData(args);
  const trustedUpstreamEnabled = config.INSTANCE_TRUSTED_UPSTREAM_AUTH_ENABLED;
  return [
    { name: "NODE_ENV", value: "production" },
    { name: "PORT", value: String(PROVISIONER_PORT) },
    { name: "MINDROOM_DATA_DIR", value: PROVISIONER_DATA_PATH },
    // Kubelet probes and Prometheus send `Host: <pod IP>:8080`; the service's trusted-host check
    // (spec provisioner.md §3.1) admits the pod IP only when it knows it.
    { name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } },
    ...PROVISIONER_CONFIG_KEYS.filter((key) => config[key] !== "").map((name) => ({ name, value: config[name] })),
    ...(trustedUpstreamEnabled ? [{ name: TRUSTED_UPSTREAM_ENABLED_ENV, value: trustedUpstreamEnabled }] : []),
    ...TRUSTED_UPSTREAM_ACCESS_ENV.filter(([, key]) => p.trustedUpstreamAuth[key] !== "").map(([name, key]) => ({ name, value: p.trustedUpstreamAuth[key] })),
    // Empty → the service's default file://<data dir>/state on the data volume.
    ...(p.backendUrl ? [{ name: "PULUMI_BACKEND_URL", value: p.backendUrl }] : []),
    ...PROVISIONER_PLATFORM_SECRET_FILES.map(([name, key]) => ({ name, value: file(key) })),
    { name: "PULUMI_CONFIG_PASSPHRASE_FILE", value: file(PASSPHRASE_KEY) },
    // Only during a move (docs/rekey.md): adding or removing it changes the pod template, so the provisioner restarts with it.
    ...(hasPreviousPassphrase(args) ? [{ name: "PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE", value: file(PREVIOUS_PASSPHRASE_KEY) }] : []),
  ];
}

export const provisionerImage = (args: PlatformArgs): string => args.provisioner.image || `${args.registry}/mindroom-provisioner:${args.imageTag}`;

export function provisionerDataClaim(args: PlatformArgs): k8s.core.v1.PersistentVolumeClaimArgs {
  const { size, storageClassName } = args.provisioner.storage;
  return {
    metadata: { name: PROVISIONER_DATA_CLAIM, namespace: platformNamespace(args.environment), labels: appLabels(PROVISIONER_NAME, args.environment) },
    spec: {
      // One writer at a time is exactly what the single-replica Recreate Deployment needs.
      accessModes: ["ReadWriteOnce"],
      resources: { requests: { storage: size } },
      ...(storageClassName ? { storageClassName } : {}),
    },
  };
}

export function provisionerDeployment(args: PlatformArgs): k8s.apps.v1.DeploymentArgs {
  const p = args.provisioner;
  const labels = appLabels(PROVISIONER_NAME, args.environment);
  const env = [...provisionerEnv(args), ...Object.entries(p.extraEnv).map(([name, value]) => ({ name, value }))];
  const httpGet = (path: string) => ({ httpGet: { path, port: "http" } });
  return {
    metadata: { name: PROVISIONER_NAME, namespace: platformNamespace(args.environment), labels },
    spec: {
      // Per-tenant serialization lives in one process (provisioner.md §5, platform.md §6.2): never
      // more than one replica, and Recreate so an old and a new pod never overlap on the RWO
      // data volume or on a tenant stack.
      replicas: 1,
      strategy: { type: "Recreate" },
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          serviceAccountName: SERVICE_ACCOUNT_NAME,
          // Tenant stacks authenticate in-cluster with this token (provisioner.md §1.2).
          automountServiceAccountToken: true,
          ...(args.imagePullSecrets.length > 0 ? { imagePullSecrets: args.imagePullSecrets } : {}),
          securityContext: p.podSecurityContext,
          terminationGracePeriodSeconds: p.terminationGracePeriodSeconds,
          containers: [
            {
              name: "provisioner",
              image: provisionerImage(args),
              imagePullPolicy: p.imagePullPolicy || args.imagePullPolicy,
              ports: [{ name: "http", containerPort: PROVISIONER_PORT }],
              env,
              resources: p.resources,
              securityContext: p.securityContext,
              // Start-up may resume interrupted jobs and refresh their stacks before /healthz answers.
              startupProbe: { ...httpGet("/healthz"), periodSeconds: 5, failureThreshold: 60 },
              livenessProbe: { ...httpGet("/healthz"), periodSeconds: 20, timeoutSeconds: 5, failureThreshold: 3 },
              readinessProbe: { ...httpGet("/readyz"), periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 3 },
              volumeMounts: [
                { name: "data", mountPath: PROVISIONER_DATA_PATH },
                { name: "secrets", mountPath: SECRETS_MOUNT_PATH, readOnly: true },
              ],
            },
          ],
          volumes: [
            p.storage.enabled ? { name: "data", persistentVolumeClaim: { claimName: PROVISIONER_DATA_CLAIM } } : { name: "data", emptyDir: {} },
            {
              name: "secrets",
              projected: {
                // 0400 like the backend; fsGroup makes the files group-readable for the non-root user.
                defaultMode: 0o400,
                sources: [
                  { secret: { name: args.platformSecrets.name, items: PROVISIONER_PLATFORM_SECRET_FILES.map(([, key]) => ({ key, path: key })) } },
                  {
                    secret: {
                      name: p.secretName,
                      items: [PASSPHRASE_KEY, ...(hasPreviousPassphrase(args) ? [PREVIOUS_PASSPHRASE_KEY] : [])].map((key) => ({ key, path: key })),
                    },
                  },
                ],
              },
            },
          ],
        },
      },
    },
  };
}

export function provisionerService(args: PlatformArgs): k8s.core.v1.ServiceArgs {
  const labels = appLabels(PROVISIONER_NAME, args.environment);
  return {
    metadata: { name: PROVISIONER_NAME, namespace: platformNamespace(args.environment), labels },
    spec: { selector: labels, ports: [{ name: "http", port: PROVISIONER_PORT, targetPort: "http" }] },
  };
}
