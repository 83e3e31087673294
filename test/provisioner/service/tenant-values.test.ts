import { expect } from "chai";
import { resolve } from "node:path";
import { loadConfig } from "../../../provisioner/config";
import { overrideProblem } from "../../../provisioner/service/overrides";
import { includedBudget, profileOverrides } from "../../../provisioner/service/plans";
import { AUTO_JOIN_ROOM_KEYS, buildTenantValues, helmTyped, type TenantSecrets } from "../../../provisioner/service/tenant-values";

const secrets: TenantSecrets = {
  openai_key: "", anthropic_key: "", google_key: "", deepseek_key: "", openrouter_key: "or",
  supabase_service_key: "svc", sandbox_proxy_token: "tok", credentials_encryption_key: "cek",
  matrix_oidc_client_secret: "oidc", matrix_registration_shared_secret: "reg",
};
const input = { instanceId: "123", accountId: "acc", tier: "byok", ownerMxid: null, storageClassName: null, secrets, hash: "h" };

/** Leaf paths of a values tree, as `--set` keys. */
function leaves(v: unknown, prefix = ""): string[] {
  if (v === null || typeof v !== "object") return [prefix];
  return Object.entries(v as Record<string, unknown>).flatMap(([k, x]) => leaves(x, prefix ? `${prefix}.${k}` : k));
}

