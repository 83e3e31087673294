import { expect } from "chai";
import { EngineError } from "../../../provisioner/ports";
import { call, gate, settle, startHarness, type Harness } from "./harness";

const subscription = (n: number) => `5f0c7a8e-1d2b-4c3d-8e9f-${String(n).padStart(12, "0")}`;

interface Summary {
  total: number;
  moved: number;
  already: number;
  failed: number;
  skipped: number;
  stopped_early: boolean;
  instances: { instance_id: string; status: string; job_id?: string; error?: string }[];
}

describe("provisioner HTTP: POST /system/rekey (the tenant-stacks passphrase move, docs/rekey.md)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { PROVISIONER_CONCURRENCY: "2" } });
  });
  afterEach(() => h.close());

  const provision = async (n: number) => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription(n), tier: "free" } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return String(res.body.customer_id);
  };
  const rekey = async (body?: unknown) => {
    const res = await call(h, "POST", "/system/rekey", body === undefined ? {} : { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.body).to.deep.include({ kind: "rekey" });
    expect(res.headers.get("location")).to.equal(`/system/jobs/${res.body.job_id}`);
    const job = await settle(h, res.body.job_id as string, 10_000);
    return { jobId: res.body.job_id as string, job, result: job.result as Summary };
  };
  const moves = () => h.stacks.calls.filter((c) => c.op === "changePassphrase").map((c) => (c as { instanceId: string }).instanceId);

  it("moves every tenant stack still on the previous passphrase and skips the moved ones; one child job per tenant, in that tenant's queue", async () => {
    const ids = [await provision(1), await provision(2), await provision(3)];
    h.stacks.onPreviousPassphrase.add(ids[0]).add(ids[2]);
    const { jobId, job, result } = await rekey();
    expect(job.status).to.equal("succeeded");
    expect(result).to.deep.include({ total: 3, moved: 2, already: 1, failed: 0, skipped: 0, stopped_early: false });
    expect(result.instances.map((o) => [o.instance_id, o.status])).to.deep.equal([[ids[0], "moved"], [ids[1], "already"], [ids[2], "moved"]]);
    expect(moves()).to.have.members(ids);
    const children = (await call(h, "GET", "/system/jobs?kind=rekey-stack")).body.jobs as { instance_id: string; status: string; result: { status: string } }[];
    expect(children.map((c) => c.instance_id)).to.have.members(ids);
    for (const child of children) expect(child.status).to.equal("succeeded");
    const view = (await call(h, "GET", `/system/jobs/${jobId}`)).body as { kind: string; progress: { message: string }[] };
    expect(view.kind).to.equal("rekey");
    const messages = view.progress.map((p) => p.message);
    expect(messages[0]).to.equal("moving 3 tenant stack(s) to the provisioner's passphrase");
    expect(messages).to.include(`3/3 instance ${ids[2]}: moved`);
    expect(messages[messages.length - 1]).to.equal("finished: 2 moved, 1 already on the passphrase, 0 failed, 0 skipped");
  });

  it("is idempotent: a retry while it runs answers the same job; a later run finds every stack already moved and changes nothing", async () => {
    const ids = [await provision(10), await provision(11)];
    h.stacks.onPreviousPassphrase.add(ids[0]).add(ids[1]);
    const held = gate();
    h.stacks.beforeChangePassphrase = () => held.promise;
    const first = await call(h, "POST", "/system/rekey");
    const again = await call(h, "POST", "/system/rekey", { body: {} });
    expect(again.status).to.equal(202);
    expect(again.body.job_id).to.equal(first.body.job_id);
    held.open();
    const done = await settle(h, first.body.job_id as string, 10_000);
    expect((done.result as Summary).moved).to.equal(2);
    h.stacks.beforeChangePassphrase = undefined;
    const { result } = await rekey();
    expect(result).to.deep.include({ total: 2, moved: 0, already: 2, failed: 0 });
    expect((await call(h, "GET", "/system/jobs?kind=rekey")).body.jobs).to.have.length(2);
  });

  it("a tenant's move waits behind that tenant's running operation (never beside it)", async () => {
    const id = await provision(20);
    h.stacks.onPreviousPassphrase.add(id);
    const held = gate();
    h.stacks.beforeUp = () => held.promise;
    const up = await call(h, "POST", "/system/provision", { body: { instance_id: Number(id) } });
    expect(up.status).to.equal(202);
    for (let i = 0; i < 200 && h.provisioner.runner.get(up.body.job_id as string)?.status !== "running"; i++) await new Promise((r) => setTimeout(r, 10));
    const res = await call(h, "POST", "/system/rekey");
    await new Promise((r) => setTimeout(r, 200));
    expect(moves(), "not while the up holds the tenant").to.deep.equal([]);
    held.open();
    const job = await settle(h, res.body.job_id as string, 10_000);
    expect((job.result as Summary).moved).to.equal(1);
    const order = h.stacks.calls.filter((c) => c.instanceId === id && (c.op === "up" || c.op === "changePassphrase")).map((c) => c.op);
    expect(order.slice(-2)).to.deep.equal(["up", "changePassphrase"]);
  });

  it("stops at the first failure by default (a wrong previous passphrase fails them all alike); max_failures lets the rest go on", async () => {
    const ids = [await provision(30), await provision(31), await provision(32)];
    for (const id of ids) h.stacks.onPreviousPassphrase.add(id);
    h.stacks.beforeChangePassphrase = async (id) => {
      if (id === ids[0]) throw new EngineError(`Instance ${id}: the stack opens with neither the provisioner's passphrase nor the previous one (PULUMI_PREVIOUS_CONFIG_PASSPHRASE); set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE to the passphrase the stack was encrypted with`);
    };
    const stopped = await rekey({ concurrency: 1 });
    expect(stopped.result).to.deep.include({ total: 3, moved: 0, failed: 1, skipped: 2, stopped_early: true });
    expect(stopped.result.instances[0].error).to.match(/opens with neither the provisioner's passphrase nor the previous one/);
    const onward = await rekey({ concurrency: 1, max_failures: 5 });
    expect(onward.result).to.deep.include({ total: 3, moved: 2, failed: 1, skipped: 0, stopped_early: false });
  });

  it("an unexpected error is reported without its text (redacted: see the provisioner logs); a stack gone meanwhile is skipped", async () => {
    const ids = [await provision(40), await provision(41)];
    h.stacks.beforeChangePassphrase = async (id) => {
      if (id === ids[0]) throw new Error("boom: passphrase=hunter2-super-secret-value");
    };
    await call(h, "DELETE", `/system/instances/${ids[1]}/uninstall`);
    const { result } = await rekey({ instance_ids: ids, max_failures: 5 });
    expect(result.instances).to.have.length(2);
    expect(result.instances[0]).to.deep.include({ status: "failed", error: `Rekey of instance ${ids[0]} failed unexpectedly; see provisioner logs` });
    expect(result.instances[1]).to.deep.include({ status: "skipped" });
    expect(result.instances[1].error).to.match(/has no stack/);
    expect(JSON.stringify(result)).not.to.include("hunter2");
  });

  it("instance_ids narrows the run; Prefer: wait answers the summary with 200", async () => {
    const ids = [await provision(50), await provision(51)];
    h.stacks.onPreviousPassphrase.add(ids[0]).add(ids[1]);
    const res = await call(h, "POST", "/system/rekey", { body: { instance_ids: [ids[1]] }, headers: { Prefer: "wait=10" } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    expect(res.body).to.deep.include({ total: 1, moved: 1 });
    expect(moves()).to.deep.equal([ids[1]]);
  });

  it("validates the body and the bearer; 503 without the engine or with a KMS secrets provider; nothing is queued then", async () => {
    for (const [body, text] of [
      [{ instance_ids: ["abc"] }, "instance_id must be a positive integer"],
      [{ all: true }, "extra_forbidden"],
      [{ concurrency: 0 }, "concurrency"],
      [[1], "the body must be a JSON object"],
    ] as const) {
      const res = await call(h, "POST", "/system/rekey", { body });
      expect(res.status, JSON.stringify(body)).to.equal(422);
      expect(JSON.stringify(res.body), JSON.stringify(body)).to.include(text);
    }
    expect((await call(h, "POST", "/system/rekey", { headers: { Authorization: "Bearer wrong" } })).status).to.equal(401);
    expect((await call(h, "GET", "/system/jobs?kind=rekey")).body.jobs).to.deep.equal([]);
    await h.close();
    h = await startHarness({ deps: { engineUnavailable: "Pulumi CLI not found" } });
    const off = await call(h, "POST", "/system/rekey");
    expect(off.status).to.equal(503);
    expect(off.body.detail).to.equal("Rekey is not available in this environment: Pulumi CLI not found");
    await h.close();
    h = await startHarness({ env: { PULUMI_SECRETS_PROVIDER: "awskms://alias/tenants" } });
    const kms = await call(h, "POST", "/system/rekey");
    expect(kms.status).to.equal(503);
    expect(kms.body.detail).to.match(/KMS secrets provider/);
  });

  it("resumes after a restart: waits for the child it started and moves the rest", async () => {
    const ids = [await provision(60), await provision(61), await provision(62)];
    for (const id of ids) h.stacks.onPreviousPassphrase.add(id);
    const held = gate();
    h.stacks.beforeChangePassphrase = () => held.promise;
    const res = await call(h, "POST", "/system/rekey", { body: { concurrency: 1 } });
    const jobId = res.body.job_id as string;
    for (let i = 0; i < 200 && !(h.provisioner.runner.get(jobId)?.state as { children?: object } | undefined)?.children?.[ids[0] as never]; i++) await new Promise((r) => setTimeout(r, 10));
    await h.close({ keepData: true }); // the first child is mid-move, the rekey is running
    held.open();
    h = await startHarness({ dataDir: h.dataDir, mirror: h.mirror, stacks: h.stacks, kube: h.kube, env: { PROVISIONER_CONCURRENCY: "2" } });
    h.stacks.beforeChangePassphrase = undefined;
    const job = await settle(h, jobId, 10_000);
    expect(job.status).to.equal("succeeded");
    const result = job.result as Summary;
    expect(result.total).to.equal(3);
    expect(result.failed).to.equal(0);
    expect(result.moved + result.already).to.equal(3);
    expect(h.stacks.onPreviousPassphrase.size).to.equal(0);
    expect((job.progress as { message: string }[]).some((p) => p.message.startsWith("resumed: 1 started before the restart, 2 to go"))).to.equal(true);
  });
});
