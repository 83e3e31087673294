/**
 * Deployment `synapse-{c}` (spec §7) with Deviation 2: the Secret volume projects only the two
 * keys Synapse reads, and the container may not escalate privileges. The stock image must start
 * as root (it fixes /data ownership, then drops to uid 991 itself), so root stays unless the
 * operator says the image starts non-root. Project (issue 9): the same directory also holds the
 * macaroon and form secrets of Secret `synapse-secrets-{c}` (a projected volume), and their hash
 * rolls the pod, since Synapse reads those files only at start.
 */
import type * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, SKIP_AWAIT, type InstanceNames } from "./names";
import { SYNAPSE_OWN_SECRET_KEYS, SYNAPSE_SECRETS_DIR } from "./synapse-config";
import { containerResources } from "./resources";

/** Upstream's start: fix /data ownership, generate the signing key once as 991, then the image's start script. */
function startScript(customer: string): string {
  return `chown -R 991:991 /data
if [ ! -f /data/${customer}.signing.key ]; then
  echo "Generating signing key..."
  su-exec 991:991 python -m synapse.app.homeserver \\
    --config-path /data/homeserver.yaml \\
    --generate-keys
fi
echo "Starting Synapse..."
exec /start.py
`;
}

/** Deviation 2: Synapse needs only these two keys of the tenant Secret. */
export const SYNAPSE_SECRET_KEYS = ["matrix_registration_shared_secret", "matrix_oidc_client_secret"];

/** Each key of a Secret as the file of the same name. */
const files = (name: string, keys: readonly string[]) => ({ secret: { name, items: keys.map((key) => ({ key, path: key })) } });

export function synapseDeployment(
  r: ResolvedInstance,
  n: InstanceNames,
  secretHash: pulumi.Input<string>,
  synapseConfigHash: string,
  synapseSecretHash: pulumi.Input<string>,
): k8s.types.input.apps.v1.Deployment {
  const labels = appLabels("synapse", r);
  const securityContext = r.synapseImageRunsAsNonRoot
    ? { allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" } }
    : { allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } };
  return {
    metadata: { name: n.synapse, namespace: NAMESPACE, labels, annotations: SKIP_AWAIT },
    spec: {
      replicas: r.replicas,
      selector: { matchLabels: labels },
      template: {
        metadata: {
          labels,
          annotations: {
            "mindroom.ai/synapse-config-hash": synapseConfigHash,
            "mindroom.ai/instance-secret-hash": secretHash,
            "mindroom.ai/synapse-secret-hash": synapseSecretHash,
          },
        },
        spec: {
          // Synapse never calls the Kubernetes API: no token of the namespace's `default` ServiceAccount (issue 9).
          automountServiceAccountToken: false,
          containers: [
            {
              name: "synapse",
              image: r.synapseImage,
              imagePullPolicy: r.synapseImagePullPolicy,
              command: ["/bin/sh"],
              args: ["-c", startScript(r.customer)],
              ports: [{ containerPort: 8008, name: "http" }],
              env: [
                { name: "SYNAPSE_SERVER_NAME", value: n.matrixServerName },
                { name: "SYNAPSE_REPORT_STATS", value: "no" },
                { name: "SYNAPSE_CONFIG_DIR", value: "/data" },
                { name: "SYNAPSE_DATA_DIR", value: "/data" },
              ],
              volumeMounts: [
                { name: "synapse-data", mountPath: "/data" },
                { name: "synapse-config", mountPath: "/data/homeserver.yaml", subPath: "homeserver.yaml" },
                { name: "synapse-config", mountPath: "/data/log.config", subPath: "log.config" },
                { name: "mindroom-secrets", mountPath: SYNAPSE_SECRETS_DIR, readOnly: true },
              ],
              resources: containerResources(r.synapseResources),
              readinessProbe: { httpGet: { path: "/_matrix/client/versions", port: "http" }, periodSeconds: 5, failureThreshold: 120 },
              securityContext,
            },
          ],
          volumes: [
            { name: "synapse-data", persistentVolumeClaim: { claimName: n.synapseStorage } },
            { name: "synapse-config", configMap: { name: n.synapseConfig } },
            // Default file mode (0644): Synapse runs as 991, which does not own the files, so 0400 would lock it out.
            { name: "mindroom-secrets", projected: { sources: [files(n.apiKeysSecret, SYNAPSE_SECRET_KEYS), files(n.synapseSecrets, SYNAPSE_OWN_SECRET_KEYS)] } },
          ],
        },
      },
    },
  };
}
