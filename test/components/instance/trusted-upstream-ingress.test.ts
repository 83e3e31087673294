/**
 * Trusted upstream auth at the tenant Ingress (issue 9 item 4; docs/instance.md "Trusted upstream
 * auth"): with `authUrl`, ingress-nginx's external auth takes each identity header only from the
 * access layer's answer (a client's copy is replaced, or dropped). Renders are schema-checked by
 * the helpers (kubernetes-models, strict fields). The validation rules themselves are
 * test/infra/trusted-upstream.test.ts and values.test.ts.
 */
import { expect } from "chai";
import { configHash } from "../../../components/instance/hashes";
import { resolveInstance } from "../../../components/instance/resolve";
import { parseInstanceValues } from "../../../components/instance/values";
import { mindroomEnv, renderValues } from "./helpers";

const ACK = "i-understand-anyone-can-set-these-headers";
const AUTH_URL = "http://oauth2-proxy.auth.svc.cluster.local:4180/oauth2/auth";
const HEADERS = { userIdHeader: "X-MindRoom-User-Id", emailHeader: "X-MindRoom-User-Email", matrixUserIdHeader: "X-MindRoom-Matrix-User-Id" };
const UNVERIFIED = { enabled: "true", ...HEADERS, authUrl: AUTH_URL, acknowledgeUnverifiedHeaders: ACK };
const STRICT = { enabled: "true", userIdHeader: "X-User", requireJwt: "true", jwtHeader: "Cf-Access-Jwt-Assertion", jwksUrl: "https://team.cloudflareaccess.com/cdn-cgi/access/certs", jwtAudience: "aud", jwtIssuer: "https://team.cloudflareaccess.com" };
const UPSTREAM_ANNOTATIONS = {
  "kubernetes.io/ingress.class": "nginx",
  "cert-manager.io/cluster-issuer": "letsencrypt-prod",
  "nginx.ingress.kubernetes.io/proxy-body-size": "100m",
  "nginx.ingress.kubernetes.io/proxy-read-timeout": "3600",
  "nginx.ingress.kubernetes.io/proxy-send-timeout": "3600",
  "pulumi.com/skipAwait": "true",
};

const annotations = async (trustedUpstreamAuth?: Record<string, unknown>) =>
  (await renderValues({ customer: "t1", ...(trustedUpstreamAuth ? { trustedUpstreamAuth } : {}) })).get("Ingress", "t1-ingress").metadata.annotations as Record<string, string>;

describe("MindroomInstance: trusted upstream auth at the Ingress (issue 9 item 4)", () => {
  it("off (the default) or strict without authUrl: the chart's annotations only, no external auth", async () => {
    expect(await annotations()).to.deep.equal(UPSTREAM_ANNOTATIONS);
    expect(await annotations({ ...UNVERIFIED, enabled: "false" })).to.deep.equal(UPSTREAM_ANNOTATIONS);
    expect(await annotations(STRICT)).to.deep.equal(UPSTREAM_ANNOTATIONS);
  });

  it("without requireJwt: the Ingress asks authUrl and takes userIdHeader, emailHeader and matrixUserIdHeader only from its answer", async () => {
    const a = await annotations(UNVERIFIED);
    expect(a).to.deep.equal({
      ...UPSTREAM_ANNOTATIONS,
      "nginx.ingress.kubernetes.io/auth-url": AUTH_URL,
      "nginx.ingress.kubernetes.io/auth-response-headers": "X-MindRoom-User-Id,X-MindRoom-User-Email,X-MindRoom-Matrix-User-Id",
    });
    // No snippet: the pinned controller refuses them by default (allow-snippet-annotations false, risk Critical).
    expect(Object.keys(a).filter((k) => k.includes("snippet"))).to.deep.equal([]);
  });

  it("each identity header the runtime reads is in auth-response-headers, whichever are configured", async () => {
    for (const [key, header] of Object.entries(HEADERS)) {
      const only = { enabled: "true", userIdHeader: "X-U", [key]: header, authUrl: AUTH_URL, acknowledgeUnverifiedHeaders: ACK };
      const listed = (await annotations(only))["nginx.ingress.kubernetes.io/auth-response-headers"].split(",");
      expect(listed, key).to.include(header);
      expect(listed, key).to.include(key === "userIdHeader" ? header : "X-U");
    }
    const env = mindroomEnv(await renderValues({ customer: "t1", trustedUpstreamAuth: UNVERIFIED }), "t1");
    const read = Object.entries(env).filter(([k]) => k.endsWith("_HEADER")).map(([, v]) => v);
    expect(read.sort()).to.deep.equal(Object.values(HEADERS).sort());
  });

  it("strict mode with authUrl also takes the JWT header only from the access layer; authSignin adds the redirect", async () => {
    const signin = "https://auth.example.org/oauth2/start?rd=$scheme://$host$request_uri";
    const a = await annotations({ ...STRICT, emailHeader: "X-Email", authUrl: AUTH_URL, authSignin: signin });
    expect(a["nginx.ingress.kubernetes.io/auth-response-headers"]).to.equal("X-User,X-Email,Cf-Access-Jwt-Assertion");
    expect(a["nginx.ingress.kubernetes.io/auth-signin"]).to.equal(signin);
  });

  it("without requireJwt and without the acknowledgement or authUrl nothing renders: one line naming the value", () => {
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "true", ...HEADERS } })).to.throw(
      /^trustedUpstreamAuth\.acknowledgeUnverifiedHeaders: .*"i-understand-anyone-can-set-these-headers"/,
    );
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "true", ...HEADERS, acknowledgeUnverifiedHeaders: ACK } })).to.throw(
      /^trustedUpstreamAuth\.authUrl: required when trusted upstream auth runs without requireJwt/,
    );
    // An upstream tenant in strict mode (the Helm values fixture's shape) needs neither.
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: STRICT })).to.not.throw();
  });

  it("the three project keys are not runtime env and not in mindroom.ai/config-hash: setting them restarts no pod", async () => {
    const base = { customer: "t1", trustedUpstreamAuth: STRICT };
    const withAccess = { customer: "t1", trustedUpstreamAuth: { ...STRICT, authUrl: AUTH_URL, authSignin: "https://a/s", acknowledgeUnverifiedHeaders: ACK } };
    expect(configHash(resolveInstance(parseInstanceValues(withAccess)))).to.equal(configHash(resolveInstance(parseInstanceValues(base))));
    const env = mindroomEnv(await renderValues(withAccess), "t1");
    expect(Object.values(env)).to.not.include(AUTH_URL);
    expect(Object.values(env)).to.not.include(ACK);
  });
});
