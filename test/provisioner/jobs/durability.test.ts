/**
 * Failure modes an operator meets in production: damaged job files at boot, the retention sweep,
 * an adapter that never settles, and a handler that throws synchronously.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { JobRunner, type JobHandler, type JobRunnerOptions } from "../../../provisioner/jobs/runner";
import { JobStore } from "../../../provisioner/jobs/store";
import type { JobRecord } from "../../../provisioner/jobs/types";
import { Failure } from "../../../provisioner/errors";
import { gate, LogRecorder } from "../http/harness";

const tick = (ms = 5) => new Promise((r) => setTimeout(r, ms));
const GOOD = "44444444-4444-4444-4444-444444444444";

function record(over: Partial<JobRecord>): JobRecord {
  const at = new Date().toISOString();
  return { job_id: GOOD, kind: "provision", instance_id: "1", status: "queued", created_at: at, started_at: null, finished_at: null, progress: [], params: {}, ...over };
}

describe("provisioner jobs: durability and bounded operations", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "jobs-durability-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const runner = (over: Partial<JobRunnerOptions> & { handler?: JobHandler }) =>
    new JobRunner({
      store: new JobStore(dir),
      handlers: { provision: over.handler ?? (async () => ({})), uninstall: over.handler ?? (async () => ({})) },
      concurrency: 1,
      operationTimeoutMs: 60_000,
      retentionMs: 3_600_000,
      recover: async () => undefined,
      ...over,
    });

  it("boots past truncated, empty and malformed job files: each is reported and set aside as .corrupt, the good jobs resume", async () => {
    const jobs = join(dir, "jobs");
    mkdirSync(jobs, { recursive: true });
    new JobStore(dir).save(record({ params: { n: 1 } }));
    writeFileSync(join(jobs, "55555555-5555-5555-5555-555555555555.json"), '{"job_id":"55555555-5555-5555-5555-555555555555","kind":"prov');
    writeFileSync(join(jobs, "66666666-6666-6666-6666-666666666666.json"), "");
    writeFileSync(join(jobs, "77777777-7777-7777-7777-777777777777.json"), '{"job_id":"77777777-7777-7777-7777-777777777777","status":"running"}');
    const log = new LogRecorder();
    const ran: unknown[] = [];
    const r = new JobRunner({
      store: new JobStore(dir, log),
      handlers: { provision: async (ctx) => void ran.push(ctx.job.params.n), uninstall: async () => ({}) },
      concurrency: 1,
      operationTimeoutMs: 60_000,
      retentionMs: 3_600_000,
      recover: async () => undefined,
    });
    expect(r.boot()).to.deep.equal({ resumed: 1, interrupted: 0 });
    expect((await r.wait(GOOD, 1000))!.status).to.equal("succeeded");
    expect(ran).to.deep.equal([1]);
    expect(readdirSync(jobs).sort()).to.deep.equal([
      `${GOOD}.json`,
      "55555555-5555-5555-5555-555555555555.json.corrupt",
      "66666666-6666-6666-6666-666666666666.json.corrupt",
      "77777777-7777-7777-7777-777777777777.json.corrupt",
    ]);
    const errors = log.lines.filter((l) => l.level === "error");
    expect(errors).to.have.length(3);
    expect(errors[0].msg).to.match(/unreadable job record set aside/);
    expect(JSON.stringify(errors[0].obj)).to.include("55555555-5555-5555-5555-555555555555.json.corrupt");
  });

  it("the retention sweep never deletes a queued or running job, nor the record that says a stack needs recovery", async () => {
    const old = new Date(Date.now() - 48 * 3_600_000).toISOString();
    const store = new JobStore(dir);
    store.save(record({ job_id: "88888888-8888-8888-8888-888888888888", status: "queued", created_at: old }));
    store.save(record({ job_id: "99999999-9999-9999-9999-999999999999", instance_id: "2", status: "running", created_at: old, started_at: old, phase: "stack" }));
    // Interrupted two days ago; tenant 3 has had no operation since, so its stale lock is still there.
    store.save(record({ job_id: "aaaaaaaa-aaaa-aaaa-aaaa-aaaaaaaaaaaa", instance_id: "3", status: "failed", created_at: old, started_at: old, finished_at: old, needs_recovery: true, error: { status_code: 500, detail: "Interrupted" } }));
    const recovered: string[] = [];
    const r = runner({ retentionMs: 24 * 3_600_000, recover: async (id) => void recovered.push(id) });
    for (const id of ["88888888-8888-8888-8888-888888888888", "99999999-9999-9999-9999-999999999999"]) expect(r.get(id), id).to.not.equal(undefined);
    r.boot();
    const next = r.submit("provision", "3", {});
    expect((await r.wait(next.job_id, 1000))!.status).to.equal("succeeded");
    expect(recovered).to.include("3");
  });

  it("an operation that ignores its abort and never settles fails after the timeout plus a grace; other tenants go on, its own tenant waits until it stops", async () => {
    const hung = gate();
    const started: string[] = [];
    const recovered: string[] = [];
    const log = new LogRecorder();
    const r = runner({
      operationTimeoutMs: 50,
      abortGraceMs: 50,
      log,
      recover: async (id) => void recovered.push(id),
      handler: async (ctx) => {
        started.push(String(ctx.job.params.name));
        if (ctx.job.params.name === "hangs") await hung.promise; // ignores ctx.signal
        return { ok: ctx.job.params.name };
      },
    });
    const stuck = r.submit("provision", "1", { name: "hangs" });
    const sameTenant = r.submit("uninstall", "1", { name: "next-of-1" });
    const other = r.submit("provision", "2", { name: "other" });
    const failed = (await r.wait(stuck.job_id, 2000))!;
    expect(failed.status).to.equal("failed");
    expect(failed.error!.status_code).to.equal(500);
    expect(failed.error!.detail).to.match(/did not stop within .* of its time limit/);
    expect(failed.error!.detail.split("\n")).to.have.length(1);
    expect(failed.needs_recovery, "the next boot recovers the stack").to.equal(true);
    expect((await r.wait(other.job_id, 1000))!.status, "the global slot was freed").to.equal("succeeded");
    await tick(50);
    expect(r.get(sameTenant.job_id)!.status, "never two operations on one stack").to.equal("queued");
    hung.open();
    expect((await r.wait(sameTenant.job_id, 1000))!.status).to.equal("succeeded");
    expect(r.get(stuck.job_id)!.status, "a late outcome does not rewrite the record").to.equal("failed");
    expect(recovered, "the abandoned CLI is gone now: clear its lock first").to.deep.equal(["1"]);
    expect(started).to.deep.equal(["hangs", "other", "next-of-1"]);
  });

  it("a handler that throws synchronously fails its job with a reason instead of crashing or sticking in running", async () => {
    const r = runner({
      handler: ((ctx) => {
        if (ctx) throw new Error("boom");
        return Promise.resolve({});
      }) as JobHandler,
    });
    const job = r.submit("provision", "1", {});
    const done = (await r.wait(job.job_id, 1000))!;
    expect(done.status).to.equal("failed");
    expect(done.error).to.deep.equal({ status_code: 500, detail: "Job provision failed unexpectedly; see provisioner logs" });
    expect(existsSync(join(dir, "jobs", `${job.job_id}.json`))).to.equal(true);
  });

  it("SIGTERM during an operation: the abort comes early enough for the operation to stop within the grace, so its record is settled before exit", async () => {
    const r = runner({
      handler: async (ctx) => {
        // Like the CLI on SIGINT: finishes its in-flight step, then exits.
        await new Promise((resolve) => ctx.signal.addEventListener("abort", () => setTimeout(resolve, 100), { once: true }));
        throw new Failure("failed", "Tenant stack update of instance 1 was aborted (timeout or shutdown); retry the request");
      },
    });
    const job = r.submit("provision", "1", {});
    while (r.get(job.job_id)!.status !== "running") await tick();
    await r.stop(400);
    const onDisk = new JobStore(dir).get(job.job_id)!;
    expect(onDisk.status).to.equal("failed");
    expect(onDisk.error!.detail).to.match(/aborted \(timeout or shutdown\); retry/);
  });

  it("a burst of 40 jobs over 8 tenants never exceeds the global cap nor runs two operations of one tenant, and runs each tenant's jobs in order", async () => {
    let active = 0;
    let peak = 0;
    const busy = new Set<string>();
    const order = new Map<string, number[]>();
    const r = runner({
      concurrency: 3,
      handler: async (ctx) => {
        const tenant = ctx.job.instance_id;
        expect(busy.has(tenant), `tenant ${tenant} twice`).to.equal(false);
        busy.add(tenant);
        peak = Math.max(peak, ++active);
        order.set(tenant, [...(order.get(tenant) ?? []), Number(ctx.job.params.n)]);
        await tick(1 + (Number(ctx.job.params.n) % 4) * 3);
        active--;
        busy.delete(tenant);
        ctx.release();
        return {};
      },
    });
    const jobs = Array.from({ length: 40 }, (_, n) => r.submit(n % 2 ? "provision" : "uninstall", String(1 + (n % 8)), { n }));
    for (const job of jobs) expect((await r.wait(job.job_id, 5000))!.status).to.equal("succeeded");
    expect(peak).to.equal(3);
    for (const [tenant, ns] of order) expect(ns, tenant).to.deep.equal([...ns].sort((a, b) => a - b));
  });
});
