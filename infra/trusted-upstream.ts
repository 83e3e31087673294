/**
 * Trusted upstream auth: the tenant runtime takes the user's identity from HTTP headers set by an
 * access proxy (instance.md §11). The instance chart reads the settings as `trustedUpstreamAuth.*`;
 * the platform chart takes the same 13 as `provisioner.trustedUpstreamAuth.*` and forwards them to
 * every tenant (platform.md §2, §4). Both charts validate them with the same rules, in their own order.
 *
 * Project deviation (docs/instance.md "Trusted upstream auth"): three more settings, which decide
 * how the tenant Ingress admits those headers and are not runtime env (so not hashed). Without JWT
 * verification the headers are the identity, and anyone who reaches the Ingress (80/443 are open on
 * every node, so a front proxy can be bypassed by the node IP) could send them. So, enabled without
 * `requireJwt` needs `authUrl` (the tenant Ingress asks the access layer about every request and
 * passes on only the identity headers it answers with, dropping what the client sent) and the
 * explicit acknowledgement {@link UNVERIFIED_HEADERS_ACK}.
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
  /**
   * Project, default `""`: the access layer's auth endpoint, for ingress-nginx external auth
   * (`nginx.ingress.kubernetes.io/auth-url`, e.g. oauth2-proxy's `https://auth.example.org/oauth2/auth`).
   * When enabled and set, the tenant Ingress sends each request there first, refuses it unless the
   * answer is 2xx, and passes to the runtime only the identity headers from that answer
   * (`auth-response-headers`: a client's own copies are replaced, or dropped when the answer has none).
   * Required when enabled without `requireJwt`.
   */
  authUrl: string;
  /** Project, default `""`: where a browser goes when `authUrl` refuses it (`auth-signin`, e.g. `https://auth.example.org/oauth2/start?rd=$scheme://$host$request_uri`). */
  authSignin: string;
  /**
   * Project, default `""`: enabled without `requireJwt`, the runtime believes the identity headers
   * as they arrive, nothing verifies them. That needs this value set to exactly
   * {@link UNVERIFIED_HEADERS_ACK}, so nobody gets it by accident.
   */
  acknowledgeUnverifiedHeaders: string;
}

/** The one value of `acknowledgeUnverifiedHeaders` that allows enabled without `requireJwt`. */
export const UNVERIFIED_HEADERS_ACK = "i-understand-anyone-can-set-these-headers";

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
  authUrl: "",
  authSignin: "",
  acknowledgeUnverifiedHeaders: "",
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
  if (first !== undefined) return first;
  if (truthy(t.requireJwt)) {
    const missing = STRICT_FIELDS.find((key) => t[key] === "");
    if (missing !== undefined) return `${prefix}${missing}: required when requireJwt is true (strict mode); set it or turn requireJwt off`;
  } else {
    if (t.acknowledgeUnverifiedHeaders !== UNVERIFIED_HEADERS_ACK) {
      return `${prefix}acknowledgeUnverifiedHeaders: without requireJwt nothing verifies the identity headers; turn on requireJwt (strict mode), or set acknowledgeUnverifiedHeaders to "${UNVERIFIED_HEADERS_ACK}" and authUrl to your access layer's auth endpoint`;
    }
    if (t.authUrl === "") {
      return `${prefix}authUrl: required when trusted upstream auth runs without requireJwt (the tenant Ingress takes the identity headers only from this auth endpoint of your access layer); set it, or turn on requireJwt`;
    }
  }
  return accessLayerProblem(t, prefix);
}

/** What ingress-nginx 1.13 accepts in `auth-url`/`auth-signin` (its URLWithNginxVariableRegex), as an http(s) URL. */
const AUTH_URL = /^https?:\/\/[-._~a-zA-Z0-9/:,?&=$]+$/;
/** An HTTP header name nginx passes on (letters, digits, `-`; nginx drops names with `_` by default). */
const HEADER_NAME = /^[A-Za-z0-9-]+$/;

function accessLayerProblem(t: TrustedUpstreamAuthSettings, prefix: string): string | undefined {
  for (const key of ["authUrl", "authSignin"] as const) {
    if (t[key] !== "" && !AUTH_URL.test(t[key])) {
      return `${prefix}${key}: "${t[key]}" is not a URL ingress-nginx accepts; use http(s)://host/path with letters, digits and -._~/:,?&=$ only`;
    }
  }
  if (t.authUrl === "") return undefined;
  for (const key of IDENTITY_HEADER_KEYS) {
    if (t[key] !== "" && !HEADER_NAME.test(t[key])) {
      return `${prefix}${key}: "${t[key]}" is not a header name the tenant Ingress can pass on from authUrl; use letters, digits and '-'`;
    }
  }
  return undefined;
}

/** The settings that name a header carrying identity (or the JWT that proves it). */
const IDENTITY_HEADER_KEYS = ["userIdHeader", "emailHeader", "matrixUserIdHeader", "jwtHeader"] as const;

/**
 * The headers the tenant Ingress takes only from the access layer's answer when `authUrl` is set
 * (enabled only): the configured identity headers, in that order, each once.
 */
export function identityHeaders(t: TrustedUpstreamAuthSettings): string[] {
  if (!truthy(t.enabled) || t.authUrl === "") return [];
  return [...new Set(IDENTITY_HEADER_KEYS.map((key) => t[key]).filter((h) => h !== ""))];
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
