import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { loadConfig } from "../../../provisioner/config";

describe("provisioner config", () => {
  it("applies the documented defaults", () => {
    const c = loadConfig({});
    expect(c).to.include({ apiKey: "", platformDomain: "mindroom.chat", baseDomain: "mindroom.chat", port: 8080, concurrency: 2, environment: "production", jobRetentionHours: 24, uninstallWaitSeconds: 240, readinessTimeoutSeconds: 180 });
    expect(c.dataDir).to.equal(resolve(".mindroom"));
    expect(c.pulumiBackendUrl).to.equal(`file://${resolve(".mindroom/state")}`);
    expect(c.openrouterApiUrl).to.equal("https://openrouter.ai/api/v1");
  });

  it("falls back from INSTANCE_BASE_DOMAIN to PLATFORM_DOMAIN", () => {
    expect(loadConfig({ PLATFORM_DOMAIN: "p.example" }).baseDomain).to.equal("p.example");
    expect(loadConfig({ PLATFORM_DOMAIN: "p.example", INSTANCE_BASE_DOMAIN: "i.example" }).baseDomain).to.equal("i.example");
  });

  it("reads secrets from NAME, else NAME_FILE (trimmed); the env value is not trimmed", () => {
    const dir = mkdtempSync(join(tmpdir(), "cfg-"));
    writeFileSync(join(dir, "key"), "  from-file\n");
    expect(loadConfig({ PROVISIONER_API_KEY_FILE: join(dir, "key") }).apiKey).to.equal("from-file");
    expect(loadConfig({ PROVISIONER_API_KEY: " env ", PROVISIONER_API_KEY_FILE: join(dir, "key") }).apiKey).to.equal(" env ");
    expect(loadConfig({ PROVISIONER_API_KEY: "", PROVISIONER_API_KEY_FILE: join(dir, "key") }).apiKey).to.equal("from-file");
    expect(() => loadConfig({ SUPABASE_SERVICE_KEY_FILE: join(dir, "missing") })).to.throw(/^SUPABASE_SERVICE_KEY_FILE: cannot read .* \(ENOENT\)/);
  });

  it("stops with one line naming the variable and the fix", () => {
    expect(() => loadConfig({ PORT: "http" })).to.throw('PORT must be an integer from 0 to 65535 (got "http")');
    expect(() => loadConfig({ PROVISIONER_CONCURRENCY: "0" })).to.throw(/^PROVISIONER_CONCURRENCY must be an integer from 1 to 16/);
    expect(() => loadConfig({ SUPABASE_URL: "not a url" })).to.throw(/^SUPABASE_URL must be a URL/);
    expect(loadConfig({ SUPABASE_URL: "" }).supabaseUrl, "empty SUPABASE_URL is unset (mirror off), not an error").to.equal("");
    expect(() => loadConfig({ MINDROOM_ENVIRONMENT: "Prod_1" })).to.throw(/^MINDROOM_ENVIRONMENT must be a short DNS label/);
  });

  it("collects the 16 trusted-upstream variables (13 upstream, 3 project), each under its own key", () => {
    const suffixes = ["ENABLED", "USER_ID_HEADER", "EMAIL_HEADER", "MATRIX_USER_ID_HEADER", "EMAIL_TO_MATRIX_USER_ID_TEMPLATE", "REQUIRE_JWT", "JWT_HEADER", "JWKS_URL", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_EMAIL_CLAIM", "JWT_USER_ID_CLAIM", "JWT_MATRIX_USER_ID_CLAIM", "AUTH_URL", "AUTH_SIGNIN", "ACKNOWLEDGE_UNVERIFIED_HEADERS"];
    const c = loadConfig(Object.fromEntries(suffixes.map((s) => [`INSTANCE_TRUSTED_UPSTREAM_${s}`, `v-${s}`])));
    expect(c.trustedUpstream).to.deep.equal({
      enabled: "v-ENABLED", userIdHeader: "v-USER_ID_HEADER", emailHeader: "v-EMAIL_HEADER", matrixUserIdHeader: "v-MATRIX_USER_ID_HEADER",
      emailToMatrixUserIdTemplate: "v-EMAIL_TO_MATRIX_USER_ID_TEMPLATE", requireJwt: "v-REQUIRE_JWT", jwtHeader: "v-JWT_HEADER", jwksUrl: "v-JWKS_URL",
      jwtAudience: "v-JWT_AUDIENCE", jwtIssuer: "v-JWT_ISSUER", jwtEmailClaim: "v-JWT_EMAIL_CLAIM", jwtUserIdClaim: "v-JWT_USER_ID_CLAIM",
      jwtMatrixUserIdClaim: "v-JWT_MATRIX_USER_ID_CLAIM", authUrl: "v-AUTH_URL", authSignin: "v-AUTH_SIGNIN", acknowledgeUnverifiedHeaders: "v-ACKNOWLEDGE_UNVERIFIED_HEADERS",
    });
    expect(Object.values(loadConfig({}).trustedUpstream)).to.deep.equal(Array(16).fill(""));
  });
});

describe("provisioner config: HOST", () => {
  it("listens on every interface by default, on the given address with HOST, and refuses a HOST that is no IP", () => {
    expect(loadConfig({}).host).to.equal(undefined);
    expect(loadConfig({ HOST: "127.0.0.1" }).host).to.equal("127.0.0.1");
    expect(loadConfig({ HOST: "::1" }).host).to.equal("::1");
    expect(() => loadConfig({ HOST: "localhost" })).to.throw(/HOST must be an IP address to listen on/);
  });
});
