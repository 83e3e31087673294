import { expect } from "chai";
import fs from "node:fs";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { durableIo } from "../../../provisioner/atomic-file";
import { JobRunner, type JobContext, type JobHandler } from "../../../provisioner/jobs/runner";
import { JobStore } from "../../../provisioner/jobs/store";
import type { JobRecord } from "../../../provisioner/jobs/types";
import { Failure } from "../../../provisioner/errors";
import { call, gate, settle, startHarness, SUB } from "../http/harness";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));

describe("provisioner jobs: runner", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "jobs-test-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  /** A runner whose handler records start/end order and waits on a per-job gate. */
  function harness(concurrency: number) {
    const events: string[] = [];
    const gates = new Map<string, ReturnType<typeof gate>>();
    const handler: JobHandler = async (ctx: JobContext) => {
      const name = String(ctx.job.params.name);
      events.push(`start ${name}`);
      const g = gate();
      gates.set(name, g);
      await g.promise;
      events.push(`end ${name}`);
      if (ctx.job.params.fail) throw new Failure("conflict", "busy");
      return { name };
    };
    const runner = new JobRunner({ store: new JobStore(dir), handlers: { provision: handler, uninstall: handler }, concurrency, operationTimeoutMs: 60_000, retentionMs: 3_600_000, recover: async () => undefined });
    return { runner, events, gates, openGate: async (name: string) => { while (!gates.has(name)) await tick(); gates.get(name)!.open(); } };
  }

  it("writes progress to the record behind, without blocking the event loop on a slow disk; a status change saved later wins", async () => {
    // A network volume: every fsync takes 300 ms, the synchronous kind blocking its thread for it.
    const wait = new Int32Array(new SharedArrayBuffer(4));
    const fsyncSync = fs.fsyncSync;
    const syncFile = durableIo.syncFile;
    fs.fsyncSync = (fd) => {
      fsyncSync(fd);
      Atomics.wait(wait, 0, 0, 300);
    };
    durableIo.syncFile = async (fd, path) => {
      await syncFile(fd, path);
      await tick(300);
    };
    try {
      const release = gate();
      const handler: JobHandler = async (ctx) => {
        ctx.onProgress({ at: new Date().toISOString(), message: "updating stack" });
        await release.promise;
        return { ok: true };
      };
      const runner = new JobRunner({ store: new JobStore(dir), handlers: { provision: handler }, concurrency: 1, operationTimeoutMs: 60_000, retentionMs: 3_600_000, recover: async () => undefined });
      const job = runner.submit("provision", "1", {});
      const file = join(dir, "jobs", `${job.job_id}.json`);
      const onDisk = () => JSON.parse(readFileSync(file, "utf8")) as JobRecord;
      while (runner.get(job.job_id)!.status !== "running") await tick();
      // Across the flush (at 500 ms), the loop keeps turning: no gap near the fsync's 300 ms.
      let last = performance.now();
      let longest = 0;
      const beat = setInterval(() => {
        const now = performance.now();
        longest = Math.max(longest, now - last);
        last = now;
      }, 10);
      const until = Date.now() + 3000;
      while (onDisk().progress.length === 0 && Date.now() < until) await tick(20);
      clearInterval(beat);
      expect(onDisk().progress.map((p) => p.message)).to.deep.equal(["updating stack"]);
      expect(longest, "longest event-loop gap while the progress was written (ms)").to.be.below(150);
      release.open();
      await runner.wait(job.job_id, 3000);
      await tick(400);
      expect(onDisk().status).to.equal("succeeded");
    } finally {
      fs.fsyncSync = fsyncSync;
      durableIo.syncFile = syncFile;
    }
  });

  it("runs one operation per tenant at a time, in FIFO order", async () => {
    const { runner, events, openGate } = harness(4);
    const a = runner.submit("provision", "7", { name: "a" });
    const b = runner.submit("uninstall", "7", { name: "b" });
    const c = runner.submit("provision", "7", { name: "c" });
    await tick(20);
    expect(events).to.deep.equal(["start a"]);
    expect(runner.get(b.job_id)!.status).to.equal("queued");
    await openGate("a");
    await openGate("b");
    await openGate("c");
    await runner.wait(c.job_id, 1000);
    expect(events).to.deep.equal(["start a", "end a", "start b", "end b", "start c", "end c"]);
    expect(runner.get(a.job_id)!.result).to.deep.equal({ name: "a" });
  });

  it("caps concurrent operations globally while different tenants run in parallel", async () => {
    const { runner, events, openGate } = harness(2);
    runner.submit("provision", "1", { name: "t1" });
    runner.submit("provision", "2", { name: "t2" });
    const third = runner.submit("provision", "3", { name: "t3" });
    await tick(20);
    expect(events).to.deep.equal(["start t1", "start t2"]);
    expect(runner.counts()).to.deep.equal({ queued: 1, running: 2 });
    await openGate("t2");
    await tick(20);
    expect(events).to.include("start t3");
    await openGate("t1");
    await openGate("t3");
    expect((await runner.wait(third.job_id, 1000))!.status).to.equal("succeeded");
  });

  it("release() frees the tenant for its next job while the first keeps running (readiness wait)", async () => {
    const events: string[] = [];
    const g = gate();
    const runner = new JobRunner({
      store: new JobStore(dir),
      concurrency: 1,
      operationTimeoutMs: 60_000,
      retentionMs: 3_600_000,
      recover: async () => undefined,
      handlers: {
        provision: async (ctx) => {
          events.push(`stack ${ctx.job.params.n}`);
          ctx.release({ interim: true });
          await g.promise;
          events.push(`ready ${ctx.job.params.n}`);
          return {};
        },
        uninstall: async () => ({}),
      },
    });
    const first = runner.submit("provision", "5", { n: 1 });
    const second = runner.submit("provision", "5", { n: 2 });
    await tick(20);
    expect(events).to.deep.equal(["stack 1", "stack 2"]);
    expect(runner.get(first.job_id)!.phase).to.equal("after");
    g.open();
    await runner.wait(second.job_id, 1000);
    await runner.wait(first.job_id, 1000);
    expect(runner.get(first.job_id)!.status).to.equal("succeeded");
  });

  it("stores failures as {status_code, detail} and persists every record atomically as JSON", async () => {
    const { runner, openGate } = harness(1);
    const job = runner.submit("provision", "9", { name: "x", fail: true });
    await openGate("x");
    const done = await runner.wait(job.job_id, 1000);
    expect(done!.status).to.equal("failed");
    expect(done!.error).to.deep.equal({ status_code: 409, detail: "busy" });
    expect(done).to.not.have.property("result");
    const files = readdirSync(join(dir, "jobs"));
    expect(files).to.deep.equal([`${job.job_id}.json`]);
    expect(JSON.parse(readFileSync(join(dir, "jobs", files[0]), "utf8")).status).to.equal("failed");
  });

  it("survives a restart: queued jobs resume, the running one fails with a reason, and its tenant is recovered first", async () => {
    const first = harness(1);
    const running = first.runner.submit("provision", "3", { name: "crashed" });
    const queuedSame = first.runner.submit("uninstall", "3", { name: "after-crash" });
    const queuedOther = first.runner.submit("provision", "4", { name: "other" });
    await tick(20);
    expect(first.runner.get(running.job_id)!.status).to.equal("running");
    // "kill" the process: abandon the first runner without letting its jobs finish.
    await first.runner.stop(0);

    const recovered: string[] = [];
    const interrupted: JobRecord[] = [];
    const runner2 = new JobRunner({
      store: new JobStore(dir),
      handlers: { provision: async (ctx) => ({ ran: ctx.job.params.name }), uninstall: async (ctx) => ({ ran: ctx.job.params.name }) },
      concurrency: 1,
      operationTimeoutMs: 60_000,
      retentionMs: 3_600_000,
      recover: async (id) => {
        recovered.push(id);
      },
      onInterrupted: (job) => interrupted.push(job),
    });
    expect(runner2.boot()).to.deep.equal({ resumed: 2, interrupted: 1 });
    const crashed = runner2.get(running.job_id)!;
    expect(crashed.status).to.equal("failed");
    expect(crashed.error!.detail).to.match(/^Interrupted by a provisioner restart/);
    expect(interrupted.map((j) => j.job_id)).to.deep.equal([running.job_id]);
    expect((await runner2.wait(queuedSame.job_id, 1000))!.result).to.deep.equal({ ran: "after-crash" });
    expect((await runner2.wait(queuedOther.job_id, 1000))!.result).to.deep.equal({ ran: "other" });
    expect(recovered).to.deep.equal(["3"]);
    expect(runner2.get(running.job_id)!.needs_recovery).to.equal(false);
  });

  it("reports the interim result for a job that died during its after-phase (stack work done)", async () => {
    const store = new JobStore(dir);
    store.save({
      job_id: "11111111-1111-1111-1111-111111111111", kind: "provision", instance_id: "8", status: "running",
      created_at: new Date().toISOString(), started_at: new Date().toISOString(), finished_at: null, progress: [], params: {},
      phase: "after", result_if_interrupted: { message: "Provisioning started; instance is getting ready" },
    });
    const recovered: string[] = [];
    const runner = new JobRunner({ store: new JobStore(dir), handlers: { provision: async () => ({}), uninstall: async () => ({}) }, concurrency: 1, operationTimeoutMs: 1000, retentionMs: 3_600_000, recover: async (id) => void recovered.push(id) });
    runner.boot();
    const job = runner.get("11111111-1111-1111-1111-111111111111")!;
    expect(job.status).to.equal("succeeded");
    expect(job.result).to.deep.equal({ message: "Provisioning started; instance is getting ready" });
    expect(recovered).to.deep.equal([]);
  });

  it("drops finished jobs after the retention window", async () => {
    const store = new JobStore(dir);
    const old = new Date(Date.now() - 25 * 3_600_000).toISOString();
    store.save({ job_id: "22222222-2222-2222-2222-222222222222", kind: "provision", instance_id: "1", status: "succeeded", created_at: old, started_at: old, finished_at: old, progress: [], params: {} });
    store.save({ job_id: "33333333-3333-3333-3333-333333333333", kind: "provision", instance_id: "1", status: "succeeded", created_at: old, started_at: old, finished_at: new Date().toISOString(), progress: [], params: {} });
    const runner = new JobRunner({ store: new JobStore(dir), handlers: { provision: async () => ({}), uninstall: async () => ({}) }, concurrency: 1, operationTimeoutMs: 1000, retentionMs: 24 * 3_600_000, recover: async () => undefined });
    expect(runner.get("22222222-2222-2222-2222-222222222222")).to.equal(undefined);
    expect(runner.get("33333333-3333-3333-3333-333333333333")).to.not.equal(undefined);
    expect(readdirSync(join(dir, "jobs"))).to.have.length(1);
  });

  it("keeps at most 100 progress events per job", async () => {
    const runner = new JobRunner({
      store: new JobStore(dir),
      handlers: {
        provision: async (ctx) => {
          for (let i = 0; i < 150; i++) ctx.onProgress({ at: new Date().toISOString(), message: `step ${i}` });
          return {};
        },
        uninstall: async () => ({}),
      },
      concurrency: 1, operationTimeoutMs: 1000, retentionMs: 3_600_000, recover: async () => undefined,
    });
    const job = runner.submit("provision", "1", {});
    const done = (await runner.wait(job.job_id, 1000))!;
    expect(done.progress).to.have.length(100);
    expect(done.progress[99].message).to.equal("step 149");
  });

  it("end to end over HTTP: a provisioner killed mid-job resumes from the same data dir", async () => {
    const h1 = await startHarness();
    const g = gate();
    h1.stacks.beforeUp = () => g.promise; // first job hangs inside `up`
    const a = await call(h1, "POST", "/system/provision", { body: { subscription_id: SUB } });
    const b = await call(h1, "POST", "/system/provision", { body: { instance_id: "1" } });
    expect(b.status).to.equal(202);
    await h1.close({ keepData: true }); // runner stopped; job a "running", job b queued for tenant 1
    const h2 = await startHarness({ dataDir: h1.dataDir, mirror: h1.mirror });
    try {
      const jobA = await call(h2, "GET", `/system/jobs/${a.body.job_id}`);
      expect(jobA.body.status).to.equal("failed");
      expect((jobA.body.error as { status_code: number }).status_code).to.equal(500);
      const jobB = await settle(h2, b.body.job_id as string);
      expect(jobB.status).to.equal("succeeded");
      // The boot releases the interrupted stack before listing; the re-provision recovers it, reads
      // the tenant's recorded settings (its stack's outputs), then updates.
      expect(h2.stacks.calls.map((c) => c.op).filter((op) => op !== "list")).to.deep.equal(["release", "recover", "outputs", "up"]);
      expect(h2.stacks.calls.findIndex((c) => c.op === "release"), "release before the boot listing").to.be.below(h2.stacks.calls.findIndex((c) => c.op === "list"));
      // Another subscription (the same one would re-provision tenant 1: retries are idempotent).
      const next = await call(h2, "POST", "/system/provision", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" } });
      expect(next.body.customer_id).to.equal(2); // the reservation survived the restart
    } finally {
      await h2.close();
    }
  });
});
