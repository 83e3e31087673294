/**
 * The tenant program (stacks/tenant.ts) and the runtime program (stacks/runtime.ts) run on an
 * engine without the `random` provider plugin: they neither load @pulumi/random nor register a
 * `random:*` resource, and their secrets repeat for the same tenant / release.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { deriveInstanceSecret } from "../../infra/derived-secrets";
import { kubeObjects } from "../../infra/render/manifests";
import { recordProgram, type Registration } from "../../infra/render/record";
import { tenantProgram } from "../../stacks/tenant";
import { runtimeStack, RUNTIME_PROJECT } from "../../stacks/runtime";

const ROOT = join(__dirname, "..", "..");
const KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n";

/** Values as the provisioner passes them (registration secret derived from its root, spec provisioner.md §6.5). */
const tenantValues = (id: number) => ({
  customer: id,
  baseDomain: "staging.mindroom.chat",
  instanceSecrets: { create: true, name: `mindroom-api-keys-${id}`, hash: `h${id}` },
  sandbox_proxy_token: `token-${id}`,
  matrixRegistrationSharedSecret: deriveInstanceSecret("root", "matrix-registration", String(id)),
});

async function tenant(id: number, values: Record<string, unknown> = tenantValues(id)): Promise<Registration[]> {
  const program = tenantProgram(values, { kube: { mode: "kubeconfig", kubeconfig: KUBECONFIG } });
  return recordProgram(() => void program(), { project: "mindroom-tenant", stack: `staging-${id}` });
}

async function runtime(values: Record<string, unknown> = {}): Promise<Registration[]> {
  pulumi.runtime.setAllConfig({ [`${RUNTIME_PROJECT}:values`]: JSON.stringify(values) }, []);
  try {
    return await recordProgram(() => void runtimeStack(), { project: RUNTIME_PROJECT, stack: "example" });
  } finally {
    pulumi.runtime.setAllConfig({}, []);
  }
}

/** Every secret leaf of the program's Kubernetes objects, by object and key (the Synapse macaroon/form secrets are in Secret synapse-secrets-{c}). */
function secretValues(regs: Registration[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const o of kubeObjects(regs, true) as Array<{ kind: string; metadata?: { name?: string }; stringData?: Record<string, string> }>) {
    if (o.kind === "Secret") for (const [k, v] of Object.entries(o.stringData ?? {})) out[`${o.metadata?.name}/${k}`] = v;
  }
  return out;
}

const randomTypes = (regs: Registration[]) => regs.map((r) => r.type).filter((t) => t.startsWith("random:"));

describe("tenant and runtime programs without @pulumi/random", () => {
  it("neither program loads @pulumi/random (checked in a fresh process; the cluster component, which does, is the control)", function () {
    this.timeout(60_000);
    const loaded = (modules: string[]) => {
      const code = `${modules.map((m) => `require(${JSON.stringify(m)});`).join("")}process.stdout.write(String(Object.keys(require.cache).some((k) => k.includes("/node_modules/@pulumi/random/"))));`;
      const run = spawnSync("npx", ["tsx", "-e", code], { cwd: ROOT, encoding: "utf8", timeout: 50_000 });
      expect(run.status, run.stderr).to.equal(0);
      return run.stdout.trim();
    };
    expect(loaded(["./stacks/tenant.ts", "./stacks/runtime/index.ts", "./stacks/runtime.ts"])).to.equal("false");
    expect(loaded(["./components/cluster/index.ts"])).to.equal("true");
  });

  it("the tenant program registers no random:* resource; same tenant twice → same secrets; another tenant → other secrets", async () => {
    const first = await tenant(7);
    expect(randomTypes(first)).to.deep.equal([]);
    const a = secretValues(first);
    expect(Object.keys(a)).to.include.members(["mindroom-api-keys-7/matrix_registration_shared_secret", "synapse-secrets-7/macaroon_secret_key", "synapse-secrets-7/form_secret"]);
    expect(a["synapse-secrets-7/macaroon_secret_key"]).to.match(/^[0-9a-f]{32}$/);
    expect(secretValues(await tenant(7))).to.deep.equal(a);
    const b = secretValues(await tenant(8));
    for (const key of ["matrix_registration_shared_secret", "sandbox_proxy_token"]) expect(b[`mindroom-api-keys-8/${key}`]).to.not.equal(a[`mindroom-api-keys-7/${key}`]);
    for (const key of ["macaroon_secret_key", "form_secret"]) expect(b[`synapse-secrets-8/${key}`], key).to.not.equal(a[`synapse-secrets-7/${key}`]);
  });

  it("the tenant program keeps every one of those values secret", async () => {
    const regs = await tenant(7);
    const shown = Object.values(secretValues(regs));
    expect(shown.length).to.be.greaterThan(10);
    const redacted = JSON.stringify(kubeObjects(regs, false));
    for (const v of shown.filter((x) => x.length > 0)) expect(redacted).to.not.contain(v);
  });

  it("the runtime program registers no random:* resource; its generated database password repeats and is secret", async () => {
    const first = await runtime();
    expect(randomTypes(first)).to.deep.equal([]);
    const a = secretValues(first);
    const password = a["mindroom-runtime-event-cache-postgres-auth/password"];
    expect(password).to.match(/^[A-Za-z0-9]{32}$/);
    expect(secretValues(await runtime({ image: { tag: "v2" } }))).to.deep.equal(a);
    expect(JSON.stringify(kubeObjects(first, false))).to.not.contain(password);
    expect(randomTypes(await runtime({ eventCache: { backend: "sqlite" } }))).to.deep.equal([]);
  });
});
