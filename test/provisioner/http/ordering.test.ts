/**
 * Requests for one instance take effect in the order they arrived, and a job that finished its
 * stack work never overwrites what a later job of the same instance recorded.
 */
import { expect } from "chai";
import type { InstanceRow } from "../../../provisioner/ports";
import { call, gate, settle, startHarness, SUB, type Harness } from "./harness";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("provisioner HTTP: per-instance ordering", function () {
  this.timeout(10_000);
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it("a re-provision still being accepted when an uninstall of the same id arrives runs first; the uninstall wins", async () => {
    expect((await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } })).status).to.equal(200);
    // Hold the re-provision inside its acceptance (the row update before the 202).
    const held = gate();
    let reached = false;
    const write = h.mirror.write.bind(h.mirror);
    h.mirror.write = async (row: InstanceRow) => {
      if (row.status === "provisioning" && !reached) {
        reached = true;
        await held.promise;
      }
      return write(row);
    };
    const provision = call(h, "POST", "/system/provision", { body: { instance_id: 1 } });
    while (!reached) await tick();
    const uninstall = call(h, "DELETE", "/system/instances/1/uninstall", { headers: { Prefer: "wait=0" } });
    await tick(50);
    held.open();
    const [p, u] = await Promise.all([provision, uninstall]);
    expect([p.status, u.status]).to.deep.equal([202, 202]);
    await settle(h, p.body.job_id as string);
    await settle(h, u.body.job_id as string);
    expect(h.stacks.mutations().map((c) => c.op)).to.deep.equal(["up", "up", "destroy"]);
    expect(h.provisioner.registry.get("1")!.status).to.equal("deprovisioned");
    expect(h.stacks.stacks.get("1")!.resourceCount).to.equal(0);
  });

  it("a provision still waiting for readiness never overwrites the status of the uninstall that ran after its stack work", async () => {
    h.kube.rolloutReady = false;
    const p = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    const jobId = p.body.job_id as string;
    while (h.provisioner.runner.get(jobId)!.phase !== "after") await tick();
    const u = await call(h, "DELETE", "/system/instances/1/uninstall");
    expect(u.status).to.equal(200);
    expect(h.mirror.rows.get("1")!.status).to.equal("deprovisioned");
    expect((await settle(h, jobId)).status).to.equal("succeeded");
    await tick(1300); // the background readiness wait (1 s in the harness) ends too
    expect(h.mirror.rows.get("1")!.status).to.equal("deprovisioned");
    expect(h.provisioner.registry.get("1")!.status).to.equal("deprovisioned");
    expect(h.mirror.statuses("1").at(-1)).to.equal("deprovisioned");
  });
});

describe("provisioner HTTP: waiting clients", function () {
  this.timeout(10_000);
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { PROVISIONER_CONCURRENCY: "1" } });
  });
  afterEach(() => h.close());

  const waiters = (jobId: string) => (h.provisioner.runner as unknown as { events: import("node:events").EventEmitter }).events.listenerCount(jobId);

  it("Prefer: wait on a job queued behind another answers 202 when the wait ends, then 200 once both ran", async () => {
    const held = gate();
    h.stacks.beforeUp = () => held.promise;
    const first = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    const second = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB }, headers: { Prefer: "wait=1" } });
    expect(second.status).to.equal(202);
    expect(second.body.status).to.equal("queued");
    expect(second.headers.get("preference-applied")).to.equal("wait=1");
    const third = call(h, "POST", "/system/provision", { body: { instance_id: second.body.customer_id }, headers: { Prefer: "wait=5" } });
    await tick(50);
    held.open();
    expect((await third).status).to.equal(200);
    expect((await settle(h, first.body.job_id as string)).status).to.equal("succeeded");
  });

  it("a client that disconnects while waiting leaves no waiter behind", async () => {
    const held = gate();
    h.stacks.beforeUp = () => held.promise;
    const aborter = new AbortController();
    const pending = fetch(`${h.url}/system/provision`, {
      method: "POST",
      headers: { Authorization: "Bearer test-key", "Content-Type": "application/json", Prefer: "wait=60", "X-Real-IP": "10.99.0.1" },
      body: JSON.stringify({ subscription_id: SUB }),
      signal: aborter.signal,
    }).catch((e: unknown) => e);
    let jobId: string | undefined;
    while (!(jobId = h.provisioner.runner.get(h.provisioner.registry.get("1")?.last_job_id ?? "")?.job_id)) await tick();
    while (waiters(jobId) === 0) await tick();
    aborter.abort();
    await pending;
    for (let i = 0; i < 100 && waiters(jobId) > 0; i++) await tick(10);
    expect(waiters(jobId)).to.equal(0);
    held.open();
    expect((await settle(h, jobId)).status).to.equal("succeeded");
  });
});
