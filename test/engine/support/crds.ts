/**
 * Custom kinds the renderers emit whose operators are not installed on the test control plane.
 * Each gets a minimal CRD (open schema: x-kubernetes-preserve-unknown-fields), so the object is
 * really stored and read back, but its spec is NOT checked against the operator's own schema.
 * Tests print this list; a custom kind missing here fails the apply ("no matches for kind").
 */
import type { Obj } from "./apply";

export interface CustomKind {
  group: string;
  version: string;
  kind: string;
  plural: string;
  scope: "Namespaced" | "Cluster";
  /** Why it is not the real CRD. */
  reason: string;
}

const PROMETHEUS_OPERATOR = "prometheus-operator (kube-prometheus-stack) is not installed here";
const CERT_MANAGER = "cert-manager is not installed here";

export const CUSTOM_KINDS: CustomKind[] = [
  { group: "monitoring.coreos.com", version: "v1", kind: "ServiceMonitor", plural: "servicemonitors", scope: "Namespaced", reason: PROMETHEUS_OPERATOR },
  { group: "monitoring.coreos.com", version: "v1", kind: "PrometheusRule", plural: "prometheusrules", scope: "Namespaced", reason: PROMETHEUS_OPERATOR },
  { group: "cert-manager.io", version: "v1", kind: "ClusterIssuer", plural: "clusterissuers", scope: "Cluster", reason: CERT_MANAGER },
  { group: "cert-manager.io", version: "v1", kind: "Certificate", plural: "certificates", scope: "Namespaced", reason: CERT_MANAGER },
];

export function customKindOf(o: Obj): CustomKind | undefined {
  return CUSTOM_KINDS.find((c) => `${c.group}/${c.version}` === o.apiVersion && c.kind === o.kind);
}

export function minimalCrd(c: CustomKind): Obj {
  return {
    apiVersion: "apiextensions.k8s.io/v1",
    kind: "CustomResourceDefinition",
    metadata: { name: `${c.plural}.${c.group}`, labels: { "mindroom.test/minimal-crd": "true" } },
    spec: {
      group: c.group,
      scope: c.scope,
      names: { kind: c.kind, plural: c.plural, singular: c.kind.toLowerCase(), listKind: `${c.kind}List` },
      versions: [{ name: c.version, served: true, storage: true, schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } } }],
    },
  };
}