describe("provisioner service: tenant values (§6.9) and plans (§9)", () => {
  it("types values like helm --set (strvals)", () => {
    expect(helmTyped("123")).to.equal(123);
    expect(helmTyped("TRUE")).to.equal(true);
    expect(helmTyped("false")).to.equal(false);
    expect(helmTyped("null")).to.equal(null);
    expect(helmTyped("0")).to.equal(0);
    expect(helmTyped("0123")).to.equal("0123");
    expect(helmTyped("1.5")).to.equal("1.5");
    expect(helmTyped("mindroom.test")).to.equal("mindroom.test");
  });

  it("builds the always-present inputs and the ten secrets, and nothing else by default", () => {
    const v = buildTenantValues(loadConfig({ INSTANCE_BASE_DOMAIN: "test.mindroom.chat", SUPABASE_URL: "https://db.example", SUPABASE_ANON_KEY: "anon" }), input);
    expect(v).to.deep.equal({
      customer: 123,
      baseDomain: "test.mindroom.chat",
      accountId: "acc",
      supabaseUrl: "https://db.example",
      supabaseAnonKey: "anon",
      instanceSecrets: { create: true, name: "mindroom-api-keys-123", hash: "h" },
      matrixOidc: { clientSecret: "oidc" },
      openai_key: "", anthropic_key: "", google_key: "", deepseek_key: "", openrouter_key: "or",
      supabaseServiceKey: "svc", sandbox_proxy_token: "tok", credentials_encryption_key: "cek", matrixRegistrationSharedSecret: "reg",
    });
  });

  it("INSTANCE_SEED_CONFIG_PATH: every tenant's seedConfigPath, made absolute and kept a string; unset adds nothing", () => {
    const v = buildTenantValues(loadConfig({ INSTANCE_SEED_CONFIG_PATH: "seeds/release-1.2.yaml" }), input);
    expect(v.seedConfigPath).to.equal(resolve("seeds/release-1.2.yaml"));
    expect(buildTenantValues(loadConfig({}), input)).to.not.have.property("seedConfigPath");
    // A path read on the provisioner's host comes from its operator only, never from a fleet request.
    expect(overrideProblem({ seedConfigPath: "/etc/passwd" })?.message).to.match(/^seedConfigPath is the provisioner's INSTANCE_SEED_CONFIG_PATH, .* cannot be overridden$/);
  });

  it("forwards a null account as the literal None (upstream defect kept)", () => {
    expect(buildTenantValues(loadConfig({}), { ...input, accountId: null }).accountId).to.equal("None");
  });

  it("forwards overrides: storage class, images, pull secrets as string names, timeout, owner MXID", () => {
    const config = loadConfig({
      INSTANCE_MINDROOM_IMAGE: "ghcr.io/x/mindroom:1", INSTANCE_MINDROOM_IMAGE_PULL_POLICY: "IfNotPresent",
      INSTANCE_SYNAPSE_IMAGE: "synapse:2", INSTANCE_SYNAPSE_IMAGE_PULL_POLICY: "Never",
      INSTANCE_IMAGE_PULL_SECRET_NAMES: "ghcr-pull, secondary-pull, ,", INSTANCE_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "300",
    });
    const v = buildTenantValues(config, { ...input, storageClassName: "standard", ownerMxid: "@o:123.x" });
    expect(v).to.deep.include({
      storageClassName: "standard",
      mindroom_image: "ghcr.io/x/mindroom:1",
      mindroom_image_pull_policy: "IfNotPresent",
      synapse_image: "synapse:2",
      synapse_image_pull_policy: "Never",
      imagePullSecrets: [{ name: "ghcr-pull" }, { name: "secondary-pull" }],
      matrixHomeserverStartupTimeoutSeconds: 300,
      authorizationGlobalUsers: ["@o:123.x"],
    });
  });

  it("forwards all 13 trusted-upstream values verbatim when non-empty", () => {
    const suffixes = ["ENABLED", "USER_ID_HEADER", "EMAIL_HEADER", "MATRIX_USER_ID_HEADER", "EMAIL_TO_MATRIX_USER_ID_TEMPLATE", "REQUIRE_JWT", "JWT_HEADER", "JWKS_URL", "JWT_AUDIENCE", "JWT_ISSUER", "JWT_EMAIL_CLAIM", "JWT_USER_ID_CLAIM", "JWT_MATRIX_USER_ID_CLAIM"];
    const env = Object.fromEntries(suffixes.map((s) => [`INSTANCE_TRUSTED_UPSTREAM_${s}`, s === "ENABLED" || s === "REQUIRE_JWT" ? "true" : `v-${s}`]));
    const t = buildTenantValues(loadConfig(env), input).trustedUpstreamAuth as Record<string, unknown>;
    expect(t).to.deep.equal({
      enabled: true, userIdHeader: "v-USER_ID_HEADER", emailHeader: "v-EMAIL_HEADER", matrixUserIdHeader: "v-MATRIX_USER_ID_HEADER",
      emailToMatrixUserIdTemplate: "v-EMAIL_TO_MATRIX_USER_ID_TEMPLATE", requireJwt: true, jwtHeader: "v-JWT_HEADER", jwksUrl: "v-JWKS_URL",
      jwtAudience: "v-JWT_AUDIENCE", jwtIssuer: "v-JWT_ISSUER", jwtEmailClaim: "v-JWT_EMAIL_CLAIM", jwtUserIdClaim: "v-JWT_USER_ID_CLAIM",
      jwtMatrixUserIdClaim: "v-JWT_MATRIX_USER_ID_CLAIM",
    });
    expect(buildTenantValues(loadConfig({}), input)).to.not.have.property("trustedUpstreamAuth");
  });

  it("OIDC on → enabled, issuer, clientId, the four room-access values and 16 auto-join keys (analysis first, lobby tenth)", () => {
    const v = buildTenantValues(loadConfig({ INSTANCE_MATRIX_OIDC_ENABLED: "true", INSTANCE_MATRIX_OIDC_ISSUER: "https://auth.x", INSTANCE_MATRIX_OIDC_CLIENT_ID: "synapse" }), input);
    expect(v.matrixOidc).to.deep.equal({ enabled: true, issuer: "https://auth.x", clientId: "synapse", clientSecret: "oidc" });
    expect(v.matrixRoomAccess).to.deep.equal({ mode: "multi_user", multiUserJoinRule: "public", publishToRoomDirectory: false, reconcileExistingRooms: true });
    expect(v.matrixAutoJoinRoomKeys).to.deep.equal([...AUTO_JOIN_ROOM_KEYS]);
    expect((v.matrixAutoJoinRoomKeys as string[])[0]).to.equal("analysis");
    expect((v.matrixAutoJoinRoomKeys as string[])[9]).to.equal("lobby");
    expect(AUTO_JOIN_ROOM_KEYS).to.have.length(16);
  });

  it("OIDC 'false' is forwarded (non-empty) but adds no room-access block (upstream hazard kept)", () => {
    const v = buildTenantValues(loadConfig({ INSTANCE_MATRIX_OIDC_ENABLED: "false" }), input);
    expect(v.matrixOidc).to.deep.equal({ enabled: false, clientSecret: "oidc" });
    expect(v).to.not.have.property("matrixRoomAccess");
  });

  it("pro profile → exactly 13 overrides reaching the values; small, free and unknown → none", () => {
    expect(leaves(profileOverrides("pro"))).to.have.length(13);
    const v = buildTenantValues(loadConfig({}), { ...input, tier: "pro" });
    expect(v.storage).to.equal("25Gi");
    expect(v.mindroomResources).to.deep.equal({ requests: { memory: "1Gi", cpu: "500m" }, limits: { memory: "4Gi", cpu: "2000m" } });
    expect(v.sandboxRunnerResources).to.deep.equal({ requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" } });
    expect(profileOverrides("enterprise")).to.deep.equal(profileOverrides("pro"));
    for (const tier of ["free", "byok", "hobby", "gold"]) expect(profileOverrides(tier)).to.deep.equal({});
  });

  it("budgets: hobby 15, pro 150, others 0", () => {
    expect(["free", "byok", "hobby", "pro", "enterprise", "x"].map(includedBudget)).to.deep.equal([0, 0, 15, 150, 0, 0]);
  });
});
