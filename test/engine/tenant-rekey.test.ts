/**
 * The tenant-stacks passphrase move (docs/rekey.md) on a real tenant stack: the adapter
 * (`createTenantStacks`) in this process with the real Pulumi CLI and kubernetes provider of
 * tools/engine against the test control plane, file backend in a temp dir. A stack created with
 * passphrase A is moved to passphrase B with `changePassphrase` (the real `stack export` and
 * `stack change-secrets-provider passphrase`, B on stdin). Then: with B its outputs and a preview
 * work, with A they fail; no tenant object in the cluster moved a resourceVersion; a second run is
 * a no-op that writes not a byte of the backend.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { EngineError, type ProgressEvent, type TenantSpec, type TenantStacks } from "../../provisioner/ports";
import { createTenantStacks, type TenantStacksOptions } from "../../provisioner/stacks";
import { newPassphraseState, opensState } from "../../provisioner/stacks/passphrase";
import { apiRequest, type ApiTarget } from "./support/api";
import { engineBinDir } from "./support/engine";
import { backendFiles } from "./support/backend-files";
import { tenantNamespaceTarget } from "./support/tenant-namespace";

const NS = "mindroom-instances";
/** Other engine test files share the control plane and its namespace: ids of their own. */
const ID = "7411";
const STACK = `engine-${ID}`;
const PASSPHRASE_A = "engine-rekey-passphrase-A-0123456789";
const PASSPHRASE_B = "engine-rekey-passphrase-B-9876543210";
const OPENAI_KEY = "sk-engine-rekey-openai-0123456789abcdef";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function spec(): TenantSpec {
  return {
    instanceId: ID,
    values: {
      customer: ID,
      baseDomain: "mindroom.test",
      instanceSecrets: { create: true, name: `mindroom-api-keys-${ID}` },
      openai_key: OPENAI_KEY,
      matrixRegistrationSharedSecret: "engine-rekey-registration-secret",
    },
    tags: { customer: ID, account: "acc-rekey", tier: "free", desiredState: "running" },
  };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

describe("engine: moving a real tenant stack to its own passphrase (stack change-secrets-provider, the new passphrase on stdin)", function () {
  let target: ApiTarget;
  let kubeconfig: string;
  let dataDir: string;
  let fileA: string;
  let fileB: string;
  let onA: TenantStacks;
  let moving: TenantStacks;
  let onB: TenantStacks;
  const timings: Record<string, number> = {};

  const make = (env: Record<string, string>): Promise<TenantStacks> => {
    const options: TenantStacksOptions = { environment: "engine", dataDir, pulumiCliPath: engineBinDir(), env, kube: { mode: "kubeconfig", kubeconfig } };
    return createTenantStacks(options);
  };
  const get = async (path: string): Promise<Json> => {
    const res = await apiRequest(target, "GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.text}`);
    return res.body;
  };
  /** resourceVersion of every object in the namespace that belongs to this tenant. */
  const versions = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const path of [`/apis/apps/v1/namespaces/${NS}/deployments`, `/api/v1/namespaces/${NS}/services`, `/api/v1/namespaces/${NS}/configmaps`, `/api/v1/namespaces/${NS}/secrets`, `/api/v1/namespaces/${NS}/persistentvolumeclaims`, `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`, `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`]) {
      for (const item of (await get(path)).items as Json[]) {
        if (item.metadata.name.includes(ID)) out[`${path.split("/").pop()} ${item.metadata.name}`] = item.metadata.resourceVersion;
      }
    }
    return out;
  };
  const state = () => backendFiles(join(dataDir, "state"));
  const checkpointText = () => readFileSync(join(dataDir, "state", ".pulumi", "stacks", "mindroom-tenant", `${STACK}.json`), "utf8");
  const checkpointSalt = () => (JSON.parse(checkpointText()) as Json).checkpoint.latest.secrets_providers.state.salt as string;
  const configSalt = () => (parse(readFileSync(join(dataDir, "workspaces", STACK, `Pulumi.${STACK}.yaml`), "utf8")) as Json).encryptionsalt as string;
  const timed = async <T>(label: string, run: () => Promise<T>): Promise<T> => {
    const started = Date.now();
    try {
      return await run();
    } finally {
      timings[label] = Date.now() - started;
    }
  };

  before(async function () {
    this.timeout(240_000);
    const ready = await tenantNamespaceTarget();
    target = ready.target;
    kubeconfig = ready.cluster.kubeconfig;
    dataDir = mkdtempSync(join(tmpdir(), "engine-rekey-"));
    fileA = join(dataDir, "passphrase-a");
    fileB = join(dataDir, "passphrase-b");
    writeFileSync(fileA, `${PASSPHRASE_A}\n`, { mode: 0o600 });
    writeFileSync(fileB, `${PASSPHRASE_B}\n`, { mode: 0o600 });
    onA = await make({ PULUMI_CONFIG_PASSPHRASE_FILE: fileA });
    const up = await timed("up with A", () => onA.up(spec()));
    expect(up.changes).to.deep.equal({ create: 15 });
    moving = await make({ PULUMI_CONFIG_PASSPHRASE_FILE: fileB, PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: fileA });
    onB = await make({ PULUMI_CONFIG_PASSPHRASE_FILE: fileB });
  });

  after(async function () {
    this.timeout(120_000);
    console.log(`      - timings: ${Object.entries(timings).map(([k, v]) => `${k} ${secs(v)}`).join(", ")}`);
    // The last test moves the stack back to A.
    if (onA) await onA.destroy(ID).catch((err: unknown) => console.log(`      - destroy: ${String(err)}`));
    for (const path of [`persistentvolumeclaims/mindroom-storage-${ID}`, `persistentvolumeclaims/synapse-storage-${ID}`, `secrets/mindroom-api-keys-${ID}`]) {
      if (target) await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/${path}`);
    }
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it("before the move the stack is A's: B opens neither its checkpoint nor its stack config, and a preview with B fails", async function () {
    this.timeout(60_000);
    expect(await opensState(PASSPHRASE_A, checkpointSalt())).to.equal(true);
    expect(await opensState(PASSPHRASE_B, checkpointSalt())).to.equal(false);
    expect(await opensState(PASSPHRASE_A, configSalt())).to.equal(true);
    const err = await onB.preview(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineError);
    console.log(`      - preview with B before the move: ${(err as Error).message}`);
  });

  it("changePassphrase moves it to B: checkpoint and stack config re-encrypted, no tenant object touched, the tenant secret never in plain text in the state", async function () {
    this.timeout(120_000);
    const objects = await versions();
    expect(Object.keys(objects).length).to.be.greaterThan(8);
    const progress: ProgressEvent[] = [];
    const result = await timed("move A → B", () => moving.changePassphrase(ID, { onProgress: (e) => progress.push(e) }));
    expect(result).to.deep.equal({ status: "moved" });
    expect(progress.map((e) => e.message)).to.deep.equal([`re-encrypting stack ${STACK} with the provisioner's passphrase`, `stack ${STACK} is on the provisioner's passphrase`]);
    expect(await versions(), "resourceVersions").to.deep.equal(objects);
    expect(await opensState(PASSPHRASE_B, checkpointSalt()), "checkpoint").to.equal(true);
    expect(await opensState(PASSPHRASE_B, configSalt()), "stack config").to.equal(true);
    expect(checkpointText()).not.to.include(OPENAI_KEY);
  });

  it("with B the stack's outputs and a preview work (no changes); with A a preview and an up fail, and the cluster is untouched", async function () {
    this.timeout(180_000);
    const outputs = await timed("outputs with B", () => onB.outputs(ID));
    expect(outputs).to.have.property("settings");
    const preview = await timed("preview with B", () => onB.preview(spec()));
    expect(preview).to.deep.equal({ changes: { same: 15 }, resources: [] });
    // Not `outputs`: the tenant has no secret outputs, so `stack output --show-secrets` decrypts
    // nothing and answers with any passphrase (the real CLI does). A preview and an up read the
    // whole state, secrets included.
    const objects = await versions();
    for (const [label, run] of [
      ["preview with A", () => onA.preview(spec())],
      ["up with A", () => onA.up(spec())],
    ] as const) {
      const err = await (run as () => Promise<unknown>)().catch((e: unknown) => e);
      expect(err, label).to.be.instanceOf(EngineError);
      expect((err as Error).message, label).not.to.include(PASSPHRASE_A);
      console.log(`      - ${label}: ${(err as Error).message}`);
    }
    expect(await versions()).to.deep.equal(objects);
  });

  it("a second run is a no-op: `already`, and not a byte of the backend or the stack config changes", async function () {
    this.timeout(60_000);
    const backend = state();
    const config = configSalt();
    const objects = await versions();
    const result = await timed("second run (already)", () => moving.changePassphrase(ID));
    expect(result).to.deep.equal({ status: "already" });
    expect(state()).to.deep.equal(backend);
    expect(configSalt()).to.equal(config);
    expect(await versions()).to.deep.equal(objects);
  });

  it("an up with B after the move works and changes nothing in the cluster (the tenant's next operations run as before)", async function () {
    this.timeout(180_000);
    const objects = await versions();
    const up = await timed("up with B", () => onB.up(spec()));
    expect(up.changes).to.deep.equal({ same: 15 });
    expect(await versions()).to.deep.equal(objects);
  });

  it("a half-done move converges with the real CLI: stack config already on the new passphrase, checkpoint still on the old one (a crash between the CLI's two writes)", async function () {
    this.timeout(120_000);
    // Back from B to A this time; first the state a CLI killed after writing Pulumi.<stack>.yaml leaves.
    const back = await make({ PULUMI_CONFIG_PASSPHRASE_FILE: fileA, PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: fileB });
    const file = join(dataDir, "workspaces", STACK, `Pulumi.${STACK}.yaml`);
    writeFileSync(file, readFileSync(file, "utf8").replace(configSalt(), await newPassphraseState(PASSPHRASE_A)));
    expect(await opensState(PASSPHRASE_B, checkpointSalt())).to.equal(true);
    const objects = await versions();
    expect(await timed("half-done move B → A", () => back.changePassphrase(ID))).to.deep.equal({ status: "moved" });
    expect(await opensState(PASSPHRASE_A, checkpointSalt())).to.equal(true);
    expect(await opensState(PASSPHRASE_A, configSalt())).to.equal(true);
    expect((await onA.preview(spec())).changes).to.deep.equal({ same: 15 });
    expect(await versions()).to.deep.equal(objects);
  });
});
