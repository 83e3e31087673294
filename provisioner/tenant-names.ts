/**
 * Names of the tenant objects the provisioner reads or deletes directly (spec §6.6, §7.4). They
 * are the instance component's names (components/instance/names.ts), which keep upstream's.
 */

/** The two PVCs of a tenant: MindRoom's storage, then Synapse's. */
export function tenantVolumes(instanceId: string): string[] {
  return [`mindroom-storage-${instanceId}`, `synapse-storage-${instanceId}`];
}
