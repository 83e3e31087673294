/** Service, ServiceAccount, config ConfigMap, storage PVC, proxy-token Secret, PDB and the API NetworkPolicy. */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { cast, meta, nonEmpty } from "./util";

/** Service `{fullname}` (spec §3.5). */
export function serviceSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.ServiceArgs {
  return {
    metadata: meta(n.fullname, n.namespace, n.labels, v.service.annotations),
    spec: {
      type: v.service.type,
      ports: [{ name: "api", port: v.service.port, targetPort: "api", protocol: "TCP" }],
      selector: n.selectorLabels,
    },
  };
}

/** Runtime ServiceAccount (spec §3.6), when `serviceAccount.create`. */
export function serviceAccountSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.ServiceAccountArgs | undefined {
  if (!v.serviceAccount.create) return undefined;
  return {
    metadata: meta(n.serviceAccountName, n.namespace, n.labels, v.serviceAccount.annotations),
    automountServiceAccountToken: v.serviceAccount.automountServiceAccountToken,
  };
}

/** The minimal config the chart ships when `config.data` is empty (spec §4). */
export function defaultConfigYaml(v: RuntimeValues): string {
  const journal = [`  backend: ${v.eventCache.backend}`];
  if (v.eventCache.backend === "postgres") journal.push(`  database_url_env: ${v.eventCache.databaseUrlEnv}`);
  return ["agents: {}", "models: {}", "event_journal:", ...journal, ""].join("\n");
}

/** ConfigMap `{fullname}-config` (spec §4): configMap mode, `create`, no `existingConfigMap`. */
export function configMapSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.ConfigMapArgs | undefined {
  if (!n.usesConfigMap || !v.config.create || v.config.existingConfigMap) return undefined;
  return {
    metadata: meta(n.configMapName, n.namespace, n.labels),
    data: { [v.config.key]: v.config.data || defaultConfigYaml(v) },
  };
}

/** PVC `{fullname}-storage` (spec §5): `create` and no `existingClaim`. */
export function storageClaimSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.PersistentVolumeClaimArgs | undefined {
  if (!v.storage.create || v.storage.existingClaim) return undefined;
  return {
    metadata: meta(n.storageClaimName, n.namespace, n.labels),
    spec: {
      accessModes: v.storage.accessModes,
      storageClassName: v.storage.storageClassName || undefined,
      resources: { requests: { storage: v.storage.size } },
    },
  };
}

/** Secret `{fullname}-sandbox-proxy` (spec §7.3), only for an inline `proxyToken.value`. */
export function proxyTokenSecretSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.SecretArgs | undefined {
  const token = v.workers.sandbox.proxyToken;
  if (token.existingSecret || token.value === "" || !n.proxyToken) return undefined;
  return {
    metadata: meta(n.proxyToken.name, n.namespace, n.labels),
    type: "Opaque",
    stringData: { [token.key]: pulumi.secret(token.value) },
  };
}

/** PodDisruptionBudget `{fullname}` (spec §10). */
export function pdbSpec(v: RuntimeValues, n: RuntimeNames): k8s.policy.v1.PodDisruptionBudgetArgs | undefined {
  const pdb = v.podDisruptionBudget;
  if (!pdb.create) return undefined;
  const budget = pdb.minAvailable !== "" ? { minAvailable: pdb.minAvailable } : { maxUnavailable: pdb.maxUnavailable };
  return {
    metadata: meta(n.fullname, n.namespace, n.labels),
    spec: { selector: { matchLabels: n.selectorLabels }, ...budget },
  };
}

/** Control-plane NetworkPolicy (spec §9.2), opt-in. */
export function apiNetworkPolicySpec(v: RuntimeValues, n: RuntimeNames): k8s.networking.v1.NetworkPolicyArgs | undefined {
  const np = v.networkPolicy;
  if (!np.create) return undefined;
  const egress = nonEmpty(np.extraEgress);
  return cast<k8s.networking.v1.NetworkPolicyArgs>({
    metadata: meta(np.name || n.fullname, n.namespace, n.labels),
    spec: {
      podSelector: { matchLabels: n.selectorLabels },
      policyTypes: egress ? ["Ingress", "Egress"] : ["Ingress"],
      ingress: [{ from: nonEmpty(np.apiIngressFrom), ports: [{ protocol: "TCP", port: v.runtime.apiPort }] }, ...np.extraIngress],
      egress,
    },
  });
}
