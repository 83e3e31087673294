/** Ingresses `platform-ingress` and `platform-root-redirect` (platform.md §9) as pure object specs. */
import type * as k8s from "@pulumi/kubernetes";
import type { PlatformArgs } from "./args";
import {
  BACKEND_NAME,
  BACKEND_PORT,
  CLUSTER_ISSUER,
  FRONTEND_NAME,
  FRONTEND_PORT,
  INGRESS_CLASS,
  INGRESS_NAME,
  INGRESS_TLS_SECRET,
  PROVISIONER_NAME,
  PROVISIONER_PORT,
  REDIRECT_INGRESS_NAME,
  REDIRECT_TLS_SECRET,
  platformNamespace,
} from "./names";

const NGINX = "nginx.ingress.kubernetes.io";

/** Modern TLS suites only, in upstream's order. */
export const SSL_CIPHERS = [
  "ECDHE-ECDSA-AES256-GCM-SHA384",
  "ECDHE-RSA-AES256-GCM-SHA384",
  "ECDHE-ECDSA-CHACHA20-POLY1305",
  "ECDHE-RSA-CHACHA20-POLY1305",
  "ECDHE-ECDSA-AES128-GCM-SHA256",
  "ECDHE-RSA-AES128-GCM-SHA256",
].join(":");

const path = (p: string, service: string, port: number) => ({
  path: p,
  pathType: "Prefix",
  backend: { service: { name: service, port: { number: port } } },
});

export function platformIngress(args: PlatformArgs): k8s.networking.v1.IngressArgs {
  const d = args.domain;
  const annotations: Record<string, string> = {
    [`${NGINX}/proxy-buffer-size`]: "16k",
    [`${NGINX}/proxy-buffers-number`]: "8",
    [`${NGINX}/proxy-read-timeout`]: args.ingress.proxyReadTimeout,
    [`${NGINX}/proxy-send-timeout`]: args.ingress.proxySendTimeout,
    [`${NGINX}/client-header-buffer-size`]: "16k",
    [`${NGINX}/large-client-header-buffers`]: "4 32k",
    "cert-manager.io/cluster-issuer": CLUSTER_ISSUER,
    [`${NGINX}/ssl-redirect`]: "true",
    [`${NGINX}/ssl-protocols`]: "TLSv1.2 TLSv1.3",
    [`${NGINX}/ssl-ciphers`]: SSL_CIPHERS,
  };
  if (args.ingress.enableConfigurationSnippet) {
    annotations[`${NGINX}/configuration-snippet`] = 'add_header Strict-Transport-Security "max-age=31536000; includeSubDomains" always;\n';
  }
  const apiPaths = [path("/", BACKEND_NAME, BACKEND_PORT)];
  // With the Express provisioner enabled, /system/* (its whole API) goes to it; nginx picks the
  // longest matching prefix, so everything else on api. still reaches the backend.
  if (args.provisioner.enabled) apiPaths.push(path("/system", PROVISIONER_NAME, PROVISIONER_PORT));
  return {
    metadata: { name: INGRESS_NAME, namespace: platformNamespace(args.environment), annotations },
    spec: {
      ingressClassName: INGRESS_CLASS,
      rules: [
        { host: `app.${d}`, http: { paths: [path("/", FRONTEND_NAME, FRONTEND_PORT)] } },
        { host: `api.${d}`, http: { paths: apiPaths } },
        { host: `webhooks.${d}`, http: { paths: [path("/webhooks/stripe", BACKEND_NAME, BACKEND_PORT)] } },
      ],
      tls: [{ hosts: [`app.${d}`, `api.${d}`, `webhooks.${d}`], secretName: INGRESS_TLS_SECRET }],
    },
  };
}

/** Apex and www → `https://app.{domain}` (308). The backend is never reached; Ingress needs one. */
export function rootRedirectIngress(args: PlatformArgs): k8s.networking.v1.IngressArgs {
  const d = args.domain;
  return {
    metadata: {
      name: REDIRECT_INGRESS_NAME,
      namespace: platformNamespace(args.environment),
      annotations: {
        "cert-manager.io/cluster-issuer": CLUSTER_ISSUER,
        [`${NGINX}/permanent-redirect`]: `https://app.${d}`,
        [`${NGINX}/permanent-redirect-code`]: "308",
        [`${NGINX}/ssl-redirect`]: "true",
      },
    },
    spec: {
      ingressClassName: INGRESS_CLASS,
      rules: [d, `www.${d}`].map((host) => ({ host, http: { paths: [path("/", FRONTEND_NAME, FRONTEND_PORT)] } })),
      tls: [{ hosts: [d, `www.${d}`], secretName: REDIRECT_TLS_SECRET }],
    },
  };
}
