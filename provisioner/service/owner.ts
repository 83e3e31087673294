/**
 * Owner Matrix user of a tenant (spec provisioner.md §6.4): reproduces Synapse's
 * `localpart_from_email` on the OIDC email template, so the account that logs in through OIDC is
 * the one the tenant config names as global user.
 */
import { Failure } from "../errors";

const KEPT = /^[a-z0-9_\-./+]$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Lower-case canonical UUID, or null when the value is not a UUID. */
export function normaliseUuid(value: unknown): string | null {
  return typeof value === "string" && UUID.test(value.trim()) ? value.trim().toLowerCase() : null;
}

export function matrixLocalpart(email: string): string {
  const lowered = email.trim().toLowerCase();
  const at = lowered.lastIndexOf("@");
  const local = at >= 0 ? lowered.slice(0, at) : lowered;
  if (local.length === 0) throw new Failure("failed", "Account email is required to configure Matrix owner access");
  let out = "";
  for (const byte of Buffer.from(local, "utf8")) {
    const ch = String.fromCharCode(byte);
    out += byte < 0x80 && KEPT.test(ch) ? ch : `=${byte.toString(16).padStart(2, "0")}`;
  }
  return out.startsWith("_") ? `=5f${out.slice(1)}` : out;
}

export function ownerMxid(email: string, instanceId: string, baseDomain: string): string {
  return `@${matrixLocalpart(email)}:${instanceId}.${baseDomain}`;
}
