import { expect } from "chai";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startPostgres, type PgCluster } from "../../support/postgres";
import { UPSTREAM_000 } from "./upstream-schema";

const MIGRATIONS = join(__dirname, "../../../infra/supabase/migrations");
const files = () => readdirSync(MIGRATIONS).filter((f) => f.endsWith(".sql")).sort().map((f) => join(MIGRATIONS, f));

describe("infra/supabase migrations on a real PostgreSQL", function () {
  this.timeout(60_000);
  let pg: PgCluster;

  before(async () => {
    pg = await startPostgres();
  });
  after(async () => {
    await pg?.stop();
  });

  async function freshDb(name: string, prelude = ""): Promise<void> {
    await pg.psql(`CREATE DATABASE ${name}`);
    if (prelude) await pg.psql(prelude, name);
    for (const file of files()) await pg.psqlFile(file, name);
  }

  async function seedSubscription(db: string, email: string): Promise<{ account: string; subscription: string }> {
    const account = (await pg.psql(`INSERT INTO accounts (email) VALUES ('${email}') RETURNING id`, db)).trim();
    const subscription = (
      await pg.psql(`INSERT INTO subscriptions (account_id, tier) VALUES ('${account}', 'pro') RETURNING id`, db)
    ).trim();
    return { account, subscription };
  }

  it("applies twice without error (idempotent)", async () => {
    await freshDb("twice");
    for (const file of files()) await pg.psqlFile(file, "twice");
    const triggers = await pg.psql(
      "SELECT tgname FROM pg_trigger WHERE tgrelid = 'instances'::regclass AND NOT tgisinternal ORDER BY 1",
      "twice",
    );
    expect(triggers.trim().split("\n")).to.deep.equal([
      "trg_mindroom_advance_instance_id_seq",
      "trg_set_subdomain_from_instance_id",
      "update_instances_updated_at",
    ]);
  });

  it("allocates instance_id from instance_id_seq starting at 1 and fills subdomain with it", async () => {
    await freshDb("alloc");
    const { account, subscription } = await seedSubscription("alloc", "a@example.com");
    const insert = `INSERT INTO instances (account_id, subscription_id, tier) VALUES ('${account}', '${subscription}', 'pro')
      RETURNING instance_id || '|' || subdomain || '|' || status`;
    expect((await pg.psql(insert, "alloc")).trim()).to.equal("1|1|provisioning");
    expect((await pg.psql(insert, "alloc")).trim()).to.equal("2|2|provisioning");
    // A given subdomain is kept, and subscription_id is not unique (one-per-subscription is app logic).
    const custom = `INSERT INTO instances (subscription_id, subdomain) VALUES ('${subscription}', 'custom') RETURNING subdomain`;
    expect((await pg.psql(custom, "alloc")).trim()).to.equal("custom");
  });

  it("rejects status 'failed' with the status CHECK and accepts every upstream status", async () => {
    await freshDb("statuses");
    const { subscription } = await seedSubscription("statuses", "s@example.com");
    let message = "";
    await pg
      .psql(`INSERT INTO instances (subscription_id, status) VALUES ('${subscription}', 'failed')`, "statuses")
      .catch((err: Error) => (message = err.message));
    expect(message).to.match(/violates check constraint "instances_status_check"/);
    for (const status of ["provisioning", "running", "stopped", "error", "deprovisioned", "restarting"]) {
      await pg.psql(`INSERT INTO instances (subscription_id, status) VALUES ('${subscription}', '${status}')`, "statuses");
    }
    expect((await pg.psql("SELECT count(*) FROM instances", "statuses")).trim()).to.equal("6");
  });

  it("sets updated_at on every UPDATE (trigger wins over a stale explicit value)", async () => {
    await freshDb("updated");
    const { subscription } = await seedSubscription("updated", "u@example.com");
    await pg.psql(
      `INSERT INTO instances (subscription_id, updated_at) VALUES ('${subscription}', '2000-01-01T00:00:00Z')`,
      "updated",
    );
    await pg.psql("UPDATE instances SET status = 'running' WHERE instance_id = 1", "updated");
    const age = await pg.psql("SELECT (now() - updated_at) < interval '1 minute' FROM instances", "updated");
    expect(age.trim()).to.equal("t");
  });

  it("has the project columns stack_name, last_job_id, last_error and the spec's indexes", async () => {
    await freshDb("columns");
    const cols = await pg.psql(
      "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'instances' AND column_name IN ('stack_name','last_job_id','last_error') ORDER BY 1",
      "columns",
    );
    expect(cols.trim().split("\n")).to.deep.equal(["last_error:text", "last_job_id:text", "stack_name:text"]);
    const indexed = await pg.psql(
      "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) WHERE i.indrelid = 'instances'::regclass AND i.indnatts = 1 GROUP BY a.attname ORDER BY 1",
      "columns",
    );
    expect(indexed.trim().split("\n")).to.include.members([
      "account_id", "instance_id", "kubernetes_synced_at", "status", "subdomain", "subscription_id",
    ]);
  });

  it("grants per spec: service_role all, authenticated select/insert/update, anon select; sequence usage", async () => {
    await freshDb("grants");
    const has = async (sql: string) => (await pg.psql(`SELECT ${sql}`, "grants")).trim();
    expect(await has("has_table_privilege('service_role', 'instances', 'DELETE')")).to.equal("t");
    expect(await has("has_table_privilege('authenticated', 'instances', 'UPDATE')")).to.equal("t");
    expect(await has("has_table_privilege('authenticated', 'instances', 'DELETE')")).to.equal("f");
    expect(await has("has_table_privilege('anon', 'instances', 'SELECT')")).to.equal("t");
    expect(await has("has_table_privilege('anon', 'instances', 'INSERT')")).to.equal("f");
    expect(await has("has_sequence_privilege('service_role', 'instance_id_seq', 'UPDATE')")).to.equal("t");
    expect(await has("has_sequence_privilege('authenticated', 'instance_id_seq', 'SELECT')")).to.equal("t");
    expect(await has("has_sequence_privilege('anon', 'instance_id_seq', 'USAGE')")).to.equal("t");
    expect(await has("has_sequence_privilege('anon', 'instance_id_seq', 'SELECT')")).to.equal("f");
  });

  it("without auth.uid(): RLS on, anon and authenticated see nothing, service_role sees everything", async () => {
    await freshDb("norls");
    const { subscription } = await seedSubscription("norls", "n@example.com");
    await pg.psql(`INSERT INTO instances (subscription_id) VALUES ('${subscription}')`, "norls");
    const count = (role: string) => pg.psql(`SET ROLE ${role}; SELECT count(*) FROM instances`, "norls");
    expect((await count("anon")).trim()).to.equal("0");
    expect((await count("authenticated")).trim()).to.equal("0");
    expect((await count("service_role")).trim()).to.equal("1");
  });

  it("with Supabase's auth.uid(): users read only their own rows, admins read all", async () => {
    await freshDb(
      "rls",
      `CREATE SCHEMA auth;
       CREATE FUNCTION auth.uid() RETURNS uuid LANGUAGE sql STABLE AS
         $$ SELECT nullif(current_setting('request.jwt.claim.sub', true), '')::uuid $$;
       GRANT USAGE ON SCHEMA auth TO anon, authenticated, service_role;`,
    );
    const alice = await seedSubscription("rls", "alice@example.com");
    const bob = await seedSubscription("rls", "bob@example.com");
    await pg.psql(`INSERT INTO instances (account_id, subscription_id) VALUES ('${alice.account}', '${alice.subscription}')`, "rls");
    await pg.psql(`INSERT INTO instances (subscription_id) VALUES ('${bob.subscription}')`, "rls");
    await pg.psql(`UPDATE accounts SET is_admin = TRUE WHERE email = 'bob@example.com'`, "rls");
    await pg.psql("GRANT SELECT ON subscriptions, accounts TO authenticated", "rls");
    const visible = (sub: string) =>
      pg.psql(
        `SET ROLE authenticated; SELECT set_config('request.jwt.claim.sub', '${sub}', false); SELECT string_agg(instance_id::text, ',' ORDER BY instance_id) FROM instances`,
        "rls",
      );
    const lines = (out: string) => out.trim().split("\n").pop();
    expect(lines(await visible(alice.account))).to.equal("1");
    expect(lines(await visible(bob.account))).to.equal("1,2");
    let message = "";
    await pg
      .psql(
        `SET ROLE authenticated; SELECT set_config('request.jwt.claim.sub', '${alice.account}', false); INSERT INTO instances (subscription_id) VALUES ('${alice.subscription}')`,
        "rls",
      )
      .catch((err: Error) => (message = err.message));
    expect(message).to.match(/row-level security/);
  });

  it("rejects a partial upsert on NOT NULL subscription_id even when the row exists (why the mirror PATCHes partial rows)", async () => {
    await freshDb("upsert");
    const { subscription } = await seedSubscription("upsert", "p@example.com");
    await pg.psql(`INSERT INTO instances (subscription_id) VALUES ('${subscription}')`, "upsert");
    let message = "";
    await pg
      .psql(
        "INSERT INTO instances (instance_id, status) VALUES (1, 'running') ON CONFLICT (instance_id) DO UPDATE SET status = EXCLUDED.status",
        "upsert",
      )
      .catch((err: Error) => (message = err.message));
    expect(message).to.match(/null value in column "subscription_id"/);
    await pg.psql(
      `INSERT INTO instances (instance_id, subscription_id, status) VALUES (1, '${subscription}', 'running') ON CONFLICT (instance_id) DO UPDATE SET status = EXCLUDED.status`,
      "upsert",
    );
    expect((await pg.psql("SELECT status FROM instances WHERE instance_id = 1", "upsert")).trim()).to.equal("running");
  });

  it("on upstream's older instances table (no project or OpenRouter columns, rows present): adds the columns, keeps rows and triggers, twice", async () => {
    await pg.psql("CREATE DATABASE upstream");
    await pg.psql(UPSTREAM_000, "upstream");
    const { subscription } = await seedSubscription("upstream", "old@example.com");
    await pg.psql(`INSERT INTO instances (subscription_id, status) VALUES ('${subscription}', 'running')`, "upstream");
    for (let i = 0; i < 2; i++) for (const file of files()) await pg.psqlFile(file, "upstream");
    const cols = await pg.psql(
      "SELECT column_name || ':' || data_type FROM information_schema.columns WHERE table_name = 'instances' AND column_name IN ('stack_name','last_job_id','last_error','openrouter_key_limit_usd','openrouter_key_created_at') ORDER BY 1",
      "upstream",
    );
    expect(cols.trim().split("\n")).to.deep.equal([
      "last_error:text", "last_job_id:text", "openrouter_key_created_at:timestamp with time zone", "openrouter_key_limit_usd:integer", "stack_name:text",
    ]);
    expect((await pg.psql("SELECT instance_id || '|' || status FROM instances", "upstream")).trim()).to.equal("1|running");
    const triggers = await pg.psql("SELECT count(*) FROM pg_trigger WHERE tgrelid = 'instances'::regclass AND NOT tgisinternal", "upstream");
    expect(triggers.trim()).to.equal("3");
  });

  it("an explicit instance_id (the provisioner allocates ids) moves instance_id_seq past it, so the DB default never collides", async () => {
    await freshDb("seq");
    const { subscription } = await seedSubscription("seq", "q@example.com");
    await pg.psql(`INSERT INTO instances (instance_id, subscription_id) VALUES (41, '${subscription}')`, "seq");
    await pg.psql(`INSERT INTO instances (instance_id, subscription_id) VALUES (7, '${subscription}')`, "seq");
    const next = await pg.psql(`INSERT INTO instances (subscription_id) VALUES ('${subscription}') RETURNING instance_id || '|' || subdomain`, "seq");
    expect(next.trim()).to.equal("42|42");
    // As an admin would (authenticated has no UPDATE on the sequence): the trigger still advances it.
    await pg.psql(`ALTER TABLE instances DISABLE ROW LEVEL SECURITY; SET ROLE authenticated; INSERT INTO instances (instance_id, subscription_id) VALUES (50, '${subscription}')`, "seq");
    expect((await pg.psql("SELECT last_value FROM instance_id_seq", "seq")).trim()).to.equal("50");
  });

  it("a migration role without superuser or CREATEROLE on a cluster without Supabase's roles: succeeds, grants skipped", async () => {
    const bare = await startPostgres();
    const dir = mkdtempSync(join(tmpdir(), "migrator-"));
    try {
      await bare.psql("CREATE ROLE migrator LOGIN CREATEDB");
      await bare.psql("CREATE DATABASE app OWNER migrator");
      for (const file of files()) {
        const wrapper = join(dir, "run.sql");
        writeFileSync(wrapper, `SET ROLE migrator;\n\\i ${file}\n`);
        await bare.psqlFile(wrapper, "app");
        await bare.psqlFile(wrapper, "app");
      }
      expect((await bare.psql("SELECT count(*) FROM pg_roles WHERE rolname IN ('anon', 'authenticated', 'service_role')", "app")).trim()).to.equal("0");
      expect((await bare.psql("SELECT tableowner FROM pg_tables WHERE tablename = 'instances'", "app")).trim()).to.equal("migrator");
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await bare.stop();
    }
  });
});
