/**
 * The chart's render-time validations (spec instance.md §14) plus the deployment guide's template
 * rule, run before any resource registers. Each failure is one line: the value, what is wrong, the fix.
 */
import { trustedUpstreamAuthProblem } from "../../infra/trusted-upstream";
import { ValuesError } from "../../infra/values/errors";
import type { ResolvedInstance } from "./resolve";
import { MAX_WORKER_NAME_PREFIX_LENGTH } from "./worker-admission";
import { seedConfigProblem } from "./mindroom-config";

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A Kubernetes resource quantity (`10Gi`, `500m`, `1.5`, `1e3`). */
const QUANTITY = /^[+-]?(\d+(\.\d*)?|\.\d+)([KMGTPE]i|[numkKMGTPE]|[eE][+-]?\d+)?$/;
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"];
/** `mindroom-{c}` is a Service name (DNS-1035 label, ≤ 63), the tightest name built from the id. */
export const MAX_CUSTOMER_LENGTH = 63 - "mindroom-".length;

/** Throws a {@link ValuesError} for the first rule `r` breaks. */
export function validateInstance(r: ResolvedInstance): void {
  const problem = firstProblem(r);
  if (problem) throw new ValuesError(problem);
}

function firstProblem(r: ResolvedInstance): string | undefined {
  const c = r.customer;
  if (typeof r.customerRaw !== "string" && typeof r.customerRaw !== "number") {
    return "customer: required; give the tenant id as a string or number (hosted ids are positive integers)";
  }
  if (!DNS_LABEL.test(c)) {
    return `customer: "${c}" cannot form valid object names; use lower-case letters, digits and '-', starting and ending with a letter or digit (hosted ids are positive integers)`;
  }
  if (c.length > MAX_CUSTOMER_LENGTH) {
    return `customer: "${c}" is ${c.length} characters; object names such as mindroom-{customer} must stay within 63, so use at most ${MAX_CUSTOMER_LENGTH}`;
  }
  // The API server would reject these only at apply time, after other objects of the tenant changed.
  if (!DNS_NAME.test(r.baseDomain) || `${c}.matrix.${r.baseDomain}`.length > 253) {
    return `baseDomain: "${r.baseDomain}" cannot form the tenant's hosts (${c}.matrix.<baseDomain>); use a lower-case DNS name such as mindroom.chat`;
  }
  if (!QUANTITY.test(r.storage)) return `storage: "${r.storage}" is not a Kubernetes quantity; use a size such as 10Gi`;
  if (!QUANTITY.test(r.sandboxWorkspaceSizeLimit)) {
    return `sandboxWorkspaceSizeLimit: "${r.sandboxWorkspaceSizeLimit}" is not a Kubernetes quantity; use a size such as 2Gi (the default)`;
  }
  for (const [key, res] of [["mindroomResources", r.mindroomResources], ["synapseResources", r.synapseResources], ["sandboxRunnerResources", r.sandboxRunnerResources]] as const) {
    for (const [kind, map] of Object.entries(res)) {
      for (const [name, value] of Object.entries(map ?? {})) {
        if (!QUANTITY.test(String(value))) return `${key}.${kind}.${name}: "${String(value)}" is not a Kubernetes quantity; use e.g. 500m for CPU or 1Gi for memory`;
      }
    }
  }
  for (const [key, policy] of [["mindroom_image_pull_policy", r.mindroomImagePullPolicy], ["synapse_image_pull_policy", r.synapseImagePullPolicy], ["kubernetesWorkerImagePullPolicy", r.kubernetesWorker.imagePullPolicy]]) {
    if (!PULL_POLICIES.includes(policy)) return `${key}: "${policy}" is not an image pull policy; use Always, IfNotPresent or Never`;
  }
  if (r.workerBackend === "kubernetes" && r.storageAccessMode !== "ReadWriteMany" && r.controlPlaneNodeName === "") {
    return "workerBackend: kubernetes workers share the MindRoom PVC; set storageAccessMode=ReadWriteMany or pin them to one node with controlPlaneNodeName";
  }
  // The worker admission policy admits only `{prefix}-{24 hex}`; the runtime would shorten or reshape a longer or non-DNS prefix.
  const prefix = r.kubernetesWorker.namePrefix;
  if (r.workerBackend === "kubernetes" && (!DNS_LABEL.test(prefix) || prefix.length > MAX_WORKER_NAME_PREFIX_LENGTH)) {
    return `kubernetesWorkerNamePrefix: "${prefix}" cannot prefix worker names ({prefix}-{24 hex} within 63 characters); use a DNS label of at most ${MAX_WORKER_NAME_PREFIX_LENGTH} characters, unique to this tenant`;
  }
  const port = Number(r.kubernetesWorker.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    return `kubernetesWorkerPort: "${r.kubernetesWorker.port}" is not a TCP port; use an integer from 1 to 65535 (default 8766)`;
  }
  const trusted = trustedUpstreamAuthProblem(r.trustedUpstreamAuth, "trustedUpstreamAuth.", "userIdHeaderFirst");
  if (trusted) return trusted;
  if (r.matrixOidc.on) {
    if (!r.matrixOidc.issuer) return "matrixOidc.issuer: required when matrixOidc.enabled is true; set the OIDC issuer URL (the platform's https://api.<domain>/matrix-oidc) or disable Matrix OIDC";
    if (!r.matrixOidc.clientId) return "matrixOidc.clientId: required when matrixOidc.enabled is true; set the OIDC client id (default mindroom-synapse) or disable Matrix OIDC";
  }
  return seedConfigProblem(r);
}
