import { expect } from "chai";
import { recordProgram, type Registration } from "../../infra/render/record";
import { containsSecret, kubeObjects } from "../../infra/render/manifests";
import { loadConfig } from "../../provisioner/config";
import { buildTenantValues, type TenantSecrets } from "../../provisioner/service/tenant-values";
import { ValuesError } from "../../infra/values/errors";
import { tenantInstanceArgs, tenantProgram, type TenantProgramOptions } from "../../stacks/tenant";

const VALUES = { customer: 42, baseDomain: "staging.mindroom.chat", openai_key: "sk-tenant", instanceSecrets: { name: "mindroom-api-keys-42", hash: "h42" } };
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

async function run(options: TenantProgramOptions, values: Record<string, unknown> = VALUES) {
  const program = tenantProgram(values, options);
  let outputs: Promise<Record<string, unknown>> | undefined;
  const regs = await recordProgram(() => {
    outputs = program();
  }, {
    project: "mindroom-tenant",
    stack: "staging-42",
    state: (type) => (type === "pulumi:pulumi:StackReference" ? { outputs: { kubeconfig: KUBECONFIG, other: "other-kubeconfig" } } : {}),
  });
  return { regs, outputs: await outputs! };
}

const provider = (regs: Registration[]) => regs.find((r) => r.type === "pulumi:providers:kubernetes")!;

