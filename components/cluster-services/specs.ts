/** Pure specs for `ClusterServices`: chart pins and values, and the two ClusterIssuers. */

export const INGRESS_NGINX_CHART = { chart: "ingress-nginx", version: "4.13.6", repo: "https://kubernetes.github.io/ingress-nginx" };
export const CERT_MANAGER_CHART = { chart: "cert-manager", version: "v1.18.2", repo: "https://charts.jetstack.io" };
export const METRICS_SERVER_CHART = { chart: "metrics-server", version: "3.12.2", repo: "https://kubernetes-sigs.github.io/metrics-server/" };

/** The tenant NetworkPolicy admits ingress only from this namespace (instance.md §12). */
export const INGRESS_NAMESPACE = "ingress-nginx";
export const CERT_MANAGER_NAMESPACE = "cert-manager";

/**
 * `hostPort`: one node (or kind) — the controller binds 80/443 on each node it runs on; no
 * Service of type LoadBalancer is needed, and no proxy sits in front, so forwarded headers are not
 * trusted. `loadBalancer`: the Hetzner LB forwards TCP with PROXY protocol to the same host ports;
 * nginx reads the client address from the PROXY header (still no X-Forwarded-For trust).
 */
export type IngressExposure = "hostPort" | "loadBalancer";

export function ingressNginxValues(exposure: IngressExposure): Record<string, unknown> {
  return {
    controller: {
      kind: "DaemonSet",
      ingressClassResource: { name: "nginx", default: true },
      ingressClass: "nginx",
      // Upstream kube-hetzner watched class-less Ingresses too; keep that for migrated objects.
      watchIngressWithoutClass: true,
      hostPort: { enabled: true, ports: { http: 80, https: 443 } },
      service: { type: "ClusterIP" },
      config: {
        "use-forwarded-headers": "false",
        "compute-full-forwarded-for": "false",
        "use-proxy-protocol": exposure === "loadBalancer" ? "true" : "false",
      },
      admissionWebhooks: { enabled: true },
      metrics: { enabled: false },
    },
  };
}

export function certManagerValues(): Record<string, unknown> {
  return { crds: { enabled: true, keep: true } };
}

export function metricsServerValues(): Record<string, unknown> {
  // k3s kubelets serve self-signed certificates.
  return { args: ["--kubelet-insecure-tls", "--kubelet-preferred-address-types=InternalIP"] };
}

export const ISSUERS = {
  "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
  "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
} as const;

/** HTTP-01 through class nginx; the account key Secret is named after the issuer (as upstream). */
export function clusterIssuerSpec(name: keyof typeof ISSUERS, email: string) {
  return {
    apiVersion: "cert-manager.io/v1",
    kind: "ClusterIssuer",
    metadata: { name },
    spec: {
      acme: {
        server: ISSUERS[name],
        email,
        privateKeySecretRef: { name: `${name}-account-key` },
        solvers: [{ http01: { ingress: { ingressClassName: "nginx" } } }],
      },
    },
  };
}
