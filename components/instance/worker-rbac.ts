/**
 * `kubernetes` worker mode (spec §6.2): the ServiceAccount the MindRoom pod runs as, a Role that
 * lets it manage worker Deployments/Services and patch only its own worker-auth Secret, the
 * binding, and that Secret (declared empty; the runtime merge-patches per-worker keys into it).
 * The Role cannot narrow `create` by name or content; worker-admission.ts confines it to this
 * tenant's own workers.
 */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, type InstanceNames } from "./names";

const meta = (name: string, r: ResolvedInstance) => ({ name, namespace: NAMESPACE, labels: appLabels("mindroom", r) });

export function workerManagerServiceAccount(r: ResolvedInstance, n: InstanceNames): k8s.types.input.core.v1.ServiceAccount {
  return { metadata: meta(n.workerManager, r), ...(r.imagePullSecrets.length > 0 ? { imagePullSecrets: r.imagePullSecrets } : {}) };
}

export function workerManagerRole(r: ResolvedInstance, n: InstanceNames): k8s.types.input.rbac.v1.Role {
  return {
    metadata: meta(n.workerManager, r),
    rules: [
      { apiGroups: [""], resources: ["services"], verbs: ["get", "create", "patch", "delete"] },
      // No list/create on secrets and no other name: a tenant cannot read another tenant's keys.
      { apiGroups: [""], resources: ["secrets"], resourceNames: [n.workerAuthSecret], verbs: ["get", "patch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "patch", "delete"] },
    ],
  };
}

export function workerManagerRoleBinding(r: ResolvedInstance, n: InstanceNames): k8s.types.input.rbac.v1.RoleBinding {
  return {
    metadata: meta(n.workerManager, r),
    subjects: [{ kind: "ServiceAccount", name: n.workerManager, namespace: NAMESPACE }],
    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: n.workerManager },
  };
}

export function workerAuthSecret(r: ResolvedInstance, n: InstanceNames): k8s.types.input.core.v1.Secret {
  return { metadata: meta(n.workerAuthSecret, r), type: "Opaque" };
}
