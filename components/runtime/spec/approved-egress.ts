/**
 * The approved egress proxy (upstream approved-egress.yaml and its NetworkPolicy in
 * networkpolicy.yaml): allowlist ConfigMap, optional Squid chain config, ServiceAccount, the Role
 * that lets it map worker source IPs to workers, grants PVC, Deployment, Service and ingress
 * NetworkPolicy; plus what the runtime container and the worker egress rules get when it is on.
 */
import type * as k8s from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import { APP_VERSION, dnsTrunc, MANAGED_BY, type Labels, type RuntimeNames } from "../names";
import { approvedEgressToken } from "../schema-approved-egress";
import type { RuntimeValues } from "../schema";
import type { EnvVar } from "./env";
import { WORKER_POD_LABELS } from "./workers";
import { cast, meta, nonEmpty } from "./util";

/** Squid reads this file (the image's own squid.conf plus the chain rules) when a parent proxy is set. */
export const SQUID_CHAIN_CONFIG_PATH = "/etc/squid/mindroom-egress-chain.conf";

/** Names and labels the approved egress objects agree on (`_helpers.tpl` approvedEgress*). */
export interface ApprovedEgressNames {
  /** `service.name` or `{fullname}-egress-proxy`: Deployment, Service, Role, RoleBinding. */
  name: string;
  serviceAccountName: string;
  configMapName: string;
  squidConfigMapName: string;
  claimName: string;
  networkPolicyName: string;
  dbPath: string;
  /** The policy API, as the runtime calls it. */
  apiUrl: string;
  /** The proxy, as workers (and, with a parent proxy, Agent Vault's worker side) use it. */
  proxyUrl: string;
  selectorLabels: Labels;
  labels: Labels;
  token: { name: string; key: string };
}

