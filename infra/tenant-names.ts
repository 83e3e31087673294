/**
 * The one home of a hosted tenant's object names. They are a contract (upstream's instance chart
 * and provisioner): the instance component creates these objects, the platform's RBAC grants on
 * their namespace, the provisioner reads, scales and deletes them, and Helm-era tenants are
 * adopted under exactly these names. Built from the instance id's string form (Deviation 1).
 */

/** The namespace every hosted tenant lives in. */
export const TENANT_NAMESPACE = "mindroom-instances";

export interface TenantObjectNames {
  /** Deployment (and Service) of MindRoom. */
  mindroom: string;
  /** Deployment (and Service) of Synapse. */
  synapse: string;
  /** The tenant Secret of §6.8 (the instance chart's `instanceSecrets.name` default). */
  apiKeysSecret: string;
  mindroomStorage: string;
  synapseStorage: string;
  /** The Helm release of the upstream system (records `sh.helm.release.v1.<release>.v<n>`). */
  helmRelease: string;
}

export function tenantObjectNames(instanceId: string | number): TenantObjectNames {
  const id = String(instanceId);
  return {
    mindroom: `mindroom-${id}`,
    synapse: `synapse-${id}`,
    apiKeysSecret: `mindroom-api-keys-${id}`,
    mindroomStorage: `mindroom-storage-${id}`,
    synapseStorage: `synapse-storage-${id}`,
    helmRelease: `instance-${id}`,
  };
}

/** The two PVCs of a tenant: MindRoom's storage, then Synapse's. */
export function tenantVolumes(instanceId: string | number): string[] {
  const n = tenantObjectNames(instanceId);
  return [n.mindroomStorage, n.synapseStorage];
}
