/**
 * What ServiceAccount `platform-backend` may do (platform.md §7). Upstream the backend runs
 * kubectl/helm against `mindroom-instances`; in the project the Express provisioner runs under the
 * same ServiceAccount and drives the tenant stacks with it, so these rules are the real permission
 * boundary of every tenant `up`/`destroy` (provisioner.md §1.2).
 *
 * Roles in `mindroom-instances` and tenant worker RBAC — how the escalation check is met:
 * Kubernetes lets a subject create or update a Role only if it already holds every permission in
 * it, and create a RoleBinding only if it holds the bound Role's permissions — unless it has the
 * `escalate` / `bind` verbs. We choose "hold every permission" and grant neither verb: the tenant
 * worker-manager Role (instance.md §6.2: services, one named secret, pods get, deployments) is a
 * subset of Role `platform-backend`, so creating it and binding it pass the check, while the
 * provisioner (or a stolen token) still cannot mint a Role stronger than itself — `escalate` or
 * `bind` would let it grant itself anything in the namespace, e.g. `pods/exec` or secrets of other
 * tenants via a broader Role.
 *
 * Cluster-scoped, besides namespaces: a kubernetes-worker-mode tenant's stack owns a
 * ValidatingAdmissionPolicy and its binding (`mindroom-worker-manager-{c}`), which confine that
 * tenant's worker manager to its own workers. Kubernetes cannot narrow `create` by name, so the
 * provisioner may manage every such policy in the cluster: it could remove or add admission policies
 * (deny-only; a policy can never grant, and a `paramKind` needs read access to that kind, which the
 * API server checks at creation), nothing more. It already holds every tenant's Secrets.
 *
 * Not granted on purpose: Endpoints and StorageClasses (tenant objects carry
 * `pulumi.com/skipAwait`, pulumi.md §5.5, so the provider never waits on Endpoints or looks up a
 * PVC's StorageClass; the storage class the provisioner preserves is read from the PVC itself,
 * provisioner.md §6.6), `pods/exec`, `batch`, any ClusterRole/ClusterRoleBinding verbs.
 */
import type * as k8s from "@pulumi/kubernetes";
import { INSTANCES_NAMESPACE, SERVICE_ACCOUNT_NAME, namespaceManagerName, platformNamespace } from "./names";

type PolicyRule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** Everything Pulumi does to an object it owns: read and refresh (get/list/watch), apply (create/update/patch), destroy (delete). */
const MANAGE = ["get", "list", "watch", "create", "update", "patch", "delete"];
const READ = ["get", "list", "watch"];

/** Role `platform-backend`, identical to upstream (Deviation 4 leaves it unchanged). */
export const BACKEND_ROLE_RULES: PolicyRule[] = [
  {
    // Tenant stacks own ConfigMaps (mindroom/synapse config), Secrets (tenant keys, worker auth),
    // Services, PVCs and ServiceAccounts (worker manager). The provisioner also reads the live tenant
    // Secret (credentials key, sandbox token: provisioner.md §6.7-6.8), reads PVCs to preserve their
    // storage class (§6.6) and deletes Helm release records after migration (§6.11).
    apiGroups: [""],
    resources: ["configmaps", "secrets", "services", "persistentvolumeclaims", "serviceaccounts"],
    verbs: MANAGE,
  },
  {
    // Status and diagnostics: `GET /system/instances/{id}/logs` lists a Deployment's pods and reads
    // `pods/log` (fleet.md), nothing more (no exec/attach/portforward). `pods get` is also in the
    // tenant worker-manager Role, so holding it is what lets the provisioner create that Role without `escalate`.
    apiGroups: [""],
    resources: ["pods", "pods/log", "events"],
    verbs: READ,
  },
  {
    // Tenant Deployments; `deployments/scale` for start/stop (provisioner.md §7); rollout restart is a
    // patch of the Deployment's pod template. StatefulSets/ReplicaSets: upstream's Helm use, kept unchanged.
    apiGroups: ["apps"],
    resources: ["deployments", "deployments/scale", "statefulsets", "replicasets"],
    verbs: MANAGE,
  },
  {
    // Each tenant stack owns its NetworkPolicy and Ingress.
    apiGroups: ["networking.k8s.io"],
    resources: ["networkpolicies", "ingresses"],
    verbs: MANAGE,
  },
  {
    // Ingress address readout (upstream kept): read-only.
    apiGroups: ["networking.k8s.io"],
    resources: ["ingresses/status"],
    verbs: ["get", "watch"],
  },
];

/** Role `platform-backend-tenant-rbac` (Deviation 4): kubernetes-worker-mode tenants own a Role and a RoleBinding. */
export const TENANT_RBAC_RULES: PolicyRule[] = [
  {
    // Namespace-scoped only, no escalate/bind: see the file comment for why the escalation check passes.
    apiGroups: ["rbac.authorization.k8s.io"],
    resources: ["roles", "rolebindings"],
    verbs: MANAGE,
  },
];

/**
 * ClusterRole `platform-backend-namespace-manager-{env}`: upstream's backend creates
 * `mindroom-instances` on every run (errors ignored). Kept for the upstream backend image; the
 * Express provisioner creates no namespace (the root stack owns it). No delete.
 */
export const NAMESPACE_MANAGER_RULES: PolicyRule[] = [
  { apiGroups: [""], resources: ["namespaces"], verbs: ["get", "list", "watch", "create", "update", "patch"] },
];

/**
 * ClusterRole `platform-backend-worker-admission-{env}` (project): the tenant worker admission
 * policies and bindings, which are cluster-scoped (see the file comment).
 */
export const WORKER_ADMISSION_RULES: PolicyRule[] = [
  { apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingadmissionpolicies", "validatingadmissionpolicybindings"], verbs: MANAGE },
];

const subjects = (environment: string) => [{ kind: "ServiceAccount", name: SERVICE_ACCOUNT_NAME, namespace: platformNamespace(environment) }];

export function serviceAccount(environment: string): k8s.core.v1.ServiceAccountArgs {
  return { metadata: { name: SERVICE_ACCOUNT_NAME, namespace: platformNamespace(environment) } };
}

export function role(name: string, rules: PolicyRule[]): k8s.rbac.v1.RoleArgs {
  return { metadata: { name, namespace: INSTANCES_NAMESPACE }, rules };
}

export function roleBinding(name: string, environment: string): k8s.rbac.v1.RoleBindingArgs {
  return {
    metadata: { name, namespace: INSTANCES_NAMESPACE },
    subjects: subjects(environment),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name },
  };
}

export function clusterRole(environment: string, name = namespaceManagerName(environment), rules = NAMESPACE_MANAGER_RULES): k8s.rbac.v1.ClusterRoleArgs {
  return { metadata: { name }, rules };
}

export function clusterRoleBinding(environment: string, name = namespaceManagerName(environment)): k8s.rbac.v1.ClusterRoleBindingArgs {
  return {
    metadata: { name },
    subjects: subjects(environment),
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name },
  };
}
