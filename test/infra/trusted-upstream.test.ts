/** The trusted-upstream rules both charts share: each rule valid and invalid, and each chart's check order. */
import { expect } from "chai";
import {
  TRUSTED_UPSTREAM_AUTH_DEFAULTS,
  UNVERIFIED_HEADERS_ACK,
  identityHeaders,
  trustedUpstreamAuthProblem,
  type TrustedUpstreamAuthSettings,
  type TrustedUpstreamCheckOrder,
} from "../../infra/trusted-upstream";

const ORDERS: TrustedUpstreamCheckOrder[] = ["userIdHeaderFirst", "emailHeaderFirst"];
const P = "provisioner.trustedUpstreamAuth.";
const STRICT = { requireJwt: "true", jwtHeader: "X-Jwt", jwksUrl: "https://idp/jwks", jwtAudience: "mindroom", jwtIssuer: "https://idp" };

const AUTH_URL = "https://auth.example.org/oauth2/auth";
/** What enabled without requireJwt needs (project rules): the access layer's auth endpoint and the acknowledgement. */
const ACCESS = { authUrl: AUTH_URL, acknowledgeUnverifiedHeaders: UNVERIFIED_HEADERS_ACK };

/** Enabled with a user id header and the access layer (valid without strict mode), plus `fields`. */
const on = (fields: Partial<TrustedUpstreamAuthSettings> = {}): TrustedUpstreamAuthSettings => ({
  ...TRUSTED_UPSTREAM_AUTH_DEFAULTS,
  enabled: "true",
  userIdHeader: "X-User",
  ...ACCESS,
  ...fields,
});

