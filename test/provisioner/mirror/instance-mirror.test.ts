import { expect } from "chai";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createInstanceMirror, SupabaseMirror } from "../../../provisioner/mirror";
import type { InstanceMirror } from "../../../provisioner/ports";
import { FakePostgrest } from "./fake-postgrest";

const KEY = "service-role-key-eyJhbGciOiJIUzI1NiJ9.c2VjcmV0";
const SUB = "5b0c8f0e-6f8e-4c1b-9d55-2f3b6f0a9a11";
const ACC = "0d7e6a52-3f1c-4a8e-8f0e-2b9d41c6e7a3";

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("provisioner/mirror: Supabase mirror with a durable outbox", function () {
  this.timeout(20_000);
  let dataDir: string;
  let supabase: FakePostgrest;
  let log: ReturnType<typeof capture>;
  const mirrors: InstanceMirror[] = [];

  const make = () => {
    const mirror = createInstanceMirror({ supabaseUrl: supabase.url, serviceKey: KEY, dataDir, logger: log.logger, retryBaseMs: 30, retryMaxMs: 120, requestTimeoutMs: 2000 });
    mirrors.push(mirror);
    return mirror as SupabaseMirror;
  };

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mirror-test-"));
    supabase = new FakePostgrest();
    await supabase.start();
    log = capture();
  });
  afterEach(async () => {
    for (const m of mirrors.splice(0)) (m as SupabaseMirror).stop?.();
    await supabase.close();
    rmSync(dataDir, { recursive: true, force: true });
    expect(log.text()).not.to.include(KEY);
  });

  it("is off without SUPABASE_URL: enabled=false, writes are no-ops, reads say 'Supabase not configured', one log line", async () => {
    const mirror = createInstanceMirror({ dataDir, logger: log.logger });
    expect(mirror.enabled).to.equal(false);
    await mirror.write({ instance_id: 1, status: "running" });
    expect(mirror.pending()).to.equal(0);
    expect(readdirSync(dataDir)).to.deep.equal([]);
    for (const read of [() => mirror.get("1"), () => mirror.list(), () => mirror.accountEmail("a")]) {
      const err = (await read().catch((e: unknown) => e)) as Error;
      expect(err.message).to.equal("Supabase not configured");
    }
    expect(log.text().trim().split("\n")).to.have.length(1);
    expect(log.text()).to.include("Supabase mirror off");
    expect(createInstanceMirror({ dataDir, supabaseUrl: supabase.url }).enabled).to.equal(false);
  });

  it("a row with subscription_id is an upsert on instance_id (merge-duplicates) with the service key", async () => {
    const mirror = make();
    const row = { instance_id: 42, subscription_id: SUB, account_id: null, status: "provisioning" as const, tier: "pro", stack_name: "staging-42", last_job_id: "job-1", last_error: null };
    await mirror.write(row);
    await mirror.drained();
    const [req] = supabase.writes();
    expect(req.method).to.equal("POST");
    expect(req.path).to.equal("/rest/v1/instances");
    expect(req.query.get("on_conflict")).to.equal("instance_id");
    expect(req.headers.prefer).to.include("resolution=merge-duplicates");
    expect(req.headers.apikey).to.equal(KEY);
    expect(req.headers.authorization).to.equal(`Bearer ${KEY}`);
    expect(req.body).to.deep.equal(row);
  });

  it("a partial row is a PATCH filtered on instance_id; a write for a missing row is set aside in rejected.jsonl", async () => {
    supabase.rows.set("42", { instance_id: 42, subscription_id: SUB, status: "provisioning" });
    const mirror = make();
    await mirror.write({ instance_id: "42", status: "running", kubernetes_synced_at: "2026-11-28T10:00:00Z" });
    await mirror.drained();
    const [req] = supabase.writes();
    expect(req.method).to.equal("PATCH");
    expect(req.path).to.equal("/rest/v1/instances");
    expect(req.query.get("instance_id")).to.equal("eq.42");
    expect(req.headers.apikey).to.equal(KEY);
    expect(req.body).to.deep.equal({ status: "running", kubernetes_synced_at: "2026-11-28T10:00:00Z" });
    expect(supabase.rows.get("42")!.status).to.equal("running");

    await mirror.write({ instance_id: 99, status: "error" });
    await mirror.drained();
    const rejected = readFileSync(join(dataDir, "mirror-outbox", "rejected.jsonl"), "utf8");
    expect(rejected).to.include("no instances row with instance_id 99");
    expect(log.text()).to.include("Supabase rejected an instance mirror write");
  });

  it("Supabase down (503): writes wait durably in the outbox, then arrive coalesced per instance and in order", async () => {
    supabase.failWith = 503;
    const mirror = make();
    await mirror.write({ instance_id: 1, subscription_id: SUB, status: "provisioning", tier: "free" });
    await mirror.write({ instance_id: 2, subscription_id: SUB, status: "provisioning", tier: "pro" });
    await mirror.write({ instance_id: 1, status: "running", frontend_url: "https://1.mindroom.test" });
    await until(() => supabase.requests.length >= 2);
    expect(mirror.pending()).to.equal(3);
    const files = readdirSync(join(dataDir, "mirror-outbox")).filter((f) => f.endsWith(".json"));
    expect(files).to.have.length(3);
    expect(statSync(join(dataDir, "mirror-outbox", files[0])).mode & 0o777).to.equal(0o600);
    expect(log.text()).to.include("Supabase unavailable; instance mirror writes wait in the outbox");

    supabase.failWith = undefined;
    supabase.requests.length = 0;
    await mirror.drained();
    expect(supabase.writes().map((r) => [r.method, (r.body as { instance_id: number }).instance_id, (r.body as { status: string }).status])).to.deep.equal([
      ["POST", 1, "running"],
      ["POST", 2, "provisioning"],
    ]);
    expect(supabase.rows.get("1")).to.deep.include({ status: "running", tier: "free", frontend_url: "https://1.mindroom.test" });
    expect(readdirSync(join(dataDir, "mirror-outbox")).filter((f) => f.endsWith(".json"))).to.deep.equal([]);
    expect(log.text()).to.include("Supabase reachable again");
  });

  it("Supabase unreachable (connection refused): the status converges once it is back", async () => {
    supabase.rows.set("5", { instance_id: 5, subscription_id: SUB, status: "provisioning" });
    const port = supabase.port;
    const mirror = make();
    await supabase.close();
    await mirror.write({ instance_id: 5, status: "stopped" });
    await mirror.write({ instance_id: 5, status: "running" });
    await new Promise((r) => setTimeout(r, 150));
    expect(mirror.pending()).to.equal(2);
    await supabase.start(port);
    await mirror.drained();
    expect(supabase.rows.get("5")!.status).to.equal("running");
    expect(supabase.writes()).to.have.length(1);
  });

  it("a restart with a non-empty outbox delivers it", async () => {
    supabase.failWith = 503;
    const first = make();
    await first.write({ instance_id: 7, subscription_id: SUB, status: "provisioning" });
    await first.write({ instance_id: 7, status: "running", last_job_id: "job-7" });
    first.stop();
    supabase.failWith = undefined;
    supabase.requests.length = 0;
    const second = make();
    expect(second.pending()).to.equal(2);
    await second.drained();
    expect(supabase.rows.get("7")).to.deep.include({ status: "running", last_job_id: "job-7", subscription_id: SUB });
    expect(log.text()).to.include("delivering instance mirror writes queued before the restart");
  });

  it("a write Supabase refuses (400) goes to rejected.jsonl without blocking later writes", async () => {
    supabase.rows.set("3", { instance_id: 3, subscription_id: SUB, status: "provisioning" });
    const mirror = make();
    await mirror.write({ instance_id: 8, subscription_id: "not-a-uuid", status: "provisioning" });
    await mirror.write({ instance_id: 3, status: "running" });
    await mirror.drained();
    expect(supabase.rows.get("3")!.status).to.equal("running");
    expect(readFileSync(join(dataDir, "mirror-outbox", "rejected.jsonl"), "utf8")).to.include("HTTP 400 22P02: invalid input syntax for type uuid");
  });

  it("reads: get/list merge still-pending writes; accountEmail reads accounts.email", async () => {
    supabase.rows.set("4", { instance_id: 4, subscription_id: SUB, status: "provisioning", tier: "pro" });
    supabase.accounts.set(ACC, "owner@example.com");
    const mirror = make();
    expect(await mirror.get("4")).to.deep.include({ status: "provisioning", tier: "pro" });
    const get = supabase.requests.at(-1)!;
    expect(get.method).to.equal("GET");
    expect(get.query.get("instance_id")).to.equal("eq.4");
    expect(await mirror.get("404")).to.equal(null);
    supabase.failWith = 503;
    await mirror.write({ instance_id: 4, status: "running" });
    expect((await mirror.get("4").catch((e: Error) => e)) as Error).to.be.instanceOf(Error);
    supabase.failWith = undefined;
    expect(await mirror.get("4")).to.deep.include({ status: "running", tier: "pro" });
    expect((await mirror.list()).map((r) => r.status)).to.deep.equal(["running"]);
    expect(await mirror.accountEmail(ACC)).to.equal("owner@example.com");
    expect(await mirror.accountEmail(SUB)).to.equal(null);
    await mirror.drained();
  });

  it("rejects a write without instance_id instead of queueing it", async () => {
    const mirror = make();
    const err = (await mirror.write({ instance_id: "" }).catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal("instance mirror write needs an instance_id");
    expect(mirror.pending()).to.equal(0);
  });

  it("writeMany sends rows with the same changes as one request; a row Supabase lacks falls back to one by one and only it is set aside", async () => {
    for (const id of ["1", "2", "3"]) supabase.rows.set(id, { instance_id: Number(id), subdomain: id, subscription_id: SUB, status: "running" });
    const mirror = make();
    const at = "2026-12-02T10:00:00.000Z";
    await mirror.writeMany(["1", "2", "3"].map((id) => ({ instance_id: Number(id), status: "error" as const, kubernetes_synced_at: at, updated_at: at })));
    await mirror.drained();
    const patches = supabase.writes();
    expect(patches).to.have.length(1);
    expect(patches[0].query.get("instance_id")).to.equal("in.(1,2,3)");
    for (const id of ["1", "2", "3"]) expect(supabase.rows.get(id)!.status).to.equal("error");

    supabase.requests.length = 0;
    await mirror.writeMany(["1", "9"].map((id) => ({ instance_id: Number(id), status: "stopped" as const, kubernetes_synced_at: at, updated_at: at })));
    await until(() => mirror.pending() === 0);
    expect(supabase.writes().map((r) => r.query.get("instance_id"))).to.deep.equal(["in.(1,9)", "eq.1", "eq.9"]);
    expect(supabase.rows.get("1")!.status).to.equal("stopped");
    expect(readFileSync(join(dataDir, "mirror-outbox", "rejected.jsonl"), "utf8")).to.include("no instances row with instance_id 9");
  });

  it("creations of the same shape waiting together are one bulk upsert; a row Supabase refuses is set aside alone, the others land", async () => {
    const mirror = make();
    const sub = (n: number) => `5b0c8f0e-6f8e-4c1b-9d55-2f3b6f0a9a${String(n).padStart(2, "0")}`;
    const creation = (id: number) => ({ instance_id: id, subscription_id: sub(id), status: "provisioning" as const, tier: "byok", last_job_id: `job-${id}` });
    const sent = () => supabase.writes().map((r) => (Array.isArray(r.body) ? r.body : [r.body]).map((b) => (b as { instance_id: number }).instance_id));
    // They wait in the outbox while Supabase is down (a burst of provisions queues the same way
    // behind a delivery in flight), then go as one request.
    supabase.failWith = 503;
    await Promise.all([1, 2, 3, 4, 5].map((id) => mirror.write(creation(id))));
    await until(() => supabase.writes().length > 0);
    supabase.requests.length = 0;
    supabase.failWith = undefined;
    await mirror.drained();
    expect(sent()).to.deep.equal([[1, 2, 3, 4, 5]]);
    for (const id of [1, 2, 3, 4, 5]) expect(supabase.rows.get(String(id))).to.include({ subscription_id: sub(id), tier: "byok", last_job_id: `job-${id}` });

    // Row 7 wants subdomain "5", which row 5 has: the bulk statement fails as a whole (409), then
    // each row goes alone and only 7 is refused.
    supabase.failWith = 503;
    await Promise.all([{ ...creation(7), subdomain: "5" }, { ...creation(8), subdomain: "8" }].map((row) => mirror.write(row)));
    await until(() => supabase.writes().length > 0);
    supabase.requests.length = 0;
    supabase.failWith = undefined;
    await until(() => mirror.pending() === 0);
    expect(sent()).to.deep.equal([[7, 8], [7], [8]]);
    expect(supabase.rows.get("8")).to.include({ subscription_id: sub(8) });
    expect(supabase.rows.has("7")).to.equal(false);
    expect(readFileSync(join(dataDir, "mirror-outbox", "rejected.jsonl"), "utf8")).to.include("23505");
  });
});
