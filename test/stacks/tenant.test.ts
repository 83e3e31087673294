import { expect } from "chai";
import { recordProgram, type Registration } from "../../infra/render/record";
import { containsSecret } from "../../infra/render/manifests";
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
    expect(kube).to.have.length(11);
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
    expect(containsSecret(provider(regs).inputs.kubeconfig)).to.equal(true);
  });

  it("retainData (Deviation 9) defaults to true and reaches the component args; the tenant Secret's values are secret", async () => {
    expect(tenantInstanceArgs(VALUES, {}).retainData).to.equal(true);
    expect(tenantInstanceArgs(VALUES, { retainData: false }).retainData).to.equal(false);
    const { regs } = await run({ kube: { mode: "in-cluster" }, retainData: false });
    const secret = regs.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    expect(secret.urn).to.contain("mindroom:instance:MindroomInstance$kubernetes:core/v1:Secret");
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
