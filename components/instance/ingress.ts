/** Ingress `{c}-ingress` (spec §13): three hosts, one cert-manager certificate. */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE } from "./resolve";
import { SKIP_AWAIT, type InstanceNames } from "./names";

export function ingress(n: InstanceNames): k8s.types.input.networking.v1.Ingress {
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
        "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
        "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
        "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
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
