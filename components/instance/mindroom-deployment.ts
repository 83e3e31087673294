/**
 * Deployment `mindroom-{c}` (spec §5, §6): init container waiting for Synapse, the runtime, and in
 * `static_runner` mode the `sandbox-runner` sidecar. `kubernetes` mode runs as the worker-manager
 * ServiceAccount instead; the runtime then creates worker pods itself.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, SKIP_AWAIT, type InstanceNames } from "./names";
import { CONFIG_TEMPLATE_PATH, mindroomEnv, sandboxRunnerEnv, SECRETS_DIR } from "./env";
import { containerResources } from "./resources";

type Container = k8s.types.input.core.v1.Container;

const WAIT_FOR_SYNAPSE = `while true; do
  body="$(curl --silent --show-error --max-time 5 "\${SYNAPSE_READY_URL}" || true)"
  if printf '%s' "\${body}" | grep -q '"versions"'; then
    echo "Synapse is ready: \${SYNAPSE_READY_URL}"
    exit 0
  fi
  echo "Waiting for Synapse at \${SYNAPSE_READY_URL}"
  sleep 2
done
`;

/** Neither container may gain privileges or keep any capability. */
const RESTRICTED = { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } };

const httpProbe = (path: string, periodSeconds: number, failureThreshold: number) => ({
  httpGet: { path, port: "api" },
  periodSeconds,
  failureThreshold,
});

function sandboxRunner(r: ResolvedInstance, n: InstanceNames): Container {
  return {
    name: "sandbox-runner",
    image: r.mindroomImage,
    imagePullPolicy: r.mindroomImagePullPolicy,
    command: ["tini", "--", "/app/run-sandbox-runner.sh"],
    ports: [{ containerPort: 8766 }],
    env: sandboxRunnerEnv(r, n),
    volumeMounts: [
      { name: "config", mountPath: CONFIG_TEMPLATE_PATH, subPath: "config.yaml", readOnly: true },
      { name: "storage", mountPath: r.storagePath },
      { name: "sandbox-workspace", mountPath: "/app/workspace" },
    ],
    resources: containerResources(r.sandboxRunnerResources),
    securityContext: RESTRICTED,
  };
}

export function mindroomDeployment(
  r: ResolvedInstance,
  n: InstanceNames,
  secretHash: pulumi.Input<string>,
  configHash: string,
): k8s.types.input.apps.v1.Deployment {
  const labels = appLabels("mindroom", r);
  const staticRunner = r.workerBackend === "static_runner";
  const mindroom: Container = {
    name: "mindroom",
    image: r.mindroomImage,
    imagePullPolicy: r.mindroomImagePullPolicy,
    ports: [{ containerPort: 8765, name: "api" }],
    env: mindroomEnv(r, n),
    volumeMounts: [
      { name: "storage", mountPath: r.storagePath },
      { name: "config", mountPath: CONFIG_TEMPLATE_PATH, subPath: "config.yaml" },
      { name: "api-keys", mountPath: SECRETS_DIR, readOnly: true },
    ],
    resources: containerResources(r.mindroomResources),
    startupProbe: httpProbe("/api/health", 2, 90),
    readinessProbe: httpProbe("/api/ready", 5, 6),
    livenessProbe: httpProbe("/api/health", 10, 6),
    securityContext: RESTRICTED,
  };
  return {
    metadata: { name: n.mindroom, namespace: NAMESPACE, labels, annotations: SKIP_AWAIT },
    spec: {
      strategy: { type: "Recreate" },
      replicas: r.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: { "mindroom.ai/config-hash": configHash, "mindroom.ai/instance-secret-hash": secretHash },
        },
        spec: {
          ...(r.controlPlaneNodeName ? { nodeName: r.controlPlaneNodeName } : {}),
          // Only the worker manager calls the API; otherwise the token of the namespace's `default`
          // ServiceAccount would just sit in a pod that runs agents' shell and python (issue 9).
          ...(r.workerBackend === "kubernetes" ? { serviceAccountName: n.workerManager } : { automountServiceAccountToken: false }),
          ...(r.imagePullSecrets.length > 0 ? { imagePullSecrets: r.imagePullSecrets } : {}),
          // RuntimeDefault seccomp (and the init container's RESTRICTED below) are a deviation: with them the pod meets Pod Security `restricted` (docs/instance.md).
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [
            {
              name: "wait-for-synapse",
              image: r.mindroomImage,
              imagePullPolicy: r.mindroomImagePullPolicy,
              command: ["/bin/sh", "-ec"],
              args: [WAIT_FOR_SYNAPSE],
              env: [{ name: "SYNAPSE_READY_URL", value: `http://${n.synapse}:8008/_matrix/client/versions` }],
              securityContext: RESTRICTED,
            },
          ],
          containers: staticRunner ? [mindroom, sandboxRunner(r, n)] : [mindroom],
          // Order matters: upstream tests index the Secret as the third volume.
          volumes: [
            { name: "storage", persistentVolumeClaim: { claimName: n.mindroomStorage } },
            { name: "config", configMap: { name: n.mindroomConfig } },
            { name: "api-keys", secret: { secretName: n.apiKeysSecret, defaultMode: 0o400 } },
            ...(staticRunner ? [{ name: "sandbox-workspace", emptyDir: { sizeLimit: r.sandboxWorkspaceSizeLimit } }] : []),
          ],
        },
      },
    },
  };
}
