/**
 * Tenant isolation in `kubernetes` worker mode (project deviation, docs/instance.md "Worker
 * isolation"). The worker-manager Role (worker-rbac.ts) has to grant `create` on Deployments and
 * Services, which Kubernetes cannot narrow by name or content: alone it would let one tenant's
 * runtime start pods in the shared namespace that mount another tenant's Secrets or volumes, run as
 * another tenant's ServiceAccount, carry another tenant's `customer` label (and so pass that
 * tenant's NetworkPolicy), run privileged or on the host, or patch and delete another tenant's
 * workers.
 *
 * This ValidatingAdmissionPolicy closes that. It applies only to requests made by this tenant's
 * worker-manager ServiceAccount (`matchConditions` on the username) and admits only objects of the
 * shape the MindRoom runtime creates for this tenant (spec instance.md §6.2, "Worker pods"):
 * Deployments and Services named `{prefix}-{24 hex}`, labelled `customer={c}` and
 * `mindroom.ai/component=worker`, whose pods use only this tenant's worker-auth Secret, config
 * ConfigMap and storage PVC, this tenant's worker ServiceAccount without a token, no host
 * namespaces, ports or paths, no privilege, and at most the configured node pin. Changes and
 * deletes need the existing object to be this tenant's worker (`oldObject`).
 *
 * The policy and its binding are cluster-scoped, so their name carries the customer id. Every
 * tenant value is embedded as a CEL string literal; the expressions use only CEL that Kubernetes
 * 1.30 (admissionregistration.k8s.io/v1 GA; the cluster runs 1.31) already evaluates.
 */
import type * as k8s from "@pulumi/kubernetes";
import type { ResolvedInstance } from "./resolve";
import { NAMESPACE } from "./resolve";
import { appLabels, type InstanceNames } from "./names";

/** The runtime's worker labels (mindroom `_LABEL_COMPONENT`); `customer` comes from `…_LABELS_JSON`. */
export const WORKER_COMPONENT_LABEL = "mindroom.ai/component";
/** The runtime names workers `{prefix}-{first 24 hex of sha256(worker key)}` (mindroom `worker_id_for_key`). */
export const WORKER_NAME_HASH_LENGTH = 24;
/** The longest prefix the runtime keeps as given: 63 − 24 hex − 1 dash. */
export const MAX_WORKER_NAME_PREFIX_LENGTH = 63 - WORKER_NAME_HASH_LENGTH - 1;

/** A CEL string literal: JSON's escapes (`\"`, `\\`, `\n`, `\uXXXX`) are all valid CEL escapes. */
const lit = (s: string): string => JSON.stringify(s);
const list = (xs: string[]): string => `[${xs.map(lit).join(", ")}]`;
const isTrue = (field: string): string => `(has(${field}) && ${field} == true)`;

/** The username the API server gives this tenant's worker-manager ServiceAccount. */
export function workerManagerUsername(n: InstanceNames): string {
  return `system:serviceaccount:${NAMESPACE}:${n.workerManager}`;
}

/** What the policy admits for one tenant: the values its CEL compares against. */
export interface WorkerShape {
  customer: string;
  namePrefix: string;
  authSecret: string;
  configMap: string;
  storageClaim: string;
  serviceAccount: string;
  ownerDeployment: string;
  /** `""`: workers must not set `nodeName`. */
  nodeName: string;
  imagePullSecrets: string[];
}

export function workerShape(r: ResolvedInstance, n: InstanceNames): WorkerShape {
  return {
    customer: r.customer,
    namePrefix: r.kubernetesWorker.namePrefix,
    authSecret: n.workerAuthSecret,
    configMap: n.mindroomConfig,
    storageClaim: n.mindroomStorage,
    serviceAccount: r.kubernetesWorker.serviceAccountName,
    ownerDeployment: n.mindroom,
    nodeName: r.controlPlaneNodeName,
    imagePullSecrets: r.imagePullSecrets.map((s) => s.name),
  };
}

