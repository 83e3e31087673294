/**
 * Rollout-trigger annotations. Same inputs, order and separator as the chart (spec §5.2, §7), so a
 * tenant moving from Helm keeps its hash where the inputs allow and pods roll exactly when an
 * input changes.
 */
import { createHash } from "node:crypto";
import type { ResolvedInstance } from "./resolve";

export const sha256Hex = (s: string): string => createHash("sha256").update(s).digest("hex");

/** Go's `toJson`: compact, map keys sorted, `<`, `>`, `&` escaped. */
export function goJson(value: unknown): string {
  const sorted = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sorted);
    if (typeof v === "object" && v !== null) {
      return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sorted((v as Record<string, unknown>)[k])]));
    }
    return v;
  };
  return JSON.stringify(sorted(value)).replace(/</g, "\\u003c").replace(/>/g, "\\u003e").replace(/&/g, "\\u0026");
}

/** `mindroom.ai/config-hash`: the 22 inputs of §5.2 (not the seed config, images or resources). */
export function configHash(r: ResolvedInstance): string {
  const t = r.trustedUpstreamAuth;
  return sha256Hex(
    [
      r.customer, r.baseDomain, r.accountId, r.storagePath, r.workerBackend, r.supabaseUrl, r.supabaseAnonKey,
      t.enabled, t.userIdHeader, t.emailHeader, t.matrixUserIdHeader, t.emailToMatrixUserIdTemplate, t.requireJwt,
      t.jwtHeader, t.jwksUrl, t.jwtAudience, t.jwtIssuer, t.jwtEmailClaim, t.jwtUserIdClaim, t.jwtMatrixUserIdClaim,
      goJson(r.authorizationGlobalUsers), goJson(r.matrixRoomAccess),
    ].join("|"),
  );
}

/** `mindroom.ai/synapse-config-hash` (§7). */
export function synapseConfigHash(r: ResolvedInstance): string {
  const o = r.matrixOidc;
  return sha256Hex([r.customer, r.baseDomain, o.enabled, o.issuer, o.clientId, goJson(r.matrixAutoJoinRoomKeys)].join("|"));
}

/**
 * `mindroom.ai/synapse-secret-hash` (project): Synapse reads the macaroon and form secrets from
 * files once at start, and neither the synapse config hash nor an explicit instance-secret hash
 * covers them, so without this a changed value would reach Synapse only at its next restart.
 */
export function synapseSecretHash(macaroonSecretKey: string, formSecret: string): string {
  return sha256Hex([macaroonSecretKey, formSecret].join("|"));
}

/**
 * `mindroom.ai/instance-secret-hash` without an explicit hash: the ten values in §5.2 order. The
 * last is the registration secret as given (else `matrix_admin_password`, else ""), never a
 * generated one, as upstream.
 */
export function instanceSecretHash(values: {
  openaiKey: string; anthropicKey: string; openrouterKey: string; googleKey: string; deepseekKey: string;
  supabaseServiceKey: string; sandboxProxyToken: string; credentialsEncryptionKey: string;
  matrixOidcClientSecret: string; registration: string;
}): string {
  const v = values;
  return sha256Hex(
    [v.openaiKey, v.anthropicKey, v.openrouterKey, v.googleKey, v.deepseekKey, v.supabaseServiceKey,
      v.sandboxProxyToken, v.credentialsEncryptionKey, v.matrixOidcClientSecret, v.registration].join("|"),
  );
}