describe("trusted upstream auth validation (instance.md §14, platform.md §10)", () => {
  for (const order of ORDERS) {
    describe(order, () => {
      const problem = (t: TrustedUpstreamAuthSettings) => trustedUpstreamAuthProblem(t, P, order);

      it("the defaults and a minimal enabled setup are valid; nothing is checked while disabled", () => {
        expect(problem({ ...TRUSTED_UPSTREAM_AUTH_DEFAULTS })).to.equal(undefined);
        expect(problem(on())).to.equal(undefined);
        for (const enabled of ["false", "no", "off", "0", ""]) {
          expect(problem(on({ enabled, userIdHeader: "", emailToMatrixUserIdTemplate: "bad", ...STRICT, jwtHeader: "" })), enabled).to.equal(undefined);
        }
      });

      it("userIdHeader is required when enabled (any truthy form)", () => {
        for (const enabled of ["true", "TRUE", "yes", "on", "1"]) {
          expect(problem(on({ enabled, userIdHeader: "" })), enabled).to.equal(
            `${P}userIdHeader: required when trusted upstream auth is enabled; set the header your proxy puts the user id in, or set enabled to false`,
          );
        }
      });

      it("an email template requires emailHeader", () => {
        expect(problem(on({ emailToMatrixUserIdTemplate: "@{localpart}:example.org" }))).to.equal(
          `${P}emailHeader: required when emailToMatrixUserIdTemplate is set; set the header your proxy puts the user's email in, or remove the template`,
        );
        expect(problem(on({ emailToMatrixUserIdTemplate: "@{localpart}:example.org", emailHeader: "X-Email" }))).to.equal(undefined);
        expect(problem(on({ emailHeader: "X-Email" })), "emailHeader alone").to.equal(undefined);
      });

      it("the email template must contain exactly one {localpart}", () => {
        const withTemplate = (emailToMatrixUserIdTemplate: string) => problem(on({ emailHeader: "X-Email", emailToMatrixUserIdTemplate }));
        expect(withTemplate("@user:example.org")).to.equal(
          `${P}emailToMatrixUserIdTemplate: must contain exactly one {localpart} placeholder, e.g. @{localpart}:example.org (got @user:example.org)`,
        );
        expect(withTemplate("@{localpart}{localpart}:example.org")).to.match(/exactly one \{localpart\}.*\(got @\{localpart\}\{localpart\}:example\.org\)$/);
        expect(withTemplate("@{localpart}:example.org")).to.equal(undefined);
        expect(withTemplate("{localpart}")).to.equal(undefined);
      });

      for (const key of ["jwtHeader", "jwksUrl", "jwtAudience", "jwtIssuer"] as const) {
        it(`strict mode requires ${key}; without strict mode it may be empty`, () => {
          expect(problem(on({ ...STRICT, [key]: "" }))).to.equal(`${P}${key}: required when requireJwt is true (strict mode); set it or turn requireJwt off`);
          expect(problem(on({ ...STRICT, requireJwt: "yes", [key]: "" }))).to.match(new RegExp(`^provisioner\\.trustedUpstreamAuth\\.${key}: `));
          expect(problem(on({ ...STRICT, requireJwt: "false", [key]: "" }))).to.equal(undefined);
        });
      }

      it("strict mode with all four JWT fields is valid; the first missing field is named", () => {
        expect(problem(on(STRICT))).to.equal(undefined);
        expect(problem(on({ ...STRICT, jwksUrl: "", jwtIssuer: "" }))).to.match(/^provisioner\.trustedUpstreamAuth\.jwksUrl: /);
      });

      it("without requireJwt: refused unless acknowledgeUnverifiedHeaders is exactly the documented value", () => {
        const message =
          `${P}acknowledgeUnverifiedHeaders: without requireJwt nothing verifies the identity headers; turn on requireJwt (strict mode), ` +
          `or set acknowledgeUnverifiedHeaders to "i-understand-anyone-can-set-these-headers" and authUrl to your access layer's auth endpoint`;
        expect(UNVERIFIED_HEADERS_ACK).to.equal("i-understand-anyone-can-set-these-headers");
        for (const ack of ["", "true", "yes", "I-UNDERSTAND-ANYONE-CAN-SET-THESE-HEADERS", ` ${UNVERIFIED_HEADERS_ACK}`]) {
          expect(problem(on({ acknowledgeUnverifiedHeaders: ack })), JSON.stringify(ack)).to.equal(message);
        }
        expect(problem(on({ acknowledgeUnverifiedHeaders: UNVERIFIED_HEADERS_ACK }))).to.equal(undefined);
      });

      it("without requireJwt: authUrl is required (after the acknowledgement)", () => {
        expect(problem(on({ authUrl: "" }))).to.equal(
          `${P}authUrl: required when trusted upstream auth runs without requireJwt (the tenant Ingress takes the identity headers only from this auth endpoint of your access layer); set it, or turn on requireJwt`,
        );
        expect(problem(on({ authUrl: "", acknowledgeUnverifiedHeaders: "" }))).to.match(/\.acknowledgeUnverifiedHeaders: /);
      });

      it("strict mode (requireJwt) needs neither the acknowledgement nor authUrl; both may still be given", () => {
        expect(problem(on({ ...STRICT, authUrl: "", acknowledgeUnverifiedHeaders: "" }))).to.equal(undefined);
        expect(problem(on({ ...STRICT }))).to.equal(undefined);
        // Disabled: nothing is checked, the new rules neither.
        expect(problem({ ...TRUSTED_UPSTREAM_AUTH_DEFAULTS, userIdHeader: "X-User" })).to.equal(undefined);
      });

      it("authUrl and authSignin must be http(s) URLs ingress-nginx accepts", () => {
        for (const [key, value] of [["authUrl", "auth.example.org/verify"], ["authUrl", "https://a/b c"], ["authUrl", "https://a/\"x"], ["authSignin", "ftp://a/b"], ["authSignin", "https://a/{b}"]] as const) {
          expect(problem(on({ [key]: value })), `${key}=${value}`).to.equal(
            `${P}${key}: "${value}" is not a URL ingress-nginx accepts; use http(s)://host/path with letters, digits and -._~/:,?&=$ only`,
          );
        }
        expect(problem(on({ authUrl: "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth" }))).to.equal(undefined);
        expect(problem(on({ authSignin: "https://auth.example.org/oauth2/start?rd=$scheme://$host$request_uri" }))).to.equal(undefined);
      });

      it("with authUrl, every identity header must be a header name nginx passes on", () => {
        for (const key of ["userIdHeader", "emailHeader", "matrixUserIdHeader"] as const) {
          expect(problem(on({ [key]: "X_User" })), key).to.equal(`${P}${key}: "X_User" is not a header name the tenant Ingress can pass on from authUrl; use letters, digits and '-'`);
        }
        expect(problem(on({ ...STRICT, jwtHeader: "Jwt Header" }))).to.match(/\.jwtHeader: "Jwt Header" is not a header name/);
        // Without authUrl (strict mode) the names are not put into the Ingress, so not checked (as upstream).
        expect(problem(on({ ...STRICT, authUrl: "", userIdHeader: "X_User" }))).to.equal(undefined);
      });

      it("the header rules come before the JWT rules", () => {
        expect(problem(on({ ...STRICT, userIdHeader: "", jwtHeader: "" }))).to.match(/\.userIdHeader: /);
        expect(problem(on({ ...STRICT, emailToMatrixUserIdTemplate: "@{localpart}:x", jwtHeader: "" }))).to.match(/\.emailHeader: /);
      });
    });
  }

  describe("each chart's order when userIdHeader and the email rules are both broken", () => {
    const noUserId = (fields: Partial<TrustedUpstreamAuthSettings>) => on({ userIdHeader: "", ...fields });

    it("instance.md §14 (userIdHeaderFirst): userIdHeader is reported first", () => {
      expect(trustedUpstreamAuthProblem(noUserId({ emailToMatrixUserIdTemplate: "@{localpart}:x" }), "trustedUpstreamAuth.", "userIdHeaderFirst")).to.match(
        /^trustedUpstreamAuth\.userIdHeader: required/,
      );
      expect(trustedUpstreamAuthProblem(noUserId({ emailHeader: "X-Email", emailToMatrixUserIdTemplate: "bad" }), "trustedUpstreamAuth.", "userIdHeaderFirst")).to.match(
        /^trustedUpstreamAuth\.userIdHeader: required/,
      );
    });

    it("platform.md §10 (emailHeaderFirst): emailHeader (check 1) and the template rule come before userIdHeader (check 2)", () => {
      expect(trustedUpstreamAuthProblem(noUserId({ emailToMatrixUserIdTemplate: "@{localpart}:x" }), P, "emailHeaderFirst")).to.match(
        /^provisioner\.trustedUpstreamAuth\.emailHeader: required/,
      );
      expect(trustedUpstreamAuthProblem(noUserId({ emailHeader: "X-Email", emailToMatrixUserIdTemplate: "bad" }), P, "emailHeaderFirst")).to.match(
        /^provisioner\.trustedUpstreamAuth\.emailToMatrixUserIdTemplate: must contain exactly one/,
      );
      expect(trustedUpstreamAuthProblem(noUserId({ emailHeader: "X-Email", emailToMatrixUserIdTemplate: "@{localpart}:x" }), P, "emailHeaderFirst")).to.match(
        /^provisioner\.trustedUpstreamAuth\.userIdHeader: required/,
      );
    });
  });

  it("identityHeaders: the headers the tenant Ingress takes only from authUrl's answer (enabled and authUrl set only)", () => {
    expect(identityHeaders(on({ emailHeader: "X-Email", matrixUserIdHeader: "X-Matrix", ...STRICT }))).to.deep.equal(["X-User", "X-Email", "X-Matrix", "X-Jwt"]);
    expect(identityHeaders(on())).to.deep.equal(["X-User"]);
    expect(identityHeaders(on({ emailHeader: "X-User" })), "each once").to.deep.equal(["X-User"]);
    expect(identityHeaders(on({ authUrl: "" }))).to.deep.equal([]);
    expect(identityHeaders(on({ enabled: "false" }))).to.deep.equal([]);
  });

  it("messages are one line and carry the caller's values path", () => {
    const message = trustedUpstreamAuthProblem(on({ ...STRICT, jwtAudience: "" }), "trustedUpstreamAuth.", "userIdHeaderFirst");
    expect(message).to.equal("trustedUpstreamAuth.jwtAudience: required when requireJwt is true (strict mode); set it or turn requireJwt off");
    expect(message?.split("\n")).to.have.length(1);
  });
});