interface Rule {
  expression: string;
  message: string;
}

/** `pred` (over `c`) holds for every container and init container of the pod template. */
const everyContainer = (pred: string): string =>
  `variables.pod.containers.all(c, ${pred}) && (!has(variables.pod.initContainers) || variables.pod.initContainers.all(c, ${pred}))`;

/** The validations, in the order the API server reports them; each message is one line. */
export function workerAdmissionRules(s: WorkerShape): Rule[] {
  const c = lit(s.customer);
  const ownedBy = (o: string) =>
    `has(${o}.metadata.labels) && "customer" in ${o}.metadata.labels && ${o}.metadata.labels["customer"] == ${c} && ` +
    `${lit(WORKER_COMPONENT_LABEL)} in ${o}.metadata.labels && ${o}.metadata.labels[${lit(WORKER_COMPONENT_LABEL)}] == "worker"`;
  const labelIs = (map: string) => `has(${map}) && "customer" in ${map} && ${map}["customer"] == ${c}`;
  const who = `mindroom-worker-manager-${s.customer}`;
  // Only for objects being written (not DELETE), and only Deployments for the pod rules.
  const written = (e: string) => `variables.isDelete || (${e})`;
  const deployment = (e: string) => `variables.isDelete || !variables.isDeployment || (${e})`;
  const service = (e: string) => `variables.isDelete || variables.isDeployment || (${e})`;
  const sc = "c.securityContext";
  const psc = "variables.pod.securityContext";
  const nodeName = s.nodeName === "" ? "!has(variables.pod.nodeName)" : `(!has(variables.pod.nodeName) || variables.pod.nodeName == ${lit(s.nodeName)})`;
  const none = (field: string) => `(!has(${field}) || size(${field}) == 0)`;
  return [
    {
      expression: `!variables.isUpdateOrDelete || (${ownedBy("oldObject")})`,
      message: `${who} may change or delete only its own workers (labels customer=${s.customer}, ${WORKER_COMPONENT_LABEL}=worker)`,
    },
    {
      expression: written(ownedBy("object")),
      message: `${who}: worker objects must carry the labels customer=${s.customer} and ${WORKER_COMPONENT_LABEL}=worker`,
    },
    {
      expression: `request.operation != "CREATE" || object.metadata.name.matches(${lit(`^${s.namePrefix}-[0-9a-f]{${WORKER_NAME_HASH_LENGTH}}$`)})`,
      message: `${who}: worker names must be ${s.namePrefix}-<${WORKER_NAME_HASH_LENGTH} hex characters> (kubernetesWorkerNamePrefix)`,
    },
    {
      expression: written(
        `!has(object.metadata.ownerReferences) || object.metadata.ownerReferences.all(o, o.kind == "Deployment" && o.name == ${lit(s.ownerDeployment)} && ` +
          `!${isTrue("o.controller")} && !${isTrue("o.blockOwnerDeletion")})`,
      ),
      message: `${who}: workers may be owned only by Deployment ${s.ownerDeployment}, without controller or blockOwnerDeletion`,
    },
    {
      expression: service(
        `(!has(object.spec.type) || object.spec.type == "ClusterIP") && ${none("object.spec.externalIPs")} && ${labelIs("object.spec.selector")}`,
      ),
      message: `${who}: worker Services must be ClusterIP, without externalIPs, selecting customer=${s.customer}`,
    },
    {
      expression: deployment(
        `(!has(object.spec.replicas) || object.spec.replicas <= 1) && ${labelIs("object.spec.selector.matchLabels")} && ${labelIs("object.spec.template.metadata.labels")}`,
      ),
      message: `${who}: worker Deployments run at most 1 replica and select and label their pods customer=${s.customer}`,
    },
    {
      expression: deployment(
        `(has(variables.pod.serviceAccountName) ? variables.pod.serviceAccountName : "default") == ${lit(s.serviceAccount)} && ` +
          `(!has(variables.pod.serviceAccount) || variables.pod.serviceAccount == ${lit(s.serviceAccount)}) && ` +
          `has(variables.pod.automountServiceAccountToken) && variables.pod.automountServiceAccountToken == false`,
      ),
      message: `${who}: worker pods run as ServiceAccount ${s.serviceAccount} with automountServiceAccountToken: false`,
    },
    {
      expression: deployment(
        `!${isTrue("variables.pod.hostNetwork")} && !${isTrue("variables.pod.hostPID")} && !${isTrue("variables.pod.hostIPC")} && ${nodeName} && ` +
          `${none("variables.pod.nodeSelector")} && !has(variables.pod.affinity) && ${none("variables.pod.tolerations")} && ` +
          `!has(variables.pod.priorityClassName) && !has(variables.pod.runtimeClassName) && ${none("variables.pod.resourceClaims")} && ${none("variables.pod.ephemeralContainers")}`,
      ),
      message:
        `${who}: worker pods must not use the host's network, PID or IPC namespace, nor choose their node ` +
        `(${s.nodeName === "" ? "no nodeName" : `nodeName only ${s.nodeName}`}; no nodeSelector, affinity, tolerations, priority or runtime class)`,
    },
    {
      expression: deployment(
        `!has(variables.pod.volumes) || variables.pod.volumes.all(v, has(v.emptyDir) || ` +
          `(has(v.persistentVolumeClaim) && v.persistentVolumeClaim.claimName == ${lit(s.storageClaim)}) || ` +
          `(has(v.configMap) && has(v.configMap.name) && v.configMap.name == ${lit(s.configMap)}) || ` +
          `(has(v.secret) && has(v.secret.secretName) && v.secret.secretName == ${lit(s.authSecret)}))`,
      ),
      message:
        `${who}: worker volumes may only be emptyDir, PVC ${s.storageClaim}, ConfigMap ${s.configMap} or Secret ${s.authSecret} ` +
        `(no hostPath, projected, CSI or other tenants' objects)`,
    },
    {
      expression: deployment(
        everyContainer(
          `(!has(c.env) || c.env.all(e, !has(e.valueFrom) || (` +
            `(!has(e.valueFrom.secretKeyRef) || (has(e.valueFrom.secretKeyRef.name) && e.valueFrom.secretKeyRef.name == ${lit(s.authSecret)})) && ` +
            `(!has(e.valueFrom.configMapKeyRef) || (has(e.valueFrom.configMapKeyRef.name) && e.valueFrom.configMapKeyRef.name == ${lit(s.configMap)}))))) && ` +
            `(!has(c.envFrom) || c.envFrom.all(f, ` +
            `(!has(f.secretRef) || (has(f.secretRef.name) && f.secretRef.name == ${lit(s.authSecret)})) && ` +
            `(!has(f.configMapRef) || (has(f.configMapRef.name) && f.configMapRef.name == ${lit(s.configMap)}))))`,
        ) + ` && (!has(variables.pod.imagePullSecrets) || variables.pod.imagePullSecrets.all(p, has(p.name) && p.name in ${list(s.imagePullSecrets)}))`,
      ),
      message:
        `${who}: worker env may reference only Secret ${s.authSecret} and ConfigMap ${s.configMap}, ` +
        `image pull secrets only ${s.imagePullSecrets.length > 0 ? s.imagePullSecrets.join(", ") : "none"}`,
    },
    {
      expression: deployment(
        everyContainer(
          `has(${sc}) && has(${sc}.allowPrivilegeEscalation) && ${sc}.allowPrivilegeEscalation == false && !${isTrue(`${sc}.privileged`)} && ` +
            `(!has(${sc}.capabilities) || ${none(`${sc}.capabilities.add`)}) && ` +
            `!(has(${sc}.runAsNonRoot) && ${sc}.runAsNonRoot == false) && !(has(${sc}.runAsUser) && ${sc}.runAsUser == 0) && ` +
            `!has(${sc}.seLinuxOptions) && !(has(${sc}.procMount) && ${sc}.procMount != "Default") && ` +
            `!(has(${sc}.seccompProfile) && ${sc}.seccompProfile.type == "Unconfined") && !(has(${sc}.appArmorProfile) && ${sc}.appArmorProfile.type == "Unconfined") && ` +
            `!(has(${sc}.windowsOptions) && ${isTrue(`${sc}.windowsOptions.hostProcess`)}) && ` +
            `(!has(c.ports) || c.ports.all(p, !has(p.hostPort) || p.hostPort == 0))`,
        ),
      ),
      message:
        `${who}: worker containers must set allowPrivilegeEscalation: false and must not be privileged, add capabilities, run as root, ` +
        `use host ports, SELinux options, an unmasked /proc or an Unconfined seccomp/AppArmor profile`,
    },
    {
      expression: deployment(
        `has(${psc}) && has(${psc}.runAsNonRoot) && ${psc}.runAsNonRoot == true && !(has(${psc}.runAsUser) && ${psc}.runAsUser == 0) && ` +
          `!has(${psc}.seLinuxOptions) && ${none(`${psc}.sysctls`)} && ` +
          `!(has(${psc}.seccompProfile) && ${psc}.seccompProfile.type == "Unconfined") && !(has(${psc}.appArmorProfile) && ${psc}.appArmorProfile.type == "Unconfined") && ` +
          `!(has(${psc}.windowsOptions) && ${isTrue(`${psc}.windowsOptions.hostProcess`)}) && ` +
          `(!has(object.spec.template.metadata.annotations) || !object.spec.template.metadata.annotations.exists(k, ` +
          `k.startsWith("container.apparmor.security.beta.kubernetes.io/") && object.spec.template.metadata.annotations[k] == "unconfined"))`,
      ),
      message: `${who}: worker pods must set runAsNonRoot: true and must not run as root, set sysctls or SELinux options, or use an Unconfined seccomp/AppArmor profile`,
    },
    {
      expression: deployment(everyContainer(`has(c.resources) && has(c.resources.limits) && "cpu" in c.resources.limits && "memory" in c.resources.limits`)),
      message: `${who}: every worker container must set CPU and memory limits`,
    },
  ];
}

