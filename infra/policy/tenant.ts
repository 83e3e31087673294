/**
 * Tenant rules for the shared namespace `mindroom-instances` (docs/policy.md):
 *
 * - every tenant object carries the label `customer` (and a workload's pod template too), so the
 *   provisioner, the NetworkPolicy selectors and an operator can tell whose it is;
 * - every tenant pod is selected by a NetworkPolicy in that namespace (a pod no policy selects
 *   accepts traffic from every other tenant);
 * - every tenant volume claim names an allowed storage class (`hcloud-volumes` on the Hetzner
 *   cluster): unset means the cluster default, on k3s `local-path`, a node-local directory that
 *   pins the tenant to one node and is lost with it;
 * - no tenant pod mounts the token of the namespace's `default` ServiceAccount: no tenant workload
 *   uses that account, so its token is only a credential to steal (the MindRoom pod runs agents'
 *   shell and python). A pod of its own account (the worker manager) keeps its token.
 */
import { TENANT_NAMESPACE } from "../tenant-names";
import { labelsOf, podTemplateOf, ref, type KubeObject, type Obj } from "./kube";

export const CUSTOMER_LABEL = "customer";

/** The storage classes tenant claims may name unless the pack's config says otherwise. */
export const DEFAULT_TENANT_STORAGE_CLASSES = ["hcloud-volumes"];

const inTenantNamespace = (obj: KubeObject) => obj.metadata?.namespace === TENANT_NAMESPACE;

/**
 * Objects in `mindroom-instances` that carry no `customer` label by contract, each with its reason.
 * - The tenant's Secret `mindroom-api-keys-{c}`, ConfigMap `mindroom-config-{c}` and Ingress
 *   `{c}-ingress` have no labels in upstream's chart (shared/spec instance.md §2, "labels: none"),
 *   and the stack adopts Helm-era tenants' objects exactly as they are (docs/instance.md,
 *   "Migrating a tenant from Helm"). The customer is in their names.
 * - The platform's Role and RoleBinding `platform-backend` and `platform-backend-tenant-rbac`
 *   grant the provisioner on the whole namespace and belong to no tenant.
 */
export const UNLABELLED_BY_CONTRACT: { kind: string; name: RegExp; reason: string }[] = [
  { kind: "Secret", name: /^mindroom-api-keys-.+$/, reason: "upstream's tenant Secret, no labels (spec instance.md §2)" },
  { kind: "ConfigMap", name: /^mindroom-config-.+$/, reason: "upstream's MindRoom ConfigMap, no labels (spec instance.md §2)" },
  { kind: "Ingress", name: /^.+-ingress$/, reason: "upstream's tenant Ingress, no labels (spec instance.md §2)" },
  { kind: "Role", name: /^platform-backend(-tenant-rbac)?$/, reason: "the platform's grant on the namespace, no tenant's" },
  { kind: "RoleBinding", name: /^platform-backend(-tenant-rbac)?$/, reason: "the platform's grant on the namespace, no tenant's" },
];

/** A tenant object without its `customer` label (or a workload whose pods lack it). */
export function customerLabelViolations(obj: KubeObject): string[] {
  if (!inTenantNamespace(obj)) return [];
  if (UNLABELLED_BY_CONTRACT.some((e) => e.kind === obj.kind && e.name.test(obj.metadata?.name ?? ""))) return [];
  const out: string[] = [];
  const value = labelsOf(obj)[CUSTOMER_LABEL];
  if (typeof value !== "string" || value === "") out.push(`objects in ${TENANT_NAMESPACE} must carry the label ${CUSTOMER_LABEL}=<tenant id>`);
  const template = podTemplateOf(obj);
  if (template && obj.kind !== "Pod") {
    const podValue = labelsOf(template)[CUSTOMER_LABEL];
    if (typeof podValue !== "string" || podValue === "") out.push(`the pod template must carry the label ${CUSTOMER_LABEL}=<tenant id>`);
    else if (typeof value === "string" && value !== "" && podValue !== value) out.push(`the pod template's ${CUSTOMER_LABEL}=${podValue} differs from the object's ${CUSTOMER_LABEL}=${value}`);
  }
  return out;
}

