/**
 * Platform rule (docs/policy.md): every pod in the platform namespace `mindroom-{env}` is selected
 * by a NetworkPolicy for ingress and for egress, as the platform's default deny does
 * (docs/platform.md, "NetworkPolicies"). The platform holds the keys to every tenant, so a pod there
 * that no policy governs could reach every tenant pod, the nodes and the metadata service.
 *
 * The platform namespace is recognised by its contract, not its name (which follows the
 * environment): the namespace of Deployment `platform-backend`, upstream's fixed name.
 */
import { PLATFORM_BACKEND_NAME as BACKEND_NAME } from "../platform-names";
import type { KubeObject } from "./kube";
import { ref } from "./kube";
import { uncoveredPods, type StackViolation } from "./tenant";

export function platformNetworkPolicyViolations(objects: KubeObject[]): StackViolation[] {
  const platform = new Set(objects.filter((o) => o.kind === "Deployment" && o.metadata?.name === BACKEND_NAME).map((o) => o.metadata?.namespace));
  return uncoveredPods(objects, (ns) => platform.has(ns), ["Ingress", "Egress"]).map(({ index, obj, labels, missing }) => ({
    index,
    message: `${ref(obj)}: no NetworkPolicy in ${obj.metadata?.namespace} selects its pods for ${missing.map((d) => d.toLowerCase()).join(" and ")} (labels ${JSON.stringify(labels)}); the platform denies by default`,
  }));
}
