import { expect } from "chai";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { deriveInstanceSecret } from "../../../infra/derived-secrets";
import { rolloutHash } from "../../../provisioner/service/rollout-hash";
import { FakeInstanceMirror } from "../../../provisioner/fakes/mirror";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";
import { EngineError, StackBusy } from "../../../provisioner/ports";
import { ACCOUNT, API_KEY, call, settle, startHarness, SUB, type Harness } from "./harness";

const secretOf = (h: Harness, id: string) => h.kube.secrets.get(`mindroom-api-keys-${id}`)!;
const lastUp = (h: Harness) => {
  const ups = h.stacks.calls.filter((c) => c.op === "up");
  return (ups[ups.length - 1] as { spec: { values: Record<string, unknown>; tags: Record<string, string> } }).spec;
};

describe("provisioner HTTP: POST /system/provision", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    h.mirror.accounts.set(ACCOUNT, "Owner.User+Test@Example.COM");
  });
  afterEach(() => h.close());

  it("accepts a new tenant with 202, Location and the upstream fields, then the job succeeds and the row is running", async () => {
    const res = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB, account_id: ACCOUNT, tier: "byok" } });
    expect(res.status).to.equal(202);
    const jobId = res.body.job_id as string;
    expect(res.headers.get("location")).to.equal(`/system/jobs/${jobId}`);
    expect(res.body).to.include({
      customer_id: 1,
      frontend_url: "https://1.mindroom.test",
      api_url: "https://1.api.mindroom.test",
      matrix_url: "https://1.matrix.mindroom.test",
      success: true,
      message: "Provisioning queued",
    });
    expect(res.body.status).to.be.oneOf(["queued", "running"]);
    const job = await settle(h, jobId);
    expect(job.status).to.equal("succeeded");
    expect(job.result).to.deep.equal({
      customer_id: 1,
      frontend_url: "https://1.mindroom.test",
      api_url: "https://1.api.mindroom.test",
      matrix_url: "https://1.matrix.mindroom.test",
      success: true,
      message: "Instance provisioned successfully",
    });
    const row = h.mirror.rows.get("1")!;
    expect(row).to.include({ status: "running", subscription_id: SUB, account_id: ACCOUNT, tier: "byok", stack_name: "instance-1", last_job_id: jobId, last_error: null });
    expect(row).to.include({ instance_url: "https://1.mindroom.test", backend_url: "https://1.api.mindroom.test", matrix_server_url: "https://1.matrix.mindroom.test" });
    expect(h.mirror.statuses("1")).to.deep.equal(["provisioning", "running"]);
    const jobRes = await call(h, "GET", `/system/jobs/${jobId}`);
    expect(jobRes.status).to.equal(200);
    expect(jobRes.body).to.include({ job_id: jobId, kind: "provision", instance_id: "1", status: "succeeded" });
    expect((jobRes.body.progress as { message: string }[]).map((e) => e.message)).to.deep.equal(["updating stack instance-1", "create complete"]);
    expect(jobRes.body).to.not.have.property("error");
    expect(jobRes.body).to.not.have.property("params");
  });

  it("passes upstream values and all ten secrets to the stack; the Secret is a stack resource with the Python-compatible hash (D6)", async () => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, account_id: ACCOUNT, tier: "byok" } });
    expect(res.status).to.equal(200);
    const spec = lastUp(h);
    const v = spec.values;
    expect(v).to.include({ customer: 1, baseDomain: "mindroom.test", accountId: ACCOUNT, supabaseUrl: "", supabaseAnonKey: "" });
    expect(v.instanceSecrets).to.deep.include({ create: true, name: "mindroom-api-keys-1" });
    expect(v.authorizationGlobalUsers).to.deep.equal(["@owner.user+test:1.mindroom.test"]);
    expect(spec.tags).to.deep.equal({ customer: "1", account: ACCOUNT, tier: "byok", desiredState: "running", subscription: SUB });
    const secret = secretOf(h, "1");
    expect(Object.keys(secret).sort()).to.deep.equal([
      "anthropic_key", "credentials_encryption_key", "deepseek_key", "google_key", "matrix_oidc_client_secret",
      "matrix_registration_shared_secret", "openai_key", "openrouter_key", "sandbox_proxy_token", "supabase_service_key",
    ]);
    for (const k of ["openai_key", "anthropic_key", "google_key", "deepseek_key", "openrouter_key"]) expect(secret[k], k).to.equal("");
    expect(secret.credentials_encryption_key).to.equal(deriveInstanceSecret(API_KEY, "instance-credentials", "1"));
    expect(secret.matrix_registration_shared_secret).to.equal(deriveInstanceSecret(API_KEY, "matrix-registration", "1"));
    expect(secret.sandbox_proxy_token).to.match(/^[0-9a-f]{64}$/);
    expect((v.instanceSecrets as { hash: string }).hash).to.equal(rolloutHash(secret));
    expect(h.log.text()).to.not.contain(secret.sandbox_proxy_token).and.not.contain(secret.credentials_encryption_key);
    expect(JSON.stringify(h.provisioner.runner.get((await call(h, "GET", "/system/instances/1")).body.last_job_id as string))).to.not.contain(secret.sandbox_proxy_token);
  });

  it("keeps the sandbox token and rollout hash across re-provisions (Deviation 7) and re-provisions from any state", async () => {
    await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "byok" } });
    const first = { ...secretOf(h, "1") };
    const hash1 = (lastUp(h).values.instanceSecrets as { hash: string }).hash;
    await call(h, "POST", "/system/instances/1/stop");
    const again = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: "1", tier: "byok" } });
    expect(again.status).to.equal(200);
    expect(again.body.customer_id).to.equal("1");
    expect(secretOf(h, "1").sandbox_proxy_token).to.equal(first.sandbox_proxy_token);
    expect((lastUp(h).values.instanceSecrets as { hash: string }).hash).to.equal(hash1);
    const third = await call(h, "POST", "/system/provision", { body: { instance_id: 1 }, headers: { Prefer: "wait=5" } });
    expect(third.status).to.equal(200);
    expect(third.headers.get("preference-applied")).to.equal("wait=5");
    expect(third.body.customer_id).to.equal("1");
  });

  it("re-provision of a Helm-era tenant: no stored key → encryption stays off; the opt-in turns on the derived key; a stored key is never rotated", async () => {
    h.mirror.rows.set("300", { instance_id: 300, status: "running", subscription_id: SUB });
    h.kube.secrets.set("mindroom-api-keys-300", { sandbox_proxy_token: "legacy-token", credentials_encryption_key: "" });
    await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 300 } });
    expect(secretOf(h, "300").credentials_encryption_key).to.equal("");
    expect(secretOf(h, "300").sandbox_proxy_token).to.equal("legacy-token");
    await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 300, enable_credentials_encryption: true } });
    const derived = deriveInstanceSecret(API_KEY, "instance-credentials", "300");
    expect(secretOf(h, "300").credentials_encryption_key).to.equal(derived);
    h.kube.secrets.get("mindroom-api-keys-300")!.credentials_encryption_key = "kept-key";
    await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 300, enable_credentials_encryption: true } });
    expect(secretOf(h, "300").credentials_encryption_key).to.equal("kept-key");
  });

  it("a failing or invalid live Secret read fails the job before any stack update, row stays provisioning", async () => {
    h.mirror.rows.set("301", { instance_id: 301, status: "running", subscription_id: SUB });
    h.kube.failOn.set("readSecret:mindroom-api-keys-301", new Error("Forbidden"));
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 301 } });
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal("Failed to inspect existing Secret value credentials_encryption_key for instance 301: Forbidden");
    const invalid = Object.assign(new Error("Secret mindroom-api-keys-301 has an invalid credentials_encryption_key value"), { name: "InvalidSecretData", key: "credentials_encryption_key" });
    h.kube.failOn.set("readSecret:mindroom-api-keys-301", invalid);
    const res2 = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 301 } });
    expect(res2.body.detail).to.equal("Instance 301 has an invalid credentials_encryption_key Secret value");
    expect(h.stacks.calls.filter((c) => c.op === "up")).to.deep.equal([]);
    expect(h.mirror.rows.get("301")).to.include({ status: "provisioning", last_error: "Instance 301 has an invalid credentials_encryption_key Secret value" });
  });

  it("answers 404 for a re-provision of an unknown id and changes nothing", async () => {
    const res = await call(h, "POST", "/system/provision", { body: { instance_id: "999" } });
    expect(res.status).to.equal(404);
    expect(res.body).to.deep.equal({ detail: "Instance 999 not found" });
    expect(h.stacks.mutations()).to.deep.equal([]);
    expect(h.mirror.writes).to.deep.equal([]);
  });

  it("re-provisions a tenant known only to the mirror (a Helm-era row) and adopts its live storage class", async () => {
    h.mirror.rows.set("456", { instance_id: 456, status: "deprovisioned", subscription_id: SUB });
    h.kube.pvcs.set("mindroom-storage-456", "local-path");
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: 456 } });
    expect(res.status).to.equal(200);
    expect(res.body.customer_id).to.equal("456");
    expect(lastUp(h).values.storageClassName).to.equal("local-path");
    expect(h.mirror.statuses("456")).to.deep.equal(["provisioning", "running"]);
  });

  it("allocates distinct ids above every id seen in stacks, mirror and earlier reservations, without a stack listing per request", async () => {
    await h.close();
    const mirror = new FakeInstanceMirror();
    mirror.rows.set("41", { instance_id: 41, status: "running" }); // a Helm-era tenant only Supabase knows
    const stacks = new FakeTenantStacks();
    stacks.stacks.set("7", { spec: { instanceId: "7", values: {}, tags: { customer: "7", account: "", tier: "free", desiredState: "running" } }, desiredState: "running", resourceCount: 12, lastUpdate: "" });
    h = await startHarness({ mirror, stacks });
    const listsAtBoot = h.stacks.calls.filter((c) => c.op === "list").length;
    const subs = [SUB, "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", "7f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f"];
    const ids = await Promise.all(subs.map(async (sub) => (await call(h, "POST", "/system/provision", { body: { subscription_id: sub } })).body.customer_id));
    expect([...ids].sort()).to.deep.equal([42, 43, 44]);
    expect(h.stacks.calls.filter((c) => c.op === "list").length, "stack ls is read at boot only").to.equal(listsAtBoot);
  });

  it("reads the stacks at the first allocation when the boot listing failed, and refuses to guess while they stay unreadable", async () => {
    await h.close();
    const stacks = new FakeTenantStacks();
    stacks.stacks.set("9", { spec: { instanceId: "9", values: {}, tags: { customer: "9", account: "", tier: "free", desiredState: "running" } }, desiredState: "running", resourceCount: 12, lastUpdate: "" });
    stacks.listError = new Error("backend unreachable");
    h = await startHarness({ stacks });
    const refused = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(refused.status).to.equal(500);
    expect(refused.body.detail).to.equal("Failed to insert instance: cannot list tenant stacks (backend unreachable)");
    expect(h.mirror.writes).to.deep.equal([]);
    stacks.listError = undefined;
    const accepted = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(accepted.status).to.equal(202);
    expect(accepted.body.customer_id).to.equal(10);
  });

  it("never reuses an id whose job record survived, even if the id mark file was lost (it is written without fsync)", async () => {
    const first = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(first.body.customer_id).to.equal(1);
    await settle(h, first.body.job_id as string);
    await h.close({ keepData: true });
    await new Promise((r) => setTimeout(r, 100)); // the mark's write behind lands first, then the file is lost
    rmSync(join(h.dataDir, "instance-ids.json"));
    // Fresh fakes: neither the stacks nor the mirror know tenant 1, only its job record does.
    h = await startHarness({ dataDir: h.dataDir });
    const next = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(next.body.customer_id).to.equal(2);
  });

  it("an uninstall of an id that never existed does not raise the id mark at the next boot (its job record is no allocation)", async () => {
    const gone = await call(h, "DELETE", "/system/instances/2147483647/uninstall");
    expect(gone.status).to.equal(200);
    await h.close({ keepData: true });
    h = await startHarness({ dataDir: h.dataDir });
    h.mirror.accounts.set(ACCOUNT, "Owner.User+Test@Example.COM");
    const next = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(next.status, JSON.stringify(next.body)).to.equal(202);
    expect(next.body.customer_id).to.equal(1);
  });

  it("rejects bad bodies with 422 field errors and no state change", async () => {
    const cases: [unknown, (string | number)[]][] = [
      [undefined, ["body"]],
      [[1, 2], ["body"]],
      [{ tier: "free" }, ["body", "subscription_id"]],
      [{ subscription_id: "not-a-uuid" }, ["body", "subscription_id"]],
      [{ subscription_id: SUB, tier: "gold" }, ["body", "tier"]],
      [{ subscription_id: SUB, tier: 3 }, ["body", "tier"]],
      [{ subscription_id: SUB, surprise: true }, ["body", "surprise"]],
      [{ instance_id: "../etc" }, ["body", "instance_id"]],
      [{ instance_id: "abc" }, ["body", "instance_id"]],
      [{ instance_id: -4 }, ["body", "instance_id"]],
      [{ instance_id: 1.5 }, ["body", "instance_id"]],
      [{ subscription_id: SUB, enable_credentials_encryption: "yes" }, ["body", "enable_credentials_encryption"]],
      [{ subscription_id: SUB, account_id: 12 }, ["body", "account_id"]],
    ];
    for (const [body, loc] of cases) {
      const res = await call(h, "POST", "/system/provision", body === undefined ? {} : { body });
      expect(res.status, JSON.stringify(body)).to.equal(422);
      const detail = res.body.detail as { loc: unknown[]; msg: string; type: string }[];
      expect(detail.map((d) => d.loc), JSON.stringify(body)).to.deep.include(loc);
      for (const d of detail) expect(d.msg).to.be.a("string").and.not.equal("");
    }
    for (const body of [null, [1, 2], "x"]) {
      const res = await call(h, "POST", "/system/provision", { body });
      expect(res.body.detail, JSON.stringify(body)).to.deep.equal([{ loc: ["body"], msg: 'the body must be a JSON object such as {"subscription_id": "<uuid>", "tier": "free"}', type: "object_type" }]);
    }
    const flag = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB, enable_credentials_encryption: 1 } });
    expect((flag.body.detail as { msg: string }[])[0].msg).to.equal("enable_credentials_encryption must be true or false");
    const broken = await call(h, "POST", "/system/provision", { raw: "{", headers: { "Content-Type": "application/json" } });
    expect(broken.status).to.equal(422);
    expect(broken.body.detail).to.deep.equal([{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }]);
    expect(h.stacks.mutations()).to.deep.equal([]);
    expect(h.mirror.writes).to.deep.equal([]);
    expect(h.provisioner.runner.counts()).to.deep.equal({ queued: 0, running: 0 });
  });

  it("reports a failed stack update as the job's error with a short reason, and marks the row error", async () => {
    h.stacks.beforeUp = async () => {
      throw new EngineError("Tenant stack update of instance 1 failed: 2 resources errored (see provisioner logs)");
    };
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ detail: "Tenant stack update of instance 1 failed: 2 resources errored (see provisioner logs)" });
    expect(h.mirror.rows.get("1")).to.include({ status: "error", last_error: "Tenant stack update of instance 1 failed: 2 resources errored (see provisioner logs)" });
  });

  it("a provision retried with the same subscription_id re-provisions its instance instead of allocating a second tenant", async () => {
    h.stacks.beforeUp = async () => {
      throw new EngineError("Tenant stack update of instance 1 failed: boom");
    };
    const failed = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "byok" } });
    expect(failed.status).to.equal(500);
    h.stacks.beforeUp = undefined;
    const retry = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB.toUpperCase(), tier: "byok" } });
    expect(retry.status).to.equal(200);
    expect(retry.body.customer_id).to.equal(1);
    expect([...h.mirror.rows.keys()]).to.deep.equal(["1"]);
    expect(h.mirror.rows.get("1")).to.include({ status: "running", subscription_id: SUB, last_error: null });
    // Concurrent first requests for one new subscription also get one tenant.
    const other = "9f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f";
    const both = await Promise.all([0, 1].map(async () => (await call(h, "POST", "/system/provision", { body: { subscription_id: other } })).body.customer_id));
    expect(both).to.deep.equal([2, 2]);
    // An uninstalled tenant is not revived: the subscription gets a new one.
    await settle(h, (await call(h, "GET", "/system/instances/1")).body.last_job_id as string);
    await call(h, "DELETE", "/system/instances/1/uninstall");
    const fresh = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(fresh.body.customer_id).to.equal(3);
  });

  it("maps ConcurrentUpdate from another process (StackBusy) to 409 and an error row", async () => {
    h.stacks.beforeUp = async (spec) => {
      throw new StackBusy(spec.instanceId);
    };
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(409);
    expect(res.body.detail).to.contain("being changed by another operation");
    expect(h.mirror.rows.get("1")!.status).to.equal("error");
  });

  it("never echoes an unexpected error's text", async () => {
    h.stacks.beforeUp = async () => {
      throw new Error("pulumi: stderr: SECRET-LOOKING-OUTPUT line1\nline2");
    };
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(500);
    expect(JSON.stringify(res.body)).to.not.contain("SECRET-LOOKING-OUTPUT");
    expect(res.body.detail).to.equal("Failed to deploy instance: unexpected error; see provisioner logs");
  });

  it("reports 'getting ready' when the Deployment does not roll out in time, then marks the row running in the background", async () => {
    h.kube.rolloutReady = false;
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(200);
    expect(res.body.message).to.equal("Provisioning started; instance is getting ready");
    expect(h.mirror.rows.get("1")!.status).to.equal("provisioning");
    h.kube.deployments.get("mindroom-1")!.rolledOut = true;
    await new Promise((r) => setTimeout(r, 100));
    expect(h.mirror.rows.get("1")!.status).to.equal("running");
  });

  it("fails a UUID account without an email in the job, leaving the row provisioning (§6.4)", async () => {
    const other = "b1b2c3d4-0000-4000-8000-000000000001";
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, account_id: other } });
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal(`Account ${other} needs an email before provisioning Matrix owner access`);
    expect(h.mirror.rows.get("1")).to.include({ status: "provisioning" });
    expect(h.stacks.mutations()).to.deep.equal([]);
  });

  it("fails when no root secret is configured (§6.5)", async () => {
    await h.close();
    h = await startHarness({ env: { INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: "   " } });
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal("INSTANCE_CREDENTIALS_ENCRYPTION_SECRET or PROVISIONER_API_KEY must be configured");
  });

  it("answers 503 before any write when the engine is unavailable", async () => {
    await h.close();
    h = await startHarness({ deps: { engineUnavailable: "pulumi CLI not found; set PULUMI_CLI_PATH" } });
    const res = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(503);
    expect(h.mirror.writes).to.deep.equal([]);
    expect((await fetch(`${h.url}/readyz`)).status).to.equal(503);
  });

  it("works with the mirror off (no Supabase): non-UUID-free flow provisions, sync answers from the stacks", async () => {
    await h.close();
    h = await startHarness({ mirror: new FakeInstanceMirror(false) });
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(200);
    expect(h.mirror.writes).to.deep.equal([]);
    const view = await call(h, "GET", "/system/instances/1");
    expect(view.body).to.include({ instance_id: "1", status: "running", stack_name: "instance-1" });
    const sync = await call(h, "POST", "/system/sync-instances");
    expect(sync.status).to.equal(200);
    expect(sync.body).to.deep.equal({ total: 1, synced: 0, errors: 0, updates: [], drifted: [] });
  });
});
