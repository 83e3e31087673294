/**
 * NetworkPolicies of the platform namespace (project deviation, docs/platform.md "NetworkPolicies"):
 * upstream has none, so any pod there, or anything that reached one, could talk to every tenant pod,
 * the nodes and the cloud metadata service. Here everything is denied, then each workload gets
 * exactly its peers. Always on: upstream has no value to switch it, and a cluster without a policy
 * controller ignores the objects.
 *
 * Rules match the translated destination (kube-router, k3s's controller, filters after the Service
 * DNAT): DNS is the CoreDNS pods, not the Service IP, and the Kubernetes API is the API server's own
 * address on 6443. That address is the control plane's node IP on Hetzner, a container's IP on
 * kind/k3d, and 443 on managed clusters; the component cannot know it, and 443 to any address is
 * open anyway for the external APIs, so 6443 is opened to any address too (except the metadata
 * service) for the two workloads that hold a token. The API server still wants that token.
 */
import type * as k8s from "@pulumi/kubernetes";
import { METADATA_ADDRESS } from "../cluster/metadata-guard";
import { INGRESS_NAMESPACE } from "../cluster-services/specs";
import type { PlatformArgs } from "./args";
import {
  ACME_SOLVER_POLICY,
  BACKEND_NAME,
  BACKEND_PORT,
  DEFAULT_DENY_POLICY,
  DNS_POLICY,
  FRONTEND_NAME,
  FRONTEND_PORT,
  PROVISIONER_NAME,
  PROVISIONER_PORT,
  platformNamespace,
} from "./names";
import { usesFileBackend } from "./validate";
import { appLabels } from "./workloads";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;
type IngressRule = k8s.types.input.networking.v1.NetworkPolicyIngressRule;
type EgressRule = k8s.types.input.networking.v1.NetworkPolicyEgressRule;
type LabelSelector = k8s.types.input.meta.v1.LabelSelector;

/** The API server's own port (k3s, kind, k3d); managed clusters serve 443, which HTTPS covers. */
const KUBE_API_PORT = 6443;
const HTTPS_PORT = 443;
/** cert-manager's HTTP-01 solver pods listen here (`acmesolver --listen-port`, cert-manager's default). */
const ACME_SOLVER_PORT = 8089;

/**
 * A TCP port with its protocol written out: the API server defaults `protocol: TCP` into the live
 * object, and `ingress`/`egress` are atomic lists, so omitting it makes server-side applies conflict.
 */
const tcp = (port: number) => ({ port, protocol: "TCP" });

