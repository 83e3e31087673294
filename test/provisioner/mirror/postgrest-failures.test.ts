/**
 * What a real Supabase answers that a happy-path fake does not: refusals that are about the
 * deployment (key, schema not migrated, read-only mode) and must wait, refusals that are about one
 * row and must not take the instance's other writes with them, the max-rows cap on reads, and the
 * outbox's own limits (torn files, growth, backoff bounds).
 */
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createInstanceMirror, retryDelay, type SupabaseMirror } from "../../../provisioner/mirror";
import { FakePostgrest } from "./fake-postgrest";

const KEY = "service-role-key-for-tests";
const SUB = "5b0c8f0e-6f8e-4c1b-9d55-2f3b6f0a9a11";

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("provisioner/mirror: refusals a real Supabase gives", function () {
  this.timeout(20_000);
  let dataDir: string;
  let supabase: FakePostgrest;
  let log: ReturnType<typeof capture>;
  let mirror: SupabaseMirror | undefined;
  const outbox = () => join(dataDir, "mirror-outbox");
  const rejected = () => (existsSync(join(outbox(), "rejected.jsonl")) ? readFileSync(join(outbox(), "rejected.jsonl"), "utf8") : "");
  const make = (retryBaseMs = 20, retryMaxMs = 60) =>
    (mirror = createInstanceMirror({ supabaseUrl: supabase.url, serviceKey: KEY, dataDir, logger: log.logger, retryBaseMs, retryMaxMs, requestTimeoutMs: 2000 }) as SupabaseMirror);

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mirror-refusals-"));
    supabase = new FakePostgrest();
    await supabase.start();
    log = capture();
  });
  afterEach(async () => {
    mirror?.stop();
    mirror = undefined;
    await supabase.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("a database without the project columns (PGRST204) keeps writes queued until the migration adds them, then delivers them", async () => {
    supabase.rows.set("3", { instance_id: 3, subscription_id: SUB, status: "provisioning", subdomain: "3" });
    for (const c of ["stack_name", "last_job_id", "last_error"]) supabase.columns.delete(c);
    const m = make();
    await m.write({ instance_id: 3, status: "running", stack_name: "production-3", last_job_id: "job-1", last_error: null });
    await sleep(200);
    expect(rejected()).to.equal("");
    expect(m.pending()).to.equal(1);
    expect(log.text()).to.include("PGRST204");
    for (const c of ["stack_name", "last_job_id", "last_error"]) supabase.columns.add(c);
    await m.drained();
    expect(supabase.rows.get("3")).to.deep.include({ status: "running", stack_name: "production-3" });
  });

  it("a wrong service key (401 from the gateway) keeps writes queued, never rejected, and says why", async () => {
    supabase.serviceKey = "the-right-key";
    const m = make();
    await m.write({ instance_id: 1, subscription_id: SUB, status: "provisioning" });
    await sleep(200);
    expect(m.pending()).to.equal(1);
    expect(rejected()).to.equal("");
    expect(log.text()).to.include("HTTP 401: Invalid API key");
    expect(log.text()).not.to.include(KEY);
  });

  it("Supabase in read-only mode (disk full: 25006 → 405) keeps writes queued", async () => {
    supabase.rows.set("2", { instance_id: 2, subscription_id: SUB, status: "running", subdomain: "2" });
    const m = make();
    supabase.failWith = 405;
    await m.write({ instance_id: 2, status: "stopped" });
    await sleep(150);
    expect(rejected()).to.equal("");
    supabase.failWith = undefined;
    await m.drained();
    expect(supabase.rows.get("2")!.status).to.equal("stopped");
  });

  it("one invalid write among an instance's queued writes is rejected alone: the others still land, in order", async () => {
    supabase.rows.set("6", { instance_id: 6, subscription_id: SUB, status: "provisioning", subdomain: "6" });
    supabase.failWith = 503;
    const m = make();
    await m.write({ instance_id: 6, status: "running", frontend_url: "https://6.example.test" });
    // OpenRouter answered a fractional limit: the INTEGER column refuses it (22P02).
    await m.write({ instance_id: 6, openrouter_key_hash: "h", openrouter_key_limit_usd: 15.5 });
    await m.write({ instance_id: 6, status: "stopped", last_job_id: "job-9" });
    supabase.failWith = undefined;
    await m.drained();
    expect(supabase.rows.get("6")).to.deep.include({ status: "stopped", frontend_url: "https://6.example.test", last_job_id: "job-9" });
    expect(supabase.rows.get("6")!.openrouter_key_hash).to.equal(undefined);
    const lines = rejected().trim().split("\n").map((l) => JSON.parse(l) as { seqs: number[]; reason: string });
    expect(lines).to.have.length(1);
    expect(lines[0].seqs).to.deep.equal([2]);
    expect(lines[0].reason).to.include('invalid input syntax for type integer: "15.5"');
  });

  it("a unique violation (409) and a CHECK violation (400) are set aside with PostgREST's code", async () => {
    supabase.rows.set("8", { instance_id: 8, subscription_id: SUB, status: "running", subdomain: "9" });
    const m = make();
    await m.write({ instance_id: 9, subscription_id: SUB, status: "provisioning" });
    await m.write({ instance_id: 8, status: "failed" as never });
    await m.drained();
    expect(rejected()).to.include("HTTP 409 23505").and.to.include("HTTP 400 23514");
    expect(supabase.rows.get("8")!.status).to.equal("running");
  });

  it("list() reads every row, past PostgREST's max-rows cap", async () => {
    supabase.maxRows = 50;
    for (let i = 1; i <= 120; i++) supabase.rows.set(String(i), { instance_id: i, subscription_id: SUB, status: "running", subdomain: String(i) });
    const m = make();
    const ids = (await m.list()).map((r) => Number(r.instance_id)).sort((a, b) => a - b);
    expect(ids).to.have.length(120);
    expect(ids.at(-1)).to.equal(120);
  });

  it("get() of an id no INTEGER column can hold is null, not a Supabase error", async () => {
    const m = make();
    expect(await m.get("9999999999")).to.equal(null);
  });

  it("a torn entry (crash mid-write) is set aside, a leftover temp file removed, the rest delivered", async () => {
    mkdirSync(outbox(), { recursive: true });
    const entry = (seq: number, row: object) => JSON.stringify({ seq, at: new Date().toISOString(), row });
    writeFileSync(join(outbox(), "0000000000000001.json"), entry(1, { instance_id: 4, subscription_id: SUB, status: "provisioning" }));
    writeFileSync(join(outbox(), "0000000000000002.json"), entry(2, { instance_id: 4, status: "running" }).slice(0, 20));
    writeFileSync(join(outbox(), "0000000000000003.json.4242.tmp"), entry(3, { instance_id: 4, status: "stopped" }).slice(0, 10));
    const m = make();
    await m.drained();
    expect(supabase.rows.get("4")!.status).to.equal("provisioning");
    const files = readdirSync(outbox()).sort();
    expect(files).to.deep.equal(["0000000000000002.json.corrupt"]);
    expect(log.text()).to.include("unreadable mirror outbox entry set aside");
    await m.write({ instance_id: 4, status: "running" });
    await m.drained();
    expect(supabase.rows.get("4")!.status).to.equal("running");
    expect(readdirSync(outbox())).to.include("0000000000000002.json.corrupt");
  });

  it("a growing outbox during an outage is reported at 100, 1000, … pending writes", async () => {
    supabase.failWith = 503;
    const m = make(60_000, 60_000);
    for (let i = 0; i < 101; i++) await m.write({ instance_id: 1 + (i % 7), status: "running" });
    expect(m.pending()).to.equal(101);
    const warnings = log.text().split("\n").filter((l) => l.includes("instance mirror outbox holds"));
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('"pending":100');
  });

  it("retry delays grow from the base and never exceed the maximum, jitter included", () => {
    for (const random of [0, 0.5, 0.999]) {
      const delays = Array.from({ length: 40 }, (_, attempt) => retryDelay(attempt, 500, 60_000, () => random));
      expect(Math.min(...delays)).to.be.at.least(250);
      expect(Math.max(...delays)).to.be.at.most(60_000);
      expect(delays[39]).to.be.at.least(30_000);
    }
    expect(retryDelay(0, 500, 60_000, () => 0.5)).to.equal(500);
    expect(retryDelay(1e6, 500, 60_000, () => 0.5)).to.equal(60_000);
  });
});
