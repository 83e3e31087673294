/**
 * Trusted upstream auth: the tenant runtime takes the user's identity from HTTP headers set by an
 * access proxy (instance.md §11). The instance chart reads the settings as `trustedUpstreamAuth.*`;
 * the platform chart takes the same 13 as `provisioner.trustedUpstreamAuth.*` and forwards them to
 * every tenant (platform.md §2, §4). Both charts validate them with the same rules, in their own order.
 */
import { truthy } from "./truthy";

/** The 13 settings in their string form, as the charts quote, hash and forward them. */
export interface TrustedUpstreamAuthSettings {
  /**
   * Default `"false"`: headers are only safe behind a proxy that strips client-sent copies and sets
   * authenticated values itself, so the feature is opt-in. Truthy test (`"yes"`, `"1"` count).
   */
  enabled: string;
  /** Default `""`: the header name depends on the proxy. Required when enabled (the user's id). */
  userIdHeader: string;
  /** Default `""`: optional header carrying the user's email; required when `emailToMatrixUserIdTemplate` is set. */
  emailHeader: string;
  /** Default `""`: optional header carrying the Matrix user id, for proxies that know it. */
  matrixUserIdHeader: string;
  /**
   * Default `""`: no email→Matrix mapping. When set (and enabled) it must contain exactly one
   * `{localpart}`, e.g. `@{localpart}:example.org` (deployment guide), for proxies without a Matrix id header.
   */
  emailToMatrixUserIdTemplate: string;
  /**
   * Default `"false"`: strict mode (identity only from a verified JWT) needs an IdP's JWKS, so it is
   * opt-in. Only read when enabled. Truthy test.
   */
  requireJwt: string;
  /** Default `""`; required in strict mode: the header carrying the JWT. */
  jwtHeader: string;
  /** Default `""`; required in strict mode: where the IdP publishes its signing keys. */
  jwksUrl: string;
  /** Default `""`; required in strict mode: a token for another audience must not pass. */
  jwtAudience: string;
  /** Default `""`; required in strict mode: a token from another issuer must not pass. */
  jwtIssuer: string;
  /** Default `email`, the standard OIDC claim every common IdP sets. */
  jwtEmailClaim: string;
  /** Default `""`: the runtime's default claim applies. */
  jwtUserIdClaim: string;
  /** Default `""`: the runtime's default claim applies. */
  jwtMatrixUserIdClaim: string;
}

/** The defaults documented on {@link TrustedUpstreamAuthSettings}. */
export const TRUSTED_UPSTREAM_AUTH_DEFAULTS: Readonly<TrustedUpstreamAuthSettings> = {
  enabled: "false",
  userIdHeader: "",
  emailHeader: "",
  matrixUserIdHeader: "",
  emailToMatrixUserIdTemplate: "",
  requireJwt: "false",
  jwtHeader: "",
  jwksUrl: "",
  jwtAudience: "",
  jwtIssuer: "",
  jwtEmailClaim: "email",
  jwtUserIdClaim: "",
  jwtMatrixUserIdClaim: "",
};

/**
 * Which rule a chart reports first when several are broken; each chart follows its spec table:
 * - `"userIdHeaderFirst"`: instance.md §14 — userIdHeader, then emailHeader, then the JWT fields.
 * - `"emailHeaderFirst"`: platform.md §10 — emailHeader (check 1), then userIdHeader (check 2),
 *   then the JWT fields (checks 3–6).
 *
 * The `{localpart}` rule (deployment guide, in neither table) directly follows the emailHeader rule in both.
 */
export type TrustedUpstreamCheckOrder = "userIdHeaderFirst" | "emailHeaderFirst";

const STRICT_FIELDS = ["jwtHeader", "jwksUrl", "jwtAudience", "jwtIssuer"] as const;

/**
 * The first broken rule as a one-line message naming the value (`prefix` + field, e.g.
 * `provisioner.trustedUpstreamAuth.`) and the fix, or undefined. Nothing is checked while disabled.
 */
export function trustedUpstreamAuthProblem(t: TrustedUpstreamAuthSettings, prefix: string, order: TrustedUpstreamCheckOrder): string | undefined {
  if (!truthy(t.enabled)) return undefined;
  const userId =
    t.userIdHeader === ""
      ? `${prefix}userIdHeader: required when trusted upstream auth is enabled; set the header your proxy puts the user id in, or set enabled to false`
      : undefined;
  const first = order === "userIdHeaderFirst" ? (userId ?? emailProblem(t, prefix)) : (emailProblem(t, prefix) ?? userId);
  if (first !== undefined || !truthy(t.requireJwt)) return first;
  const missing = STRICT_FIELDS.find((key) => t[key] === "");
  return missing === undefined ? undefined : `${prefix}${missing}: required when requireJwt is true (strict mode); set it or turn requireJwt off`;
}

function emailProblem(t: TrustedUpstreamAuthSettings, prefix: string): string | undefined {
  const template = t.emailToMatrixUserIdTemplate;
  if (template === "") return undefined;
  if (t.emailHeader === "") {
    return `${prefix}emailHeader: required when emailToMatrixUserIdTemplate is set; set the header your proxy puts the user's email in, or remove the template`;
  }
  if (template.split("{localpart}").length !== 2) {
    return `${prefix}emailToMatrixUserIdTemplate: must contain exactly one {localpart} placeholder, e.g. @{localpart}:example.org (got ${template})`;
  }
  return undefined;
}
