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

/**
 * The root secret: `INSTANCE_CREDENTIALS_ENCRYPTION_SECRET` when non-empty, else `PROVISIONER_API_KEY`,
 * trimmed AFTER the choice (upstream: a dedicated secret of only spaces is chosen, becomes empty and
 * fails instead of silently falling back).
 */
export function derivationRoot(credentialsSecret: string | undefined, apiKey: string | undefined): string {
  const chosen = credentialsSecret ? credentialsSecret : (apiKey ?? "");
  return chosen.trim();
}
