/** Objects of kubernetes worker mode (spec §7.2, §9.1): worker SA, worker-auth Secret, RBAC, workers NetworkPolicy. */
import type * as k8s from "@pulumi/kubernetes";
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { workerEgressRules } from "./egress-proxy";
import { meta } from "./util";

/** Labels MindRoom puts on every worker pod it creates. */
export const WORKER_POD_LABELS = {
  "mindroom.ai/component": "worker",
  "app.kubernetes.io/managed-by": "mindroom",
  "app.kubernetes.io/name": "mindroom-worker",
};

const ALL_VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"];

export interface WorkerSpecs {
  serviceAccount?: k8s.core.v1.ServiceAccountArgs;
  /** Empty; the runtime merge-patches per-worker tokens into it, so its data is never Pulumi's. */
  authSecret?: k8s.core.v1.SecretArgs;
  role?: k8s.rbac.v1.RoleArgs;
  roleBinding?: k8s.rbac.v1.RoleBindingArgs;
  networkPolicy?: k8s.networking.v1.NetworkPolicyArgs;
}

export function workerSpecs(v: RuntimeValues, n: RuntimeNames): WorkerSpecs {
  if (!n.kubernetesWorkers) return {};
  const wk = v.workers.kubernetes;
  const wns = n.workerNamespace;
  const specs: WorkerSpecs = {};

  if (wk.serviceAccount.create) {
    specs.serviceAccount = {
      metadata: meta(n.workerServiceAccountName, wns, { ...n.labels, "app.kubernetes.io/component": "worker" }, wk.serviceAccount.annotations),
      automountServiceAccountToken: wk.serviceAccount.automountServiceAccountToken,
    };
  }

  if (n.workerAuthSecretName) {
    specs.authSecret = { metadata: meta(n.workerAuthSecretName, wns, n.labels), type: "Opaque" };
  }

  if (wk.rbac.create) {
    // Same namespace: only the one pre-created Secret. Separate worker namespace: per-worker Secrets, but only there.
    const secretsRule = n.workerAuthSecretName
      ? { apiGroups: [""], resources: ["secrets"], resourceNames: [n.workerAuthSecretName], verbs: ["get", "patch"] }
      : { apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "get", "patch"] };
    specs.role = {
      metadata: meta(n.workerManagerName, wns, n.labels),
      rules: [
        { apiGroups: [""], resources: ["services"], verbs: ALL_VERBS },
        secretsRule,
        { apiGroups: [""], resources: ["pods", "pods/log", "events"], verbs: ["get", "list", "watch"] },
        { apiGroups: ["apps"], resources: ["deployments"], verbs: ALL_VERBS },
      ],
    };
    specs.roleBinding = {
      metadata: meta(n.workerManagerName, wns, n.labels),
      subjects: [{ kind: "ServiceAccount", name: n.serviceAccountName, namespace: n.namespace }],
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: n.workerManagerName },
    };
  }

  if (wk.networkPolicy.create) {
    const egress = workerEgressRules(v, n);
    specs.networkPolicy = {
      metadata: meta(wk.networkPolicy.name || `${n.fullname}-workers`, wns, n.labels),
      spec: {
        podSelector: { matchLabels: { ...WORKER_POD_LABELS, ...wk.extraLabels } },
        // Ingress only, unless an egress proxy is on: then the proxy is the workers' only way out.
        policyTypes: egress ? ["Ingress", "Egress"] : ["Ingress"],
        ingress: [
          {
            from: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n.namespace } }, podSelector: { matchLabels: n.selectorLabels } }],
            ports: [{ protocol: "TCP", port: wk.port }],
          },
        ],
        egress: egress as k8s.types.input.networking.v1.NetworkPolicyEgressRule[] | undefined,
      },
    };
  }
  return specs;
}
