/**
 * `approvedEgress` values: the chart-managed Squid proxy (`mindroom-egress-proxy`) that dedicated
 * workers must send their traffic through, with its policy API for per-worker grants and an
 * optional parent proxy (Agent Vault) for token-bearing requests. Keys and defaults are the chart's
 * (`values.yaml` at upstream `9f69327b`); the checks are validate.yaml's approvedEgress block. The
 * checks it shares with `egressProxy` (kubernetes workers, the worker policy, DNS) run in
 * `schema-egress-proxy.ts`, just before these.
 */
import type * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { int, nameValue, nullableBool, nullableString, nullableStringList, nullableStringMap, nullableText, port, pullPolicy, rawMap } from "../../infra/values/fields";
import { obj } from "./values-map";
import { optionalQuantity, type Fail } from "./schema-agent-vault";

/** A value the chart prints only when Helm reads it as true: `0`, `""` and `null` leave the env out. */
const optionalScalar = z
  .union([z.string(), z.number()], { error: "must be a number or a string" })
  .nullable()
  .transform((v) => (v === null || v === "" || v === 0 ? "" : String(v)));

export const approvedEgressSchema = obj({
  enabled: nullableBool,
  manageRuntimeConfig: nullableBool,
  image: obj({ repository: nullableString, tag: nullableText, digest: nullableString, pullPolicy }),
  serviceAccount: obj({ create: nullableBool, name: nullableString, annotations: nullableStringMap, automountServiceAccountToken: nullableBool }),
  rbac: obj({ create: nullableBool }),
  // `name` names the Deployment, Service, Role and RoleBinding, and is the host in the proxy URL.
  service: obj({ name: nameValue, proxyPort: port, apiPort: port, annotations: nullableStringMap }),
  token: obj({ existingSecret: nullableString, key: nullableString }),
  allowlist: obj({ domains: nullableStringList, existingConfigMap: nullableString, key: nullableString, mountPath: nullableString }),
  persistence: obj({ enabled: nullableBool, existingClaim: nullableString, size: optionalQuantity, storageClassName: nullableString }),
  dataPath: nullableString,
  dbFileName: nullableString,
  maxTtlSeconds: optionalScalar,
  sandboxProxyTimeoutSeconds: optionalScalar,
  logLevel: nullableString,
  // The port is range-checked only while the parent proxy is on, as upstream does.
  parentProxy: obj({ enabled: nullableBool, host: nullableString, port: int }),
  resources: rawMap,
  podAnnotations: nullableStringMap,
  podLabels: nullableStringMap,
  podSecurityContext: rawMap,
  securityContext: rawMap,
  networkPolicy: obj({ create: nullableBool, name: nullableString }),
});

export type ApprovedEgressValues = z.output<typeof approvedEgressSchema>;

/** The chart's `approvedEgress` defaults. */
export const APPROVED_EGRESS_DEFAULTS = {
  enabled: false,
  manageRuntimeConfig: true,
  // No tag or digest: upstream wants one pinned before the feature is switched on.
  image: { repository: "ghcr.io/mindroom-ai/mindroom-egress-proxy", tag: "", digest: "", pullPolicy: "IfNotPresent" },
  // The proxy reads worker pods (source IP → worker) through the API, hence the token.
  serviceAccount: { create: true, name: "", annotations: {}, automountServiceAccountToken: true },
  rbac: { create: true },
  service: { name: "", proxyPort: 3128, apiPort: 8080, annotations: {} },
  // Empty existingSecret: the runtime's sandbox proxy token doubles as the policy API token.
  token: { existingSecret: "", key: "MINDROOM_SANDBOX_PROXY_TOKEN" },
  allowlist: { domains: [], existingConfigMap: "", key: "allowed-domains.txt", mountPath: "/etc/mindroom-egress/allowed-domains.txt" },
  persistence: { enabled: true, existingClaim: "", size: "10Gi", storageClassName: "" },
  dataPath: "/var/lib/mindroom-egress",
  dbFileName: "grants.sqlite3",
  maxTtlSeconds: 21600,
  sandboxProxyTimeoutSeconds: "",
  logLevel: "info",
  parentProxy: { enabled: false, host: "agent-vault", port: 14322 },
  resources: { requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } },
  podAnnotations: {},
  podLabels: {},
  podSecurityContext: { fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" } },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 },
  networkPolicy: { create: true, name: "" },
} satisfies z.input<typeof approvedEgressSchema>;