export function approvedEgressNames(v: RuntimeValues, n: RuntimeNames): ApprovedEgressNames {
  const ae = v.approvedEgress;
  const name = ae.service.name || dnsTrunc(`${n.fullname}-egress-proxy`);
  const selectorLabels = { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": n.release, "app.kubernetes.io/component": "approved-egress-proxy" };
  const host = `${name}.${n.namespace}.svc.cluster.local`;
  return {
    name,
    serviceAccountName: ae.serviceAccount.create ? ae.serviceAccount.name || name : ae.serviceAccount.name,
    configMapName: ae.allowlist.existingConfigMap || `${name}-config`,
    squidConfigMapName: `${name}-squid-config`,
    claimName: ae.persistence.existingClaim || `${name}-data`,
    networkPolicyName: ae.networkPolicy.name || `${name}-ingress`,
    dbPath: `${ae.dataPath.replace(/\/$/, "")}/${ae.dbFileName}`,
    apiUrl: `http://${host}:${ae.service.apiPort}`,
    proxyUrl: `http://${host}:${ae.service.proxyPort}`,
    selectorLabels,
    labels: { ...selectorLabels, "app.kubernetes.io/version": APP_VERSION, "app.kubernetes.io/managed-by": MANAGED_BY },
    token: approvedEgressToken(ae, v.workers.sandbox.proxyToken, n.fullname),
  };
}

/** `http://{name}.{RNS}.svc.cluster.local:{proxyPort}` (upstream `egressProxyUrl` with approvedEgress on). */
export function approvedEgressProxyUrl(v: RuntimeValues, n: RuntimeNames): string {
  return approvedEgressNames(v, n).proxyUrl;
}

/** `{repository}:{tag}@{digest}`, `{repository}@{digest}` or `{repository}:{tag}`. */
export function approvedEgressImage(image: { repository: string; tag: string; digest: string }): string {
  if (image.tag && image.digest) return `${image.repository}:${image.tag}@${image.digest}`;
  if (image.digest) return `${image.repository}@${image.digest}`;
  return `${image.repository}:${image.tag}`;
}

/**
 * The chain config: the image's squid.conf, then requests carrying Proxy-Authorization (an Agent
 * Vault token) go to the parent proxy and everything else leaves directly after the allowlist check.
 */
export function squidChainConfig(parent: { host: string; port: number }): string {
  return [
    "include /etc/squid/squid.conf",
    "",
    "acl egress_has_token req_header Proxy-Authorization .",
    "dns_defnames on",
    `cache_peer ${parent.host} parent ${parent.port} 0 no-query no-digest login=PASSTHRU`,
    `cache_peer_access ${parent.host} allow egress_has_token`,
    `cache_peer_access ${parent.host} deny all`,
    "nonhierarchical_direct off",
    "always_direct allow !egress_has_token",
    "never_direct allow egress_has_token",
  ].join("\n");
}

export interface ApprovedEgressSpecs {
  allowlist?: k8s.core.v1.ConfigMapArgs;
  squidConfig?: k8s.core.v1.ConfigMapArgs;
  serviceAccount?: k8s.core.v1.ServiceAccountArgs;
  role?: k8s.rbac.v1.RoleArgs;
  roleBinding?: k8s.rbac.v1.RoleBindingArgs;
  claim?: k8s.core.v1.PersistentVolumeClaimArgs;
  deployment: k8s.apps.v1.DeploymentArgs;
  service: k8s.core.v1.ServiceArgs;
  networkPolicy?: k8s.networking.v1.NetworkPolicyArgs;
}

export function approvedEgressSpecs(v: RuntimeValues, n: RuntimeNames): ApprovedEgressSpecs | undefined {
  const ae = v.approvedEgress;
  if (!ae.enabled) return undefined;
  const an = approvedEgressNames(v, n);
  const wns = n.workerNamespace;
  const specs: Partial<ApprovedEgressSpecs> = {};

  if (!ae.allowlist.existingConfigMap) {
    const list = ae.allowlist.domains.length > 0 ? `${ae.allowlist.domains.join("\n")}\n` : "";
    specs.allowlist = { metadata: meta(an.configMapName, n.namespace, an.labels), data: { [ae.allowlist.key]: list } };
  }
  const squid = ae.parentProxy.enabled ? squidChainConfig(ae.parentProxy) : undefined;
  if (squid !== undefined) {
    // As the chart's block scalar reads: an empty first line (its `nindent`), the config, one final newline.
    specs.squidConfig = { metadata: meta(an.squidConfigMapName, n.namespace, an.labels), data: { "squid.conf": `\n${squid}\n` } };
  }
  if (ae.serviceAccount.create) {
    specs.serviceAccount = { metadata: meta(an.serviceAccountName, n.namespace, an.labels, ae.serviceAccount.annotations), automountServiceAccountToken: ae.serviceAccount.automountServiceAccountToken };
  }
  if (ae.rbac.create) {
    // In the worker namespace: the proxy resolves a request's source IP to a worker pod and its Deployment.
    specs.role = {
      metadata: meta(an.name, wns, an.labels),
      rules: [
        { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] },
      ],
    };
    specs.roleBinding = {
      metadata: meta(an.name, wns, an.labels),
      subjects: [{ kind: "ServiceAccount", name: an.serviceAccountName, namespace: n.namespace }],
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: an.name },
    };
  }
  if (ae.persistence.enabled && !ae.persistence.existingClaim) {
    specs.claim = {
      metadata: meta(an.claimName, n.namespace, an.labels),
      spec: {
        accessModes: ["ReadWriteOnce"],
        storageClassName: ae.persistence.storageClassName || undefined,
        resources: { requests: { storage: ae.persistence.size } },
      },
    };
  }

  const env: EnvVar[] = [
    { name: "POD_NAMESPACE", value: wns },
    { name: "MINDROOM_EGRESS_PROXY_LISTEN_PORT", value: String(ae.service.proxyPort) },
    { name: "MINDROOM_APPROVED_EGRESS_API_PORT", value: String(ae.service.apiPort) },
    { name: "MINDROOM_EGRESS_ALLOWLIST_PATH", value: ae.allowlist.mountPath },
    { name: "MINDROOM_EGRESS_DB_PATH", value: an.dbPath },
  ];
  if (ae.maxTtlSeconds) env.push({ name: "MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS", value: ae.maxTtlSeconds });
  if (ae.logLevel) env.push({ name: "MINDROOM_APPROVED_EGRESS_LOG_LEVEL", value: ae.logLevel });
  if (squid !== undefined) env.push({ name: "MINDROOM_EGRESS_SQUID_CONFIG_PATH", value: SQUID_CHAIN_CONFIG_PATH });
  env.push({ name: "MINDROOM_APPROVED_EGRESS_TOKEN", valueFrom: { secretKeyRef: an.token } });

  const mounts: Record<string, unknown>[] = [
    { name: "allowlist", mountPath: ae.allowlist.mountPath, subPath: ae.allowlist.key, readOnly: true },
    { name: "data", mountPath: ae.dataPath },
  ];
  const volumes: Record<string, unknown>[] = [
    { name: "allowlist", configMap: { name: an.configMapName } },
    ae.persistence.enabled ? { name: "data", persistentVolumeClaim: { claimName: an.claimName } } : { name: "data", emptyDir: {} },
  ];
  if (squid !== undefined) {
    mounts.push({ name: "squid-config", mountPath: SQUID_CHAIN_CONFIG_PATH, subPath: "squid.conf", readOnly: true });
    volumes.push({ name: "squid-config", configMap: { name: an.squidConfigMapName } });
  }
  // The chain config is read at start only: its checksum on the pod restarts Squid when it changes.
  const annotations = { ...ae.podAnnotations, ...(squid !== undefined ? { "checksum/squid-config": createHash("sha256").update(squid).digest("hex") } : {}) };

  specs.deployment = cast<k8s.apps.v1.DeploymentArgs>({
    metadata: meta(an.name, n.namespace, an.labels),
    spec: {
      replicas: 1,
      // One grants database on a RWO volume: the old pod stops before the new one mounts it.
      strategy: { type: "Recreate" },
      selector: { matchLabels: an.selectorLabels },
      template: {
        metadata: { labels: { ...an.selectorLabels, ...ae.podLabels }, annotations: nonEmpty(annotations) },
        spec: {
          serviceAccountName: an.serviceAccountName,
          automountServiceAccountToken: ae.serviceAccount.automountServiceAccountToken,
          enableServiceLinks: false,
          securityContext: nonEmpty(ae.podSecurityContext),
          containers: [
            {
              name: "approved-egress-proxy",
              image: approvedEgressImage(ae.image),
              imagePullPolicy: ae.image.pullPolicy,
              env,
              ports: [
                { name: "proxy", containerPort: ae.service.proxyPort, protocol: "TCP" },
                { name: "policy-api", containerPort: ae.service.apiPort, protocol: "TCP" },
              ],
              readinessProbe: { httpGet: { path: "/healthz", port: "policy-api" }, periodSeconds: 10, timeoutSeconds: 3 },
              livenessProbe: { httpGet: { path: "/healthz", port: "policy-api" }, periodSeconds: 30, timeoutSeconds: 5 },
              resources: ae.resources,
              securityContext: nonEmpty(ae.securityContext),
              volumeMounts: mounts,
            },
          ],
          volumes,
        },
      },
    },
  });

  specs.service = {
    metadata: meta(an.name, n.namespace, an.labels, ae.service.annotations),
    spec: {
      type: "ClusterIP",
      selector: an.selectorLabels,
      ports: [
        { name: "proxy", port: ae.service.proxyPort, targetPort: "proxy", protocol: "TCP" },
        { name: "policy-api", port: ae.service.apiPort, targetPort: "policy-api", protocol: "TCP" },
      ],
    },
  };

  if (ae.networkPolicy.create) {
    // Workers reach the proxy port, the runtime reaches the policy API; nothing else gets in.
    specs.networkPolicy = {
      metadata: meta(an.networkPolicyName, n.namespace, n.labels),
      spec: {
        podSelector: { matchLabels: an.selectorLabels },
        policyTypes: ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": wns } }, podSelector: { matchLabels: { ...WORKER_POD_LABELS, ...v.workers.kubernetes.extraLabels } } }],
            ports: [{ port: ae.service.proxyPort, protocol: "TCP" }],
          },
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n.namespace } }, podSelector: { matchLabels: n.selectorLabels } }],
            ports: [{ port: ae.service.apiPort, protocol: "TCP" }],
          },
        ],
      },
    };
  }
  return specs as ApprovedEgressSpecs;
}

