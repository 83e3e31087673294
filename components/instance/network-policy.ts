/**
 * NetworkPolicy `instance-traffic-controls-{c}` (spec §12): cross-tenant ingress and
 * worker-to-worker runner traffic are denied. Deviation 3: web egress excludes the cloud metadata
 * address, which on Hetzner serves the node's user-data (k3s join token included). DNS egress goes
 * to the cluster DNS only (issue 9): upstream's port 53 to anywhere lets a pod reach any server
 * listening on 53, a channel out past the 80/443 rule.
 */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import type { InstanceNames } from "./names";

export const METADATA_CIDR = "169.254.169.254/32";

/**
 * A TCP port of a rule, with its protocol written out: the API server defaults `protocol: TCP`
 * into the live object, and `ingress`/`egress` are atomic lists, so a server-side apply without it
 * conflicts with any other manager of the same policy (the Helm-era object the stack adopts).
 */
const tcp = (port: number) => ({ port, protocol: "TCP" });

/**
 * The cluster DNS: k3s's bundled CoreDNS, pods `k8s-app: kube-dns` in `kube-system` (the cluster
 * keeps it; components/cluster/cloud-init.ts disables other add-ons only). Policies match the pod
 * a Service address is translated to, so the peer is the CoreDNS pods (container port 53), not the
 * `kube-dns` Service IP.
 */
export const CLUSTER_DNS_PEER = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

export function networkPolicy(r: ResolvedInstance, n: InstanceNames): k8s.types.input.networking.v1.NetworkPolicy {
  const tenant = { podSelector: { matchLabels: { customer: r.customer } } };
  const workerPort = r.workerBackend === "kubernetes" ? Number(r.kubernetesWorker.port) : 8766;
  return {
    metadata: { name: n.networkPolicy, namespace: NAMESPACE, labels: { "app.kubernetes.io/name": "mindroom-instance", customer: r.customer } },
    spec: {
      podSelector: { matchLabels: { customer: r.customer } },
      policyTypes: ["Ingress", "Egress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "ingress-nginx" } },
              podSelector: { matchLabels: { "app.kubernetes.io/component": "controller", "app.kubernetes.io/name": "ingress-nginx" } },
            },
            tenant,
          ],
          ports: [tcp(8765), tcp(8008)],
        },
        { from: [{ podSelector: { matchLabels: { app: "mindroom", customer: r.customer } } }], ports: [tcp(workerPort)] },
      ],
      egress: [
        { to: [tenant], ports: [tcp(8008), tcp(8765), tcp(workerPort)] },
        { to: [CLUSTER_DNS_PEER], ports: [{ port: 53, protocol: "UDP" }, tcp(53)] },
        { to: [{ ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_CIDR] } }], ports: [tcp(80), tcp(443)] },
      ],
    },
  };
}
