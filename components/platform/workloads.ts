/** Frontend and backend Deployments, Services and HPAs (platform.md §6) as pure object specs. */
import type * as k8s from "@pulumi/kubernetes";
import type { AutoscalingTarget, PlatformArgs } from "./args";
import { BACKEND_SECRET_FILES } from "./config";
import {
  BACKEND_NAME,
  BACKEND_PORT,
  CONFIG_MAP_NAME,
  FRONTEND_NAME,
  FRONTEND_PORT,
  SECRETS_MOUNT_PATH,
  SERVICE_ACCOUNT_NAME,
  platformNamespace,
} from "./names";

/** `app` + `environment`: the labels and the selector of each platform workload. */
export const appLabels = (app: string, environment: string): Record<string, string> => ({ app, environment });

const configMapRef = (key: string) => ({ configMapKeyRef: { name: CONFIG_MAP_NAME, key } });

/** Upstream renders the list only when it is non-empty. */
const pullSecrets = (args: PlatformArgs) => (args.imagePullSecrets.length > 0 ? { imagePullSecrets: args.imagePullSecrets } : {});

/** `replicas` only without autoscaling: with an HPA the Deployment must not fight it. */
const replicas = (args: PlatformArgs): { replicas?: number } => (args.autoscaling.enabled ? {} : { replicas: args.replicas });

/** Container settings both platform images run with (Pod Security `restricted` asks for all three). */
const NO_PRIVILEGES = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };
const RUNTIME_DEFAULT_SECCOMP = { seccompProfile: { type: "RuntimeDefault" } };

/**
 * The frontend image (upstream `saas-platform/Dockerfile.platform-frontend`) runs as user `nextjs`,
 * uid 1001, group `nodejs` 1001, and owns its files under that uid. The kubelet cannot check a
 * user *name* against `runAsNonRoot`, so the uid is stated here; with it the pod meets Pod
 * Security `restricted`. Upstream sets no securityContext (platform.md §6, hazard 4).
 */
export const FRONTEND_POD_SECURITY = { runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, ...RUNTIME_DEFAULT_SECCOMP };

/**
 * The backend image (`Dockerfile.platform-backend`) has no USER: it runs as root, reads its Secret
 * files mounted with mode 0400 (owner root only) and keeps kubectl/helm state under /root. So it
 * stays root, but without any capability, privilege escalation or unconfined syscalls: root
 * without capabilities can use only what root owns. Pod Security: `baseline`, not `restricted`.
 */
export const BACKEND_POD_SECURITY = { ...RUNTIME_DEFAULT_SECCOMP };

/**
 * One of the two upstream Deployments: `app` + `environment` labels and selector, one container
 * `app` with `envFrom` the ConfigMap, plus what differs per workload in `pod` and `container`.
 */
function platformDeployment(
  args: PlatformArgs,
  name: string,
  pod: Omit<k8s.types.input.core.v1.PodSpec, "containers">,
  container: Omit<k8s.types.input.core.v1.Container, "name" | "imagePullPolicy" | "envFrom">,
): k8s.apps.v1.DeploymentArgs {
  const labels = appLabels(name, args.environment);
  return {
    metadata: { name, namespace: platformNamespace(args.environment), labels },
    spec: {
      ...replicas(args),
      selector: { matchLabels: labels },
      template: {
        metadata: { labels },
        spec: {
          ...pod,
          ...pullSecrets(args),
          containers: [{ name: "app", imagePullPolicy: args.imagePullPolicy, envFrom: [{ configMapRef: { name: CONFIG_MAP_NAME } }], ...container, securityContext: NO_PRIVILEGES }],
        },
      },
    },
  };
}

/**
 * The frontend never calls the Kubernetes API (it renders pages and calls the backend and
 * Supabase), so it gets no token: upstream mounted the namespace's `default` token into a pod
 * that faces the internet (docs/platform.md, "Service-account tokens"). The backend keeps its
 * token: the upstream image runs kubectl/helm against `mindroom-instances` (cleanup scheduler).
 */
const FRONTEND_POD = { securityContext: FRONTEND_POD_SECURITY, automountServiceAccountToken: false };

export function frontendDeployment(args: PlatformArgs): k8s.apps.v1.DeploymentArgs {
  return platformDeployment(args, FRONTEND_NAME, FRONTEND_POD, {
    image: `${args.registry}/platform-frontend:${args.frontendImageTag || args.imageTag}`,
    ports: [{ containerPort: FRONTEND_PORT }],
    env: [
      { name: "NODE_ENV", value: "production" },
      { name: "PLATFORM_DOMAIN", valueFrom: configMapRef("PLATFORM_DOMAIN") },
      { name: "SUPABASE_URL", valueFrom: configMapRef("SUPABASE_URL") },
      { name: "SUPABASE_ANON_KEY", valueFrom: configMapRef("SUPABASE_ANON_KEY") },
    ],
    resources: args.resources.frontend,
  });
}

export function backendDeployment(args: PlatformArgs): k8s.apps.v1.DeploymentArgs {
  return platformDeployment(
    args,
    BACKEND_NAME,
    {
      serviceAccountName: SERVICE_ACCOUNT_NAME,
      securityContext: BACKEND_POD_SECURITY,
      // The Secret is mounted whether or not the component created it (platformSecrets.create=false).
      volumes: [{ name: "platform-sensitive", secret: { secretName: args.platformSecrets.name, defaultMode: 0o400 } }],
    },
    {
      image: `${args.registry}/platform-backend:${args.backendImageTag || args.imageTag}`,
      ports: [{ containerPort: BACKEND_PORT }],
      env: BACKEND_SECRET_FILES.map(([name, key]) => ({ name, value: `${SECRETS_MOUNT_PATH}/${key}` })),
      resources: args.resources.backend,
      volumeMounts: [{ name: "platform-sensitive", mountPath: SECRETS_MOUNT_PATH, readOnly: true }],
    },
  );
}

export function frontendService(args: PlatformArgs): k8s.core.v1.ServiceArgs {
  const labels = appLabels(FRONTEND_NAME, args.environment);
  return {
    metadata: { name: FRONTEND_NAME, namespace: platformNamespace(args.environment), labels },
    spec: { selector: labels, ports: [{ port: FRONTEND_PORT, targetPort: FRONTEND_PORT }] },
  };
}

export function backendService(args: PlatformArgs): k8s.core.v1.ServiceArgs {
  const labels = appLabels(BACKEND_NAME, args.environment);
  return {
    metadata: { name: BACKEND_NAME, namespace: platformNamespace(args.environment), labels },
    spec: { selector: labels, ports: [{ name: "http", port: BACKEND_PORT, targetPort: BACKEND_PORT }] },
  };
}

export function hpa(args: PlatformArgs, name: string, target: AutoscalingTarget): k8s.autoscaling.v2.HorizontalPodAutoscalerArgs {
  return {
    metadata: { name, namespace: platformNamespace(args.environment), labels: appLabels(name, args.environment) },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name },
      minReplicas: target.minReplicas,
      maxReplicas: target.maxReplicas,
      metrics: [
        { type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: target.targetCPUUtilizationPercentage } } },
      ],
    },
  };
}
