/**
 * `MindroomInstance`: one hosted tenant, the upstream "instance" chart as a ComponentResource.
 * A MindRoom runtime with its own Synapse (SQLite), two volumes, one Ingress with three hosts and
 * a NetworkPolicy, all in the shared namespace `mindroom-instances` under upstream's names.
 *
 * Values → spec → resources: args are resolved and validated first (a bad value throws one line
 * before anything registers), pure builders return object specs, and this class only instantiates
 * them with `{parent: this}`, so the caller's provider reaches every child.
 */
import * as pulumi from "@pulumi/pulumi";
// The API groups it uses, not the package index (which loads all ~30 groups: a render's start-up).
import * as admissionv1 from "@pulumi/kubernetes/admissionregistration/v1";
import * as appsv1 from "@pulumi/kubernetes/apps/v1";
import * as corev1 from "@pulumi/kubernetes/core/v1";
import * as networkingv1 from "@pulumi/kubernetes/networking/v1";
import * as rbacv1 from "@pulumi/kubernetes/rbac/v1";
import type { MindroomInstanceArgs } from "./args";
import { resolveInstance, NAMESPACE } from "./resolve";
import { validateInstance } from "./validate";
import { instanceNames } from "./names";
import { configHash, synapseConfigHash } from "./hashes";
import { secretMaterial, synapseSecret, tenantSecret } from "./secrets";
import { mindroomConfigMap } from "./mindroom-config";
import { synapseConfigMap, synapseSecretPathsProblem } from "./synapse-config";
import { mindroomDeployment } from "./mindroom-deployment";
import { synapseDeployment } from "./synapse-deployment";
import { networkPolicy } from "./network-policy";
import { ingress } from "./ingress";
import { mindroomClaim, synapseClaim } from "./storage";
import { mindroomService, synapseService } from "./services";
import { workerAuthSecret, workerManagerRole, workerManagerRoleBinding, workerManagerServiceAccount } from "./worker-rbac";
import { workerAdmissionPolicy, workerAdmissionPolicyBinding } from "./worker-admission";

export type * from "./args";
export { parseInstanceValues } from "./values";
export { NAMESPACE } from "./resolve";

export const MINDROOM_INSTANCE_TYPE = "mindroom:instance:MindroomInstance";

export class MindroomInstance extends pulumi.ComponentResource {
  /** The customer id's string form. */
  public readonly customer: string;
  public readonly namespace: string;
  public readonly urls: { frontend: string; api: string; matrix: string };
  /** The tenant Secret's name (created here, or operator-managed with `instanceSecrets.create=false`). */
  public readonly secretName: string;
  /** The two PVC names (kept on destroy unless `retainData=false`). */
  public readonly volumes: string[];
  public readonly deployments: string[];

  constructor(name: string, args: MindroomInstanceArgs, opts?: pulumi.ComponentResourceOptions) {
    const r = resolveInstance(args);
    validateInstance(r);
    super(MINDROOM_INSTANCE_TYPE, name, {}, opts);
    const n = instanceNames(r);
    const child = { parent: this };
    const secrets = secretMaterial(name, r, this);
    const oldSynapse = synapseSecretPathsProblem(r.synapseImage);
    if (oldSynapse) void pulumi.log.warn(oldSynapse, this);

    new networkingv1.NetworkPolicy(`${name}-network-policy`, networkPolicy(r, n), child);
    if (r.instanceSecrets.create) {
      // Kept on destroy in every case: volumes that outlive the stack need its credentials key (Deviation 9).
      new corev1.Secret(`${name}-api-keys`, tenantSecret(n, secrets.stringData), { ...child, retainOnDelete: true });
    }
    if (r.workerBackend === "kubernetes") {
      // The runtime merge-patches per-worker keys into this Secret; never prune or replace them.
      new corev1.Secret(`${name}-worker-auth`, workerAuthSecret(r, n), { ...child, ignoreChanges: ["data", "stringData"] });
      new corev1.ServiceAccount(`${name}-worker-manager`, workerManagerServiceAccount(r, n), child);
      new rbacv1.Role(`${name}-worker-manager`, workerManagerRole(r, n), child);
      // The grant only after the policy that confines it to this tenant's workers (and on destroy, gone first).
      const guard = [
        new admissionv1.ValidatingAdmissionPolicy(`${name}-worker-admission`, workerAdmissionPolicy(r, n), child),
        new admissionv1.ValidatingAdmissionPolicyBinding(`${name}-worker-admission`, workerAdmissionPolicyBinding(r, n), child),
      ];
      new rbacv1.RoleBinding(`${name}-worker-manager`, workerManagerRoleBinding(r, n), { ...child, dependsOn: guard });
    }
    new corev1.ConfigMap(`${name}-mindroom-config`, mindroomConfigMap(r, n), child);
    new corev1.Secret(`${name}-synapse-secrets`, synapseSecret(r, n, secrets.synapseStringData), child);
    new corev1.ConfigMap(`${name}-synapse-config`, synapseConfigMap(r, n), child);
    const keep = { ...child, retainOnDelete: r.retainData };
    new corev1.PersistentVolumeClaim(`${name}-mindroom-storage`, mindroomClaim(r, n), keep);
    new corev1.PersistentVolumeClaim(`${name}-synapse-storage`, synapseClaim(r, n), keep);
    new corev1.Service(`${name}-mindroom`, mindroomService(r, n), child);
    new corev1.Service(`${name}-synapse`, synapseService(r, n), child);
    new appsv1.Deployment(`${name}-mindroom`, mindroomDeployment(r, n, secrets.hash, configHash(r)), child);
    new appsv1.Deployment(`${name}-synapse`, synapseDeployment(r, n, secrets.hash, synapseConfigHash(r), secrets.synapseHash), child);
    new networkingv1.Ingress(`${name}-ingress`, ingress(r, n), child);

    this.customer = r.customer;
    this.namespace = NAMESPACE;
    this.urls = { frontend: `https://${n.hosts.frontend}`, api: `https://${n.hosts.api}`, matrix: `https://${n.hosts.matrix}` };
    this.secretName = n.apiKeysSecret;
    this.volumes = [n.mindroomStorage, n.synapseStorage];
    this.deployments = [n.mindroom, n.synapse];
    this.registerOutputs({
      customer: this.customer,
      namespace: this.namespace,
      urls: this.urls,
      secretName: this.secretName,
      volumes: this.volumes,
      deployments: this.deployments,
    });
  }
}
