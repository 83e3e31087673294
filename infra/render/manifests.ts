/**
 * Turns recorded registrations into Kubernetes manifests: secret handling, stable ordering and
 * YAML that means the same to Kubernetes (a YAML 1.1 reader) as it does to us.
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { stringify } from "yaml";
import type { Registration } from "./record";

/** Printed in place of every secret leaf; valid base64, so `Secret.data` stays schema-valid. */
export const REDACTED = "REDACTED";

export type KubeObject = { apiVersion: string; kind: string; metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, unknown>;

/** Helm's install order, so a rendered stream reads (and applies) like `helm template`. */
const KIND_ORDER = [
  "PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy",
  "PodDisruptionBudget", "ServiceAccount", "Secret", "SecretList", "ConfigMap", "StorageClass",
  "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
  "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding",
  "RoleBindingList", "Service", "DaemonSet", "Pod", "ReplicationController", "ReplicaSet", "Deployment",
  "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
];

function isSecretWrapper(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && (value as Record<string, unknown>)[specialSigKey] === specialSecretSig;
}

/** True when any part of `value` was registered as a Pulumi secret. */
export function containsSecret(value: unknown): boolean {
  if (isSecretWrapper(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

function redactLeaves(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactLeaves);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redactLeaves(isSecretWrapper(v) ? v.value : v)]));
  }
  return REDACTED;
}

/**
 * Unwraps secrets (`showSecrets`) or replaces their leaves with {@link REDACTED}, keeping the
 * shape (a redacted `stringData` map keeps its keys, so readers still see which keys exist).
 */
export function revealOrRedact(value: unknown, showSecrets: boolean): unknown {
  if (isSecretWrapper(value)) return showSecrets ? revealOrRedact(value.value, true) : redactLeaves(value.value);
  if (Array.isArray(value)) return value.map((v) => revealOrRedact(v, showSecrets));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, revealOrRedact(v, showSecrets)]));
  }
  return value;
}

/** The Kubernetes objects among the registrations (providers, components and other clouds excluded). */
export function kubeObjects(registrations: Registration[], showSecrets = false): KubeObject[] {
  const objects = registrations
    .filter((r) => r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers:"))
    .filter((r) => typeof r.inputs.apiVersion === "string" && typeof r.inputs.kind === "string")
    .map((r) => revealOrRedact(r.inputs, showSecrets) as KubeObject);
  const rank = (kind: string) => {
    const i = KIND_ORDER.indexOf(kind);
    return i < 0 ? KIND_ORDER.length : i;
  };
  return objects.sort(
    (a, b) => rank(a.kind) - rank(b.kind) || (a.metadata?.name ?? "").localeCompare(b.metadata?.name ?? ""),
  );
}

/**
 * A multi-document YAML stream. `version: "1.1"` makes the writer quote strings that a YAML 1.1
 * reader (Kubernetes) would take as booleans or numbers (`no`, `on`, `0400`, ...).
 */
export function toYamlStream(objects: KubeObject[]): string {
  return objects.map((o) => `---\n${stringify(o, { version: "1.1", lineWidth: 0, aliasDuplicateObjects: false })}`).join("");
}