/** `MINDROOM_APPROVED_EGRESS_*` env of container `mindroom` (after the sandbox proxy token), when on. */
export function approvedEgressRuntimeEnv(v: RuntimeValues, n: RuntimeNames): EnvVar[] {
  const ae = v.approvedEgress;
  if (!ae.enabled) return [];
  const an = approvedEgressNames(v, n);
  const env: EnvVar[] = [];
  // Off when the operator's config already wires approved_egress itself.
  if (ae.manageRuntimeConfig) env.push({ name: "MINDROOM_APPROVED_EGRESS_ENABLED", value: "true" });
  env.push(
    { name: "MINDROOM_APPROVED_EGRESS_API_URL", value: an.apiUrl },
    { name: "MINDROOM_APPROVED_EGRESS_ALLOWLIST_PATH", value: ae.allowlist.mountPath },
    { name: "MINDROOM_APPROVED_EGRESS_TOKEN", valueFrom: { secretKeyRef: an.token } },
  );
  if (ae.maxTtlSeconds) env.push({ name: "MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS", value: ae.maxTtlSeconds });
  if (ae.sandboxProxyTimeoutSeconds) env.push({ name: "MINDROOM_SANDBOX_PROXY_TIMEOUT_SECONDS", value: ae.sandboxProxyTimeoutSeconds });
  return env;
}

/** The runtime reads the same allowlist the proxy enforces. */
export function approvedEgressRuntimeMounts(v: RuntimeValues): Record<string, unknown>[] {
  const ae = v.approvedEgress;
  return ae.enabled ? [{ name: "approved-egress-allowlist", mountPath: ae.allowlist.mountPath, subPath: ae.allowlist.key, readOnly: true }] : [];
}

export function approvedEgressRuntimeVolumes(v: RuntimeValues, n: RuntimeNames): Record<string, unknown>[] {
  return v.approvedEgress.enabled ? [{ name: "approved-egress-allowlist", configMap: { name: approvedEgressNames(v, n).configMapName } }] : [];
}
