/**
 * Ingress `{c}-ingress` (spec §13): three hosts, one cert-manager certificate.
 *
 * Project deviation (docs/instance.md "Trusted upstream auth"): with trusted upstream auth and an
 * `authUrl`, ingress-nginx's external auth (`auth-url`, `auth-response-headers`; both allowed at the
 * pinned controller's default `annotations-risk-level: High`, no snippets) asks the access layer
 * about every request and sets each identity header only from its answer: ingress-nginx renders
 * `proxy_set_header '<header>' $authHeaderN` per header, which replaces a client's copy, and drops
 * it when the answer has none. So only the access layer can set them, even for a client that
 * bypasses a front proxy through a node's 80/443.
 */
import type * as k8s from "@pulumi/kubernetes";
import { identityHeaders } from "../../infra/trusted-upstream";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { SKIP_AWAIT, type InstanceNames } from "./names";

const NGINX = "nginx.ingress.kubernetes.io";

/** The external-auth annotations, or none when trusted upstream auth is off or has no `authUrl`. */
export function accessLayerAnnotations(r: ResolvedInstance): Record<string, string> {
  const t = r.trustedUpstreamAuth;
  const headers = identityHeaders(t);
  if (headers.length === 0) return {};
  return {
    [`${NGINX}/auth-url`]: t.authUrl,
    [`${NGINX}/auth-response-headers`]: headers.join(","),
    ...(t.authSignin ? { [`${NGINX}/auth-signin`]: t.authSignin } : {}),
  };
}

export function ingress(r: ResolvedInstance, n: InstanceNames): k8s.types.input.networking.v1.Ingress {
  const rule = (host: string, service: string, port: number) => ({
    host,
    http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: service, port: { number: port } } } }] },
  });
  return {
    metadata: {
      name: n.ingress,
      namespace: NAMESPACE,
      annotations: {
        "kubernetes.io/ingress.class": "nginx",
        "cert-manager.io/cluster-issuer": "letsencrypt-prod",
        [`${NGINX}/proxy-body-size`]: "100m",
        [`${NGINX}/proxy-read-timeout`]: "3600",
        [`${NGINX}/proxy-send-timeout`]: "3600",
        ...accessLayerAnnotations(r),
        ...SKIP_AWAIT,
      },
    },
    spec: {
      ingressClassName: "nginx",
      tls: [{ hosts: [n.hosts.frontend, n.hosts.api, n.hosts.matrix], secretName: n.tlsSecret }],
      rules: [rule(n.hosts.frontend, n.mindroom, 8765), rule(n.hosts.api, n.mindroom, 8765), rule(n.hosts.matrix, n.synapse, 8008)],
    },
  };
}