describe("stacks/tenant: tenantProgram", () => {
  const saved = { host: process.env.KUBERNETES_SERVICE_HOST, port: process.env.KUBERNETES_SERVICE_PORT };
  before(() => {
    process.env.KUBERNETES_SERVICE_HOST = "10.43.0.1";
    process.env.KUBERNETES_SERVICE_PORT = "443";
  });
  after(() => {
    for (const [key, value] of [["KUBERNETES_SERVICE_HOST", saved.host], ["KUBERNETES_SERVICE_PORT", saved.port]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  });

  it("in-cluster: returns the outputs the provisioner reads and uses the pod's ServiceAccount with the project provider settings", async () => {
    const { regs, outputs } = await run({ kube: { mode: "in-cluster" } });
    expect(outputs).to.deep.equal({
      customer: "42",
      namespace: "mindroom-instances",
      urls: { frontend: "https://42.staging.mindroom.chat", api: "https://42.api.staging.mindroom.chat", matrix: "https://42.matrix.staging.mindroom.chat" },
      secretName: "mindroom-api-keys-42",
      volumes: ["mindroom-storage-42", "synapse-storage-42"],
      deployments: ["mindroom-42", "synapse-42"],
    });
    const p = provider(regs);
    expect(p.inputs).to.include({
      enableServerSideApply: "true", enableConfigMapMutable: "true", enableSecretMutable: "true", enablePatchForce: "true", upsertExistingObjects: "true",
    });
    const kubeconfig = JSON.parse(p.inputs.kubeconfig as string);
    expect(kubeconfig.clusters[0].cluster.server).to.equal("https://10.43.0.1:443");
    expect(kubeconfig.users[0].user).to.deep.equal({ tokenFile: "/var/run/secrets/kubernetes.io/serviceaccount/token" });
    const kube = regs.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    expect(kube).to.have.length(12); // the chart's 11 and synapse-secrets-{c} (issue 9)
    for (const r of kube) expect(r.provider).to.match(/::pulumi:providers:kubernetes::tenant::/);
  });

  it("stack-reference: reads the kubeconfig output of the cluster stack (secret), default output name kubeconfig", async () => {
    const { regs } = await run({ kube: { mode: "stack-reference", stack: "organization/mindroom/staging" } });
    const ref = regs.find((r) => r.type === "pulumi:pulumi:StackReference")!;
    expect(ref.inputs.name).to.equal("organization/mindroom/staging");
    const p = provider(regs);
    expect(containsSecret(p.inputs.kubeconfig)).to.equal(true);
    expect(JSON.stringify(p.inputs.kubeconfig)).to.contain("kind: Config");
    const other = await run({ kube: { mode: "stack-reference", stack: "organization/mindroom/staging", output: "other" } });
    expect(JSON.stringify(provider(other.regs).inputs.kubeconfig)).to.contain("other-kubeconfig");
  });

  it("kubeconfig: the given kubeconfig is a secret provider input", async () => {
    const { regs } = await run({ kube: { mode: "kubeconfig", kubeconfig: KUBECONFIG } });
    const kubeconfig = provider(regs).inputs.kubeconfig;
    expect(containsSecret(kubeconfig)).to.equal(true);
    expect((kubeconfig as { value: unknown }).value).to.equal(KUBECONFIG);
  });

  it("retainData (Deviation 9) defaults to true and reaches the component args; the tenant Secret's values are secret", async () => {
    expect(tenantInstanceArgs(VALUES, {}).retainData).to.equal(true);
    expect(tenantInstanceArgs(VALUES, { retainData: false }).retainData).to.equal(false);
    const { regs } = await run({ kube: { mode: "in-cluster" }, retainData: false });
    const secret = regs.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    expect(secret.urn).to.contain("mindroom:instance:MindroomInstance$kubernetes:core/v1:Secret");
  });

  it("contract with the provisioner: every value buildTenantValues can produce runs, and no secret value lands in a plain input", async () => {
    // Every optional §6.9 row set; `helm --set` typing turns an all-digit audience and client id into numbers.
    const config = loadConfig({
      INSTANCE_BASE_DOMAIN: "staging.mindroom.chat", SUPABASE_URL: "https://db.example", SUPABASE_ANON_KEY: "anon",
      INSTANCE_MINDROOM_IMAGE: "ghcr.io/x/mindroom:1", INSTANCE_MINDROOM_IMAGE_PULL_POLICY: "IfNotPresent",
      INSTANCE_SYNAPSE_IMAGE: "synapse:2", INSTANCE_SYNAPSE_IMAGE_PULL_POLICY: "Never", INSTANCE_IMAGE_PULL_SECRET_NAMES: "ghcr-pull",
      INSTANCE_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "300", INSTANCE_MATRIX_OIDC_ENABLED: "true",
      INSTANCE_MATRIX_OIDC_ISSUER: "https://api.staging.mindroom.chat/matrix-oidc", INSTANCE_MATRIX_OIDC_CLIENT_ID: "4242",
      INSTANCE_TRUSTED_UPSTREAM_ENABLED: "true", INSTANCE_TRUSTED_UPSTREAM_USER_ID_HEADER: "X-User", INSTANCE_TRUSTED_UPSTREAM_EMAIL_HEADER: "X-Email",
      INSTANCE_TRUSTED_UPSTREAM_EMAIL_TO_MATRIX_USER_ID_TEMPLATE: "@{localpart}:staging.mindroom.chat", INSTANCE_TRUSTED_UPSTREAM_REQUIRE_JWT: "TRUE",
      INSTANCE_TRUSTED_UPSTREAM_JWT_HEADER: "X-Jwt", INSTANCE_TRUSTED_UPSTREAM_JWKS_URL: "https://idp/jwks", INSTANCE_TRUSTED_UPSTREAM_JWT_AUDIENCE: "1234567890",
      INSTANCE_TRUSTED_UPSTREAM_JWT_ISSUER: "https://idp",
    });
    const secrets: TenantSecrets = {
      openai_key: "SECRET-openai", anthropic_key: "SECRET-anthropic", google_key: "SECRET-google", deepseek_key: "SECRET-deepseek",
      openrouter_key: "SECRET-openrouter", supabase_service_key: "SECRET-service", sandbox_proxy_token: "SECRET-token",
      credentials_encryption_key: "SECRET-cek", matrix_oidc_client_secret: "SECRET-oidc", matrix_registration_shared_secret: "SECRET-registration",
    };
    const values = buildTenantValues(config, { instanceId: "42", accountId: null, tier: "pro", ownerMxid: "@o:42.staging.mindroom.chat", storageClassName: "hcloud-volumes", secrets, hash: "rollout" });
    const { regs, outputs } = await run({ kube: { mode: "in-cluster" } }, values);
    expect(outputs.volumes).to.deep.equal(["mindroom-storage-42", "synapse-storage-42"]);
    const redacted = JSON.stringify(kubeObjects(regs, false));
    for (const v of Object.values(secrets)) expect(redacted, v).to.not.contain(v);
    const revealed = kubeObjects(regs, true);
    const secret = revealed.find((o) => o.kind === "Secret")! as unknown as { stringData: Record<string, string> };
    expect(secret.stringData).to.deep.equal(secrets);
    const mindroom = revealed.find((o) => o.kind === "Deployment" && o.metadata?.name === "mindroom-42") as unknown as { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    const env = Object.fromEntries(mindroom.spec.template.spec.containers[0].env.map((e) => [e.name, e.value]));
    expect(env).to.include({ ACCOUNT_ID: "None", MINDROOM_TRUSTED_UPSTREAM_JWT_AUDIENCE: "1234567890", MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "300" });
  });

  it("throws a one-line ValuesError NOW for invalid values or kube access, before any program runs", () => {
    expect(() => tenantProgram({ customer: "Bad_Id" }, { kube: { mode: "in-cluster" } })).to.throw(ValuesError, /^customer: /);
    expect(() => tenantProgram({ customer: 1, mindroom_imgae: "x" }, { kube: { mode: "in-cluster" } })).to.throw(ValuesError, /unknown key "mindroom_imgae"/);
    expect(() => tenantProgram({ customer: 1 }, { kube: { mode: "kubeconfig", kubeconfig: " " } })).to.throw(ValuesError, /kubeconfig is empty/);
    expect(() => tenantProgram({ customer: 1 }, { kube: { mode: "stack-reference", stack: "" } })).to.throw(ValuesError, /no stack named/);
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      expect(() => tenantProgram({ customer: 1 }, { kube: { mode: "in-cluster" } })).to.throw(ValuesError, /KUBERNETES_SERVICE_HOST is not set/);
    } finally {
      process.env.KUBERNETES_SERVICE_HOST = "10.43.0.1";
    }
  });
});
