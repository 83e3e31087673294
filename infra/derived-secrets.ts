/**
 * Per-instance secrets derived from one root secret (spec provisioner.md §6.5), byte for byte as
 * upstream: HMAC-SHA256 keyed with the root over `mindroom.{purpose}.v1:{instanceId}`, URL-safe
 * base64 without padding (43 characters). Deterministic, so a tenant that loses its Secret gets the
 * same key back, and a tenant moved from Helm keeps its keys.
 */
import { createHmac } from "node:crypto";

export type DerivedSecretPurpose = "instance-credentials" | "matrix-registration";

export function deriveInstanceSecret(root: string, purpose: DerivedSecretPurpose, instanceId: string): string {
  if (root.length === 0) throw new Error("derived secrets need a root secret: set INSTANCE_CREDENTIALS_ENCRYPTION_SECRET (or PROVISIONER_API_KEY)");
  return createHmac("sha256", Buffer.from(root, "utf8")).update(`mindroom.${purpose}.v1:${instanceId}`, "utf8").digest("base64url");
}

/** Values a tenant component derives from one of the tenant's own secrets (docs/instance.md). */
export type TenantDerivedPurpose = "synapse-macaroon" | "synapse-form";

/**
 * Second-level derivation inside the tenant component, same construction as above: HMAC-SHA256
 * keyed with a per-tenant secret (in the hosted flow the registration secret, itself
 * `deriveInstanceSecret(root, "matrix-registration", id)`) over `mindroom.{purpose}.v1:{customer}`,
 * as lower-case hex cut to `length` (at most 64) characters, so the value is alphanumeric as the
 * chart's `randAlphaNum` was. Deterministic: every `up` of the same tenant yields the same value.
 */
export function deriveTenantSecret(key: string, purpose: TenantDerivedPurpose, customer: string, length: number): string {
  if (key.length === 0) throw new Error(`deriveTenantSecret(${purpose}): the key is empty`);
  if (!Number.isInteger(length) || length < 1 || length > 64) throw new Error(`deriveTenantSecret(${purpose}): length must be 1-64`);
  return createHmac("sha256", Buffer.from(key, "utf8")).update(`mindroom.${purpose}.v1:${customer}`, "utf8").digest("hex").slice(0, length);
}

/**
 * The root secret: `INSTANCE_CREDENTIALS_ENCRYPTION_SECRET` when non-empty, else `PROVISIONER_API_KEY`,
 * trimmed AFTER the choice (upstream: a dedicated secret of only spaces is chosen, becomes empty and
 * fails instead of silently falling back).
 */
export function derivationRoot(credentialsSecret: string | undefined, apiKey: string | undefined): string {
  const chosen = credentialsSecret ? credentialsSecret : (apiKey ?? "");
  return chosen.trim();
}
