/**
 * Decisions that read the live tenant objects before a stack update (spec provisioner.md §6.6–§6.8):
 * the storage class to keep, the credentials-encryption key and the sandbox proxy token. Every
 * read failure is an error, never a fallback: a transient API error must not rotate a key or
 * change a bound volume's class.
 */
import { randomBytes } from "node:crypto";
import type { TenantKube } from "../ports";
import { tenantObjectNames, tenantVolumes } from "../../infra/tenant-names";
import { Failure, shortReason } from "../errors";

/** The live tenant Secret, `null` when absent. */
export async function readTenantSecret(kube: TenantKube, instanceId: string, key: string): Promise<Record<string, string> | null> {
  try {
    return await kube.readSecret(tenantObjectNames(instanceId).apiKeysSecret);
  } catch (err) {
    // The Kubernetes adapter signals a stored value that is not strict base64 of UTF-8 (§6.7).
    if (err instanceof Error && err.name === "InvalidSecretData") {
      throw new Failure("failed", `Instance ${instanceId} has an invalid ${(err as Error & { key?: string }).key ?? key} Secret value`);
    }
    throw new Failure("failed", `Failed to inspect existing Secret value ${key} for instance ${instanceId}: ${shortReason(err)}`);
  }
}

/** A stored Secret value trimmed; empty → null (the adapter has already base64-decoded it). */
export function storedValue(secret: Record<string, string> | null, key: string): string | null {
  const value = secret?.[key]?.trim() ?? "";
  return value.length > 0 ? value : null;
}

/**
 * §6.7: new tenants are encrypted (derived key); a stored key is kept unchanged (the opt-in never
 * rotates it); otherwise the opt-in turns on the derived key, and without it encryption stays off.
 */
export function credentialsKey(opts: { isNew: boolean; storedKey: string | null; optIn: boolean; derivedKey: string }): string {
  if (opts.isNew) return opts.derivedKey;
  if (opts.storedKey) return opts.storedKey;
  return opts.optIn ? opts.derivedKey : "";
}

/** Deviation 7: configured token, else the tenant's existing one, else a new one generated once. */
export function sandboxToken(configured: string, stored: string | null): string {
  if (configured) return configured;
  return stored ?? randomBytes(32).toString("hex");
}

/**
 * §6.6: a new tenant gets the configured class (empty → component default); a re-provision keeps
 * the class of its bound PVCs, because it cannot change and any other value fails the update.
 */
export async function storageClassFor(kube: TenantKube, instanceId: string, isNew: boolean, configured: string): Promise<string | null> {
  if (isNew) return configured || null;
  const classes = new Set<string>();
  for (const pvc of tenantVolumes(instanceId)) {
    let cls: string | null;
    try {
      cls = await kube.pvcStorageClass(pvc);
    } catch (err) {
      throw new Failure("failed", `Failed to inspect existing PVC storage class for instance ${instanceId}: ${shortReason(err)}`);
    }
    if (cls) classes.add(cls);
  }
  if (classes.size > 1) throw new Failure("failed", `Instance ${instanceId} has PVCs with different storage classes: ${[...classes].sort().join(", ")}`);
  return classes.size === 1 ? [...classes][0] : configured || null;
}