/** A tenant claim (PVC, or a StatefulSet's claim template) on a class not in `allowed`. */
export function storageClassViolations(obj: KubeObject, allowed: string[] = DEFAULT_TENANT_STORAGE_CLASSES): string[] {
  if (!inTenantNamespace(obj)) return [];
  const claims: { what: string; spec: Obj }[] = [];
  if (obj.kind === "PersistentVolumeClaim") claims.push({ what: "the claim", spec: obj.spec ?? {} });
  if (obj.kind === "StatefulSet") {
    for (const t of (obj.spec?.volumeClaimTemplates ?? []) as Obj[]) claims.push({ what: `claim template "${t.metadata?.name}"`, spec: t.spec ?? {} });
  }
  const out: string[] = [];
  const list = allowed.join(", ");
  for (const { what, spec } of claims) {
    const cls = spec.storageClassName;
    if (cls === undefined || cls === null || cls === "") out.push(`${what} sets no storageClassName (the cluster default); tenant claims use ${list}`);
    else if (!allowed.includes(cls)) out.push(`${what} uses storage class "${cls}"; tenant claims use ${list}`);
  }
  return out;
}

/** Whether a label selector (`matchLabels` and `matchExpressions`) selects `labels`. An empty selector selects all. */
export function selects(selector: Obj | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries((selector.matchLabels ?? {}) as Record<string, string>)) if (labels[k] !== v) return false;
  for (const e of (selector.matchExpressions ?? []) as Obj[]) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const values = (e.values ?? []) as string[];
    switch (e.operator) {
      case "In":
        if (!has || !values.includes(labels[e.key])) return false;
        break;
      case "NotIn":
        if (has && values.includes(labels[e.key])) return false;
        break;
      case "Exists":
        if (!has) return false;
        break;
      case "DoesNotExist":
        if (has) return false;
        break;
      default:
        return false;
    }
  }
  return true;
}

export interface StackViolation {
  /** Index of the offending object in the list checked. */
  index: number;
  message: string;
}

export type PolicyDirection = "Ingress" | "Egress";

/**
 * Whether a NetworkPolicy governs `direction` for the pods it selects: `policyTypes` names it, or,
 * unset (the API server's default), Ingress always and Egress when the policy has egress rules.
 */
const governs = (p: KubeObject, direction: PolicyDirection) => {
  const types = p.spec?.policyTypes as string[] | undefined;
  if (types === undefined || types.length === 0) return direction === "Ingress" || p.spec?.egress !== undefined;
  return types.includes(direction);
};

/** A pod template in scope and the directions in which no NetworkPolicy of its own namespace selects it. */
export interface UncoveredPods {
  index: number;
  obj: KubeObject;
  labels: Record<string, string>;
  missing: PolicyDirection[];
}

/** Every pod template in a namespace `inScope` admits that some NetworkPolicy of that namespace among `objects` leaves open in one of `directions`. */
export function uncoveredPods(objects: KubeObject[], inScope: (namespace: string) => boolean, directions: PolicyDirection[]): UncoveredPods[] {
  const policies = objects.filter((o) => o.kind === "NetworkPolicy");
  const out: UncoveredPods[] = [];
  objects.forEach((obj, index) => {
    const namespace = obj.metadata?.namespace;
    const template = podTemplateOf(obj);
    if (namespace === undefined || !inScope(namespace) || !template) return;
    const labels = labelsOf(template);
    const own = policies.filter((p) => p.metadata?.namespace === namespace && selects(p.spec?.podSelector, labels));
    const missing = directions.filter((d) => !own.some((p) => governs(p, d)));
    if (missing.length > 0) out.push({ index, obj, labels, missing });
  });
  return out;
}

/**
 * Every tenant pod (template) that no NetworkPolicy in `mindroom-instances` among `objects` selects
 * for ingress. A policy of `policyTypes: [Egress]` alone leaves the pod open to every other tenant.
 */
export function networkPolicyCoverageViolations(objects: KubeObject[]): StackViolation[] {
  return uncoveredPods(objects, (ns) => ns === TENANT_NAMESPACE, ["Ingress"]).map(({ index, obj, labels }) => ({
    index,
    message: `${ref(obj)}: no NetworkPolicy in ${TENANT_NAMESPACE} selects its pods for ingress (labels ${JSON.stringify(labels)})`,
  }));
}

/** A tenant pod template that runs as ServiceAccount `default` without `automountServiceAccountToken: false`. */
export function defaultTokenViolations(obj: KubeObject): string[] {
  if (!inTenantNamespace(obj)) return [];
  const spec = podTemplateOf(obj)?.spec;
  if (!spec) return [];
  const account = spec.serviceAccountName || spec.serviceAccount || "default";
  if (account !== "default" || spec.automountServiceAccountToken === false) return [];
  return ["the pod runs as ServiceAccount default and mounts its token; set automountServiceAccountToken: false (no tenant workload uses that account)"];
}
