/**
 * The instance mirror against the real migration on a real PostgreSQL 15, through `PgRest`
 * (PostgREST's statements for the exact requests supabase-js sends, as `service_role`): the rows
 * the service writes over a tenant's life are accepted and the final row is right; what the
 * database refuses is set aside or waits, as the mirror promises.
 */
import { expect } from "chai";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createInstanceMirror, type SupabaseMirror } from "../../../provisioner/mirror";
import { InstanceRegistry } from "../../../provisioner/service/registry";
import { startPostgres, type PgCluster } from "../../support/postgres";
import { PgRest } from "./pg-postgrest";
import { UPSTREAM_000 } from "./upstream-schema";

const MIGRATIONS = join(__dirname, "../../../infra/supabase/migrations");
const migrations = () => readdirSync(MIGRATIONS).filter((f) => f.endsWith(".sql")).sort().map((f) => join(MIGRATIONS, f));
const KEY = "service-role-key-for-tests";

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

const silentLog = { info() {}, warn() {}, error() {} };

describe("infra/supabase: the instance mirror's rows on the real migration (PostgreSQL + PostgREST statements)", function () {
  this.timeout(120_000);
  let pg: PgCluster;
  let dbs = 0;
  let dataDir: string;
  let rest: PgRest | undefined;
  let mirror: SupabaseMirror | undefined;
  let log: ReturnType<typeof capture>;

  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });
  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "mirror-pg-"));
    log = capture();
  });
  afterEach(async () => {
    mirror?.stop();
    mirror = undefined;
    await rest?.close();
    rest = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** A database (migrated unless `prelude` replaces it), one account and subscription, PostgREST in front, a mirror. */
  async function setup(opts: { prelude?: string; migrate?: boolean } = {}) {
    const db = `mirror${++dbs}`;
    await pg.psql(`CREATE DATABASE ${db}`);
    if (opts.prelude) await pg.psql(opts.prelude, db);
    if (opts.migrate ?? true) for (const file of migrations()) await pg.psqlFile(file, db);
    const account = (await pg.psql("INSERT INTO accounts (email) VALUES ('owner@example.com') RETURNING id", db)).trim();
    const subscription = (await pg.psql(`INSERT INTO subscriptions (account_id, tier) VALUES ('${account}', 'pro') RETURNING id`, db)).trim();
    rest = new PgRest(pg, { database: db, serviceKey: KEY });
    await rest.start();
    mirror = createInstanceMirror({ supabaseUrl: rest.url, serviceKey: KEY, dataDir, logger: log.logger, retryBaseMs: 50, retryMaxMs: 200 }) as SupabaseMirror;
    const registry = new InstanceRegistry(null as never, mirror, silentLog);
    const row = async (id: number) => JSON.parse((await pg.psql(`SELECT row_to_json(i) FROM instances i WHERE instance_id = ${id}`, db)).trim() || "null") as Record<string, unknown> | null;
    return { db, account, subscription, registry, row, mirror };
  }

  const rejected = () => (existsSync(join(dataDir, "mirror-outbox", "rejected.jsonl")) ? readFileSync(join(dataDir, "mirror-outbox", "rejected.jsonl"), "utf8") : "");

  /** The service's writes over one tenant's life (provisioning.ts, openrouter.ts, lifecycle.ts, sync.ts), drained after each when `step`. */
  async function lifecycle(t: Awaited<ReturnType<typeof setup>>, id: string, step: boolean) {
    const settle = async () => (step ? t.mirror.drained() : undefined);
    await t.registry.record(id, { subscription_id: t.subscription, account_id: t.account, status: "provisioning", tier: "pro", created_at: "2026-11-28T10:00:00.000Z", stack_name: `production-${id}`, last_job_id: "job-1", last_error: null }, true);
    await settle();
    await t.registry.record(id, { instance_url: `https://${id}.mindroom.test`, frontend_url: `https://${id}.mindroom.test`, backend_url: `https://${id}.api.mindroom.test`, api_url: `https://${id}.api.mindroom.test`, matrix_url: `https://${id}.matrix.mindroom.test`, matrix_server_url: `https://${id}.matrix.mindroom.test` });
    await settle();
    await t.registry.record(id, { openrouter_key_hash: "sk-or-hash", openrouter_key_label: "sk-or-v1-abc...xyz", openrouter_key_limit_usd: 150, openrouter_key_limit_reset: "monthly", openrouter_key_created_at: "2026-11-28T10:01:02.345Z" }, true);
    await settle();
    await t.registry.record(id, { status: "running", desired_state: "running", last_error: null });
    await settle();
    await t.registry.record(id, { status: "stopped", desired_state: "stopped" });
    await settle();
    const now = new Date().toISOString();
    await t.mirror.write({ instance_id: Number(id), status: "error", kubernetes_synced_at: now, updated_at: now }); // sync: Deployment missing
    await settle();
    await t.registry.record(id, { status: "error", last_error: "stack update failed: timeout", last_job_id: "job-2" });
    await settle();
    await t.registry.record(id, { status: "deprovisioned", last_error: null, last_job_id: "job-3" });
    await settle();
  }

  function expectFinal(row: Record<string, unknown> | null, id: number, t: { account: string; subscription: string }) {
    expect(row).to.deep.include({
      instance_id: id,
      subdomain: String(id),
      subscription_id: t.subscription,
      account_id: t.account,
      status: "deprovisioned",
      tier: "pro",
      frontend_url: `https://${id}.mindroom.test`,
      api_url: `https://${id}.api.mindroom.test`,
      matrix_server_url: `https://${id}.matrix.mindroom.test`,
      openrouter_key_limit_usd: 150,
      openrouter_key_limit_reset: "monthly",
      openrouter_key_created_at: "2026-11-28T10:01:02.345+00:00",
      created_at: "2026-11-28T10:00:00+00:00",
      stack_name: `production-${id}`,
      last_job_id: "job-3",
      last_error: null,
      deprovisioned_at: null,
    });
    expect(row!.kubernetes_synced_at).to.be.a("string");
  }

  it("provisioning → running → stopped → error → deprovisioned, delivered one by one: every write accepted, the final row right", async () => {
    const t = await setup();
    await lifecycle(t, "1", true);
    expect(rejected()).to.equal("");
    expectFinal(await t.row(1), 1, t);
  });

  it("sync's corrections as one batch (writeMany): one UPDATE … IN for the rows with the same changes, accepted by the real table", async () => {
    const t = await setup();
    for (const id of ["1", "2", "3"]) {
      await t.registry.record(id, { subscription_id: t.subscription, account_id: t.account, status: "running", tier: "pro", stack_name: `production-${id}` }, true);
    }
    await t.mirror.drained();
    const now = new Date().toISOString();
    await t.mirror.writeMany(["1", "2", "3"].map((id) => ({ instance_id: Number(id), status: "error" as const, kubernetes_synced_at: now, updated_at: now })));
    await t.mirror.drained();
    expect(rejected()).to.equal("");
    for (const id of [1, 2, 3]) expect(await t.row(id)).to.deep.include({ status: "error", tier: "pro", subscription_id: t.subscription });
  });

  it("a burst of creations as one bulk upsert: accepted by the real table, an existing row keeps the columns the burst does not name", async () => {
    const t = await setup();
    await t.registry.record("2", { subscription_id: t.subscription, status: "running", tier: "pro" }, true);
    await t.registry.record("2", { openrouter_key_hash: "sk-or-hash" });
    await t.mirror.drained();
    rest!.failWith = 503; // the burst waits together, as writes queued behind a delivery in flight do
    const at = new Date().toISOString();
    for (const id of ["1", "2", "3"]) {
      await t.registry.record(id, { subscription_id: t.subscription, account_id: t.account, status: "provisioning", tier: "byok", created_at: at, stack_name: `production-${id}`, last_job_id: `job-${id}`, last_error: null }, true);
    }
    rest!.failWith = undefined;
    await t.mirror.drained();
    expect(rejected()).to.equal("");
    for (const id of [1, 2, 3]) expect(await t.row(id)).to.deep.include({ status: "provisioning", tier: "byok", account_id: t.account, stack_name: `production-${id}`, last_job_id: `job-${id}` });
    expect(await t.row(2)).to.deep.include({ openrouter_key_hash: "sk-or-hash" });
  });

  it("the same life queued while Supabase is down, delivered coalesced after it returns (string ids too)", async () => {
    const t = await setup();
    rest!.failWith = 503;
    await lifecycle(t, "7", false);
    expect(t.mirror.pending()).to.be.greaterThan(5);
    rest!.failWith = undefined;
    await t.mirror.drained();
    expect(rejected()).to.equal("");
    expectFinal(await t.row(7), 7, t);
    // A creation and an update keyed by the id as a string: PostgREST's json_populate_record reads "8" into INTEGER.
    await t.mirror.write({ instance_id: "8", subscription_id: t.subscription, status: "provisioning" });
    await t.mirror.write({ instance_id: "8", status: "running" });
    await t.mirror.drained();
    expect(await t.row(8)).to.deep.include({ instance_id: 8, subdomain: "8", status: "running" });
  });

  it("what the database refuses for the row itself is set aside with its code; the instance's other writes still land", async () => {
    const t = await setup();
    await t.registry.record("3", { subscription_id: t.subscription, status: "provisioning", tier: "free" });
    await t.mirror.drained();
    rest!.failWith = 503;
    await t.mirror.write({ instance_id: 3, status: "failed" as never }); // the API model's status the CHECK refuses
    await t.mirror.write({ instance_id: 3, openrouter_key_limit_usd: 15.5 }); // INTEGER column
    await t.mirror.write({ instance_id: 3, status: "running", last_job_id: "job-4" });
    await t.mirror.write({ instance_id: 4, subscription_id: "00000000-0000-4000-8000-000000000000", status: "provisioning" }); // no such subscription
    await t.mirror.write({ instance_id: 5, subscription_id: t.subscription, subdomain: "3", status: "provisioning" } as never); // taken subdomain
    rest!.failWith = undefined;
    await t.mirror.drained();
    expect(await t.row(3)).to.deep.include({ status: "running", last_job_id: "job-4", openrouter_key_limit_usd: null });
    const reasons = rejected().trim().split("\n").map((l) => (JSON.parse(l) as { reason: string }).reason);
    expect(reasons).to.have.length(4);
    expect(reasons[0]).to.match(/^HTTP 400 23514: .*instances_status_check/);
    expect(reasons[1]).to.match(/^HTTP 400 22P02: invalid input syntax for type integer: "15.5"/);
    expect(reasons[2]).to.match(/^HTTP 409 23503: .*foreign key/);
    expect(reasons[3]).to.match(/^HTTP 409 23505: .*instances_subdomain_key/);
  });

  it("a wrong service key: the gateway's 401 keeps the writes queued, nothing is rejected", async () => {
    const t = await setup();
    mirror!.stop();
    mirror = createInstanceMirror({ supabaseUrl: rest!.url, serviceKey: "wrong-key", dataDir, logger: log.logger, retryBaseMs: 50, retryMaxMs: 200 }) as SupabaseMirror;
    await mirror.write({ instance_id: 2, subscription_id: t.subscription, status: "provisioning" });
    await new Promise((r) => setTimeout(r, 300));
    expect(mirror.pending()).to.equal(1);
    expect(rejected()).to.equal("");
    expect(log.text()).to.include("HTTP 401: Invalid API key");
  });

  it("an upstream database the migration has not reached: writes wait (PGRST204), the migration adds the columns, the writes land", async () => {
    const t = await setup({ prelude: UPSTREAM_000, migrate: false });
    await lifecycle(t, "1", false);
    await new Promise((r) => setTimeout(r, 300));
    expect(rejected()).to.equal("");
    expect(log.text()).to.include("PGRST204").and.to.include("apply infra/supabase/migrations");
    for (const file of migrations()) await pg.psqlFile(file, t.db);
    await t.mirror.drained(20_000);
    expect(rejected()).to.equal("");
    expectFinal(await t.row(1), 1, t);
  });
});