/** The ingress-nginx controller pods (components/cluster-services): the only way in from outside. */
const INGRESS_CONTROLLER: Peer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": INGRESS_NAMESPACE } },
  podSelector: { matchLabels: { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller" } },
};

/** CoreDNS of k3s (and kind/k3d), which keeps kube-dns's label. */
const CLUSTER_DNS: Peer = {
  namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
  podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
};

/** Prometheus servers the prometheus-operator runs (the ServiceMonitors' reader), in any namespace. */
const PROMETHEUS: Peer = { namespaceSelector: {}, podSelector: { matchLabels: { "app.kubernetes.io/name": "prometheus" } } };

/**
 * Any address but the cloud metadata service, which on Hetzner serves the node's user-data (the k3s
 * join token); Supabase, Stripe, OpenRouter and the LLM APIs have no fixed addresses.
 */
const ANYWHERE_BUT_METADATA: Peer = { ipBlock: { cidr: "0.0.0.0/0", except: [METADATA_ADDRESS] } };

const pods = (args: PlatformArgs, app: string): Peer => ({ podSelector: { matchLabels: appLabels(app, args.environment) } });

/** Prometheus scrapes `/metrics` on the Service port `http` of the backend and the provisioner (monitoring.ts). */
const scrapedOn = (args: PlatformArgs, port: number): IngressRule[] => (args.monitoring.enabled ? [{ from: [PROMETHEUS], ports: [tcp(port)] }] : []);

/** A NetworkPolicy as the component registers it (the name keys the Pulumi resource). */
export interface PlatformNetworkPolicy extends k8s.networking.v1.NetworkPolicyArgs {
  metadata: { name: string; namespace: string };
}

/**
 * A policy governing `ingress` and/or `egress` (a given list, even empty, isolates that direction);
 * empty lists are left out, as the API server stores them.
 */
function policy(args: PlatformArgs, name: string, podSelector: LabelSelector, rules: { ingress?: IngressRule[]; egress?: EgressRule[] }): PlatformNetworkPolicy {
  const { ingress, egress } = rules;
  return {
    metadata: { name, namespace: platformNamespace(args.environment) },
    spec: {
      podSelector,
      policyTypes: [...(ingress ? ["Ingress"] : []), ...(egress ? ["Egress"] : [])],
      ...(ingress?.length ? { ingress } : {}),
      ...(egress?.length ? { egress } : {}),
    },
  };
}

/** Every pod of the namespace, present and future: nothing in, nothing out, unless a policy below allows it. */
export const defaultDenyPolicy = (args: PlatformArgs) => policy(args, DEFAULT_DENY_POLICY, {}, { ingress: [], egress: [] });

/** Every pod resolves names, through the cluster DNS only (a server on 53 elsewhere would be a way out). */
export const dnsPolicy = (args: PlatformArgs) =>
  policy(args, DNS_POLICY, {}, { egress: [{ to: [CLUSTER_DNS], ports: [{ port: 53, protocol: "UDP" }, tcp(53)] }] });

/**
 * cert-manager answers the HTTP-01 challenges of the platform's certificates from solver pods it
 * starts in this namespace, reached through ingress-nginx (the ClusterIssuers' solver).
 */
export const acmeSolverPolicy = (args: PlatformArgs) =>
  policy(args, ACME_SOLVER_POLICY, { matchLabels: { "acme.cert-manager.io/http01-solver": "true" } }, {
    ingress: [{ from: [INGRESS_CONTROLLER], ports: [tcp(ACME_SOLVER_PORT)] }],
  });

/** The portal: reached through the Ingress; it calls the backend (`PLATFORM_BACKEND_URL`) and Supabase. */
export const frontendPolicy = (args: PlatformArgs) =>
  policy(args, FRONTEND_NAME, { matchLabels: appLabels(FRONTEND_NAME, args.environment) }, {
    ingress: [{ from: [INGRESS_CONTROLLER], ports: [tcp(FRONTEND_PORT)] }],
    egress: [
      { to: [pods(args, BACKEND_NAME)], ports: [tcp(BACKEND_PORT)] },
      { to: [ANYWHERE_BUT_METADATA], ports: [tcp(HTTPS_PORT)] },
    ],
  });

/**
 * The backend: reached through the Ingress and by the frontend; it calls Supabase, Stripe and the
 * LLM APIs (HTTPS) and, as upstream, the Kubernetes API (its cleanup scheduler scales tenants).
 */
export const backendPolicy = (args: PlatformArgs) =>
  policy(args, BACKEND_NAME, { matchLabels: appLabels(BACKEND_NAME, args.environment) }, {
    ingress: [{ from: [INGRESS_CONTROLLER, pods(args, FRONTEND_NAME)], ports: [tcp(BACKEND_PORT)] }, ...scrapedOn(args, BACKEND_PORT)],
    egress: [{ to: [ANYWHERE_BUT_METADATA], ports: [tcp(HTTPS_PORT), tcp(KUBE_API_PORT)] }],
  });

/** Ports of state backend schemes that are not 443 (s3, gs, azblob, https speak HTTPS). */
const BACKEND_DEFAULT_PORTS: Record<string, number> = { postgres: 5432, http: 80 };

/**
 * The port the provisioner's remote state backend needs beyond 443, if any: an explicit port in the
 * URL, or in its `endpoint=` (an S3-compatible store is reached there, not at the bucket's host),
 * else the scheme's. A file backend lives on the data volume and needs none. A URL Node cannot
 * parse falls back to the scheme's port (validate.ts has already checked the scheme).
 */
export function stateBackendPort(backendUrl: string): number | undefined {
  if (usesFileBackend(backendUrl)) return undefined;
  const schemePort = (scheme: string) => BACKEND_DEFAULT_PORTS[scheme.toLowerCase()] ?? HTTPS_PORT;
  let port = schemePort(/^([a-z0-9+.-]+):/i.exec(backendUrl)?.[1] ?? "");
  try {
    const url = new URL(backendUrl);
    const endpoint = url.searchParams.get("endpoint");
    const plain = url.searchParams.get("disableSSL") === "true" ? "http" : "https";
    const target = endpoint ? new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? endpoint : `${plain}://${endpoint}`) : url;
    port = Number(target.port) || schemePort(target.protocol.slice(0, -1));
  } catch {
    // Keep the scheme's port.
  }
  return port === HTTPS_PORT || port === KUBE_API_PORT ? undefined : port;
}

/**
 * The provisioner: reached through the Ingress (`/system`); it drives tenant stacks through the
 * Kubernetes API, calls Supabase and OpenRouter (HTTPS) and reads and writes its state backend.
 */
export function provisionerPolicy(args: PlatformArgs): PlatformNetworkPolicy {
  const state = stateBackendPort(args.provisioner.backendUrl);
  return policy(args, PROVISIONER_NAME, { matchLabels: appLabels(PROVISIONER_NAME, args.environment) }, {
    ingress: [{ from: [INGRESS_CONTROLLER], ports: [tcp(PROVISIONER_PORT)] }, ...scrapedOn(args, PROVISIONER_PORT)],
    egress: [{ to: [ANYWHERE_BUT_METADATA], ports: [tcp(HTTPS_PORT), tcp(KUBE_API_PORT), ...(state === undefined ? [] : [tcp(state)])] }],
  });
}
