/**
 * Registers the approved egress proxy's objects (spec/approved-egress.ts) under the runtime
 * component. Nothing here waits on anything: workers reach the proxy only once the runtime starts them.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { RuntimeNames } from "./names";
import type { RuntimeValues } from "./schema";
import { approvedEgressSpecs } from "./spec/approved-egress";

export function registerApprovedEgress(name: string, v: RuntimeValues, n: RuntimeNames, parent: pulumi.CustomResourceOptions): void {
  const specs = approvedEgressSpecs(v, n);
  if (!specs) return;
  const id = `${name}-egress-proxy`;
  if (specs.allowlist) new k8s.core.v1.ConfigMap(`${id}-config`, specs.allowlist, parent);
  if (specs.squidConfig) new k8s.core.v1.ConfigMap(`${id}-squid-config`, specs.squidConfig, parent);
  if (specs.serviceAccount) new k8s.core.v1.ServiceAccount(id, specs.serviceAccount, parent);
  if (specs.role) new k8s.rbac.v1.Role(id, specs.role, parent);
  if (specs.roleBinding) new k8s.rbac.v1.RoleBinding(id, specs.roleBinding, parent);
  if (specs.claim) new k8s.core.v1.PersistentVolumeClaim(`${id}-data`, specs.claim, parent);
  new k8s.apps.v1.Deployment(id, specs.deployment, parent);
  new k8s.core.v1.Service(id, specs.service, parent);
  if (specs.networkPolicy) new k8s.networking.v1.NetworkPolicy(`${id}-ingress`, specs.networkPolicy, parent);
}