type ProxyToken = { existingSecret: string; key: string; value: string | pulumi.Output<string> };

/** Upstream `approvedEgressTokenSecretName`/`Key`: its own Secret, else the sandbox proxy token's. */
export function approvedEgressToken(ae: ApprovedEgressValues, proxyToken: ProxyToken, fullname: string): { name: string; key: string } {
  if (ae.token.existingSecret) return { name: ae.token.existingSecret, key: ae.token.key };
  const name = proxyToken.existingSecret || (proxyToken.value !== "" ? `${fullname}-sandbox-proxy` : "");
  return { name, key: proxyToken.key };
}

/**
 * validate.yaml's approvedEgress block, in its order. Returns true after the first failure,
 * which `fail` has recorded.
 */
export function approvedEgressIssue(values: { approvedEgress: ApprovedEgressValues; proxyToken: ProxyToken; egressPolicy: boolean }, fail: Fail): boolean {
  const ae = values.approvedEgress;
  if (!ae.enabled) return false;
  const failAt = (path: PropertyKey[], message: string) => {
    fail(path, message);
    return true;
  };
  const stop = (path: PropertyKey[], message: string) => failAt(["approvedEgress", ...path], message);
  if (!ae.image.repository) return stop(["image", "repository"], "is required with approvedEgress.enabled=true; set the egress proxy image (default ghcr.io/mindroom-ai/mindroom-egress-proxy)");
  if (!ae.image.tag && !ae.image.digest) return stop(["image"], "needs a tag or a digest with approvedEgress.enabled=true (upstream ships none); pin approvedEgress.image.tag or .digest");
  if (!ae.serviceAccount.create && !ae.serviceAccount.name) {
    return stop(["serviceAccount", "name"], "is required with approvedEgress.serviceAccount.create=false; name an existing ServiceAccount, or set create: true");
  }
  // Only whether a name exists matters here; the component computes it with the real fullname.
  const token = approvedEgressToken(ae, values.proxyToken, "fullname");
  if (!token.name) {
    return stop(["token", "existingSecret"], "is required unless workers.sandbox.proxyToken is set (the policy API token); set approvedEgress.token.existingSecret, or workers.sandbox.proxyToken.existingSecret or .value");
  }
  if (!token.key) {
    return ae.token.existingSecret
      ? stop(["token", "key"], "is required with approvedEgress.token.existingSecret; name the key holding the token")
      : failAt(["workers", "sandbox", "proxyToken", "key"], "is required with approvedEgress.enabled=true (the proxy reuses the sandbox proxy token); set it (default MINDROOM_SANDBOX_PROXY_TOKEN)");
  }
  if (!ae.allowlist.key) return stop(["allowlist", "key"], "is required with approvedEgress.enabled=true (the allowlist's key in its ConfigMap); set it (default allowed-domains.txt)");
  if (ae.allowlist.existingConfigMap && ae.allowlist.domains.length > 0) {
    return stop(["allowlist", "domains"], "cannot be set with approvedEgress.allowlist.existingConfigMap (that ConfigMap holds the list); put the domains there, or clear existingConfigMap");
  }
  if (!values.egressPolicy) {
    return failAt(["egressProxy", "networkPolicy", "create"], "must stay true with approvedEgress.enabled=true, or workers could bypass the proxy; set it to true");
  }
  if (ae.persistence.enabled && !ae.persistence.existingClaim && !ae.persistence.size) {
    return stop(["persistence", "size"], "is required for the chart-managed grants volume; set a size such as 10Gi, or set persistence.existingClaim (or persistence.enabled: false)");
  }
  if (ae.parentProxy.enabled) {
    if (!ae.parentProxy.host.trim()) return stop(["parentProxy", "host"], "is required with parentProxy.enabled=true; set the parent proxy's host (default agent-vault)");
    if (ae.parentProxy.port < 1 || ae.parentProxy.port > 65535) return stop(["parentProxy", "port"], `must be a port from 1 to 65535 with parentProxy.enabled=true, got ${ae.parentProxy.port}`);
  }
  return false;
}