export function workerAdmissionPolicy(r: ResolvedInstance, n: InstanceNames): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicy {
  return {
    metadata: { name: n.workerManager, labels: appLabels("mindroom", r) },
    spec: {
      failurePolicy: "Fail",
      matchConstraints: {
        resourceRules: [
          { apiGroups: ["apps"], apiVersions: ["*"], resources: ["deployments"], operations: ["CREATE", "UPDATE", "DELETE"] },
          { apiGroups: [""], apiVersions: ["*"], resources: ["services"], operations: ["CREATE", "UPDATE", "DELETE"] },
        ],
      },
      matchConditions: [{ name: "worker-manager", expression: `request.userInfo.username == ${lit(workerManagerUsername(n))}` }],
      variables: [
        { name: "isDelete", expression: `request.operation == "DELETE"` },
        { name: "isUpdateOrDelete", expression: `request.operation == "UPDATE" || request.operation == "DELETE"` },
        { name: "isDeployment", expression: `request.resource.resource == "deployments"` },
        // Read only behind `isDeployment && !isDelete` (variables are evaluated lazily).
        { name: "pod", expression: "object.spec.template.spec" },
      ],
      validations: workerAdmissionRules(workerShape(r, n)).map((v) => ({ ...v, reason: "Forbidden" })),
    },
  };
}

export function workerAdmissionPolicyBinding(r: ResolvedInstance, n: InstanceNames): k8s.types.input.admissionregistration.v1.ValidatingAdmissionPolicyBinding {
  return {
    metadata: { name: n.workerManager, labels: appLabels("mindroom", r) },
    spec: { policyName: n.workerManager, validationActions: ["Deny"] },
  };
}
