/**
 * The shared control plane as an admin target, with `mindroom-instances` present: the root stack
 * owns that namespace in production (the provisioner never creates it), and every engine test of
 * tenants shares it on the one control plane of the run.
 */
import { TENANT_NAMESPACE } from "../../../infra/tenant-names";
import { apiRequest, type ApiTarget } from "./api";
import { sharedCluster, type Cluster } from "./cluster";

export async function tenantNamespaceTarget(): Promise<{ cluster: Cluster; target: ApiTarget }> {
  const cluster = await sharedCluster();
  const target = { server: cluster.server, ca: cluster.ca, token: cluster.token };
  const ns = await apiRequest(target, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: TENANT_NAMESPACE } });
  if (ns.status !== 201 && ns.status !== 409) throw new Error(`creating namespace ${TENANT_NAMESPACE}: HTTP ${ns.status} ${ns.text}`);
  return { cluster, target };
}
