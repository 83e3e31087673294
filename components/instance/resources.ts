/** Container resources in pod-spec form: quantities as strings, `{}` kept as `{}` (not absent). */
import type * as k8s from "@pulumi/kubernetes";
import type { ContainerResources } from "./args";

export function containerResources(r: ContainerResources): k8s.types.input.core.v1.ResourceRequirements {
  const quantities = (m: Record<string, string | number>) => Object.fromEntries(Object.entries(m).map(([k, v]) => [k, String(v)]));
  return {
    ...(r.requests ? { requests: quantities(r.requests) } : {}),
    ...(r.limits ? { limits: quantities(r.limits) } : {}),
  };
}
