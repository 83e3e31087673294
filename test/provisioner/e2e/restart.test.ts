/**
 * Restart durability with the real pieces: a provisioner dies while one job is inside `pulumi up`,
 * another is queued and Supabase is down; the next boot on the same data dir (same backend, same
 * cluster) finishes the running job with a reason, resumes the queued one, recovers the stack
 * before its next operation and delivers every mirror write once Supabase is back.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { FakePostgrest } from "../mirror/fake-postgrest";
import { cliError, FakePulumi } from "../stacks/fake-cli";
import { ENVIRONMENT, startRealHarness, SUBSCRIPTION, type RealHarness } from "./harness";

const OTHER_SUBSCRIPTION = "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f";
const ACCOUNT = "0d7e6a52-3f1c-4a8e-8f0e-2b9d41c6e7a3";

describe("provisioner end to end: restart durability", function () {
  this.timeout(30_000);
  const postgrest = new FakePostgrest();
  let first: RealHarness | undefined;
  let second: RealHarness | undefined;
  before(() => postgrest.start());
  after(async () => {
    await second?.close();
    await postgrest.close();
  });

  it("queued jobs resume, the interrupted one fails with a reason and its stack is recovered first; the outbox delivers everything", async () => {
    const cli = new FakePulumi("3.220.0");
    const kube = new FakeTenantKube();
    let hang = true;
    // The first provisioner "dies" inside `up` of tenant 1: the command never returns.
    cli.beforeAnswer = (args) => (hang && args[0] === "up" ? new Promise<void>(() => undefined) : undefined);
    first = await startRealHarness({ cli, kube, postgrest, env: { PROVISIONER_CONCURRENCY: "1" } });
    postgrest.failWith = 503; // Supabase goes down after the boot listing
    const a = await first.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "byok" });
    const b = await first.request("POST", "/system/provision", { subscription_id: OTHER_SUBSCRIPTION, tier: "free" });
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    for (let i = 0; i < 200 && !cli.commands().some((c) => c.startsWith("up ")); i++) await new Promise((r) => setTimeout(r, 10));
    expect((await first.request("GET", `/system/jobs/${a.body.job_id}`)).body.status).to.equal("running");
    expect((await first.request("GET", `/system/jobs/${b.body.job_id}`)).body.status, "concurrency 1: tenant 2 waits").to.equal("queued");
    expect(first.mirror.pending(), "mirror writes wait in the outbox while Supabase is down").to.be.greaterThan(0);
    expect(postgrest.rows.size).to.equal(0);
    // Crash: the data dir stays as the dead process left it (job 1 running, job 2 queued, outbox full).
    await first.close({ keepData: true });

    hang = false;
    postgrest.failWith = undefined;
    second = await startRealHarness({ dataDir: first.dataDir, cli, kube, postgrest });
    const interrupted = await second.settle(a.body.job_id as string);
    expect(interrupted.body.status).to.equal("failed");
    expect(interrupted.body.error).to.deep.equal({
      status_code: 500,
      detail:
        "Interrupted by a provisioner restart during the stack operation; the stack of instance 1 will be recovered (stale lock cleared, pending operations refreshed) before its next operation. Retry with instance_id 1 or the same subscription_id: that re-provisions instance 1, it does not create another",
    });
    const resumed = await second.settle(b.body.job_id as string);
    expect(resumed.body.status).to.equal("succeeded");
    await second.mirror.drained();
    expect(postgrest.rows.get("1"), "the insert made while Supabase was down arrived").to.include({ subscription_id: SUBSCRIPTION, status: "error", stack_name: `${ENVIRONMENT}-1`, last_job_id: a.body.job_id });
    expect((postgrest.rows.get("1") as { last_error: string }).last_error).to.match(/^Interrupted by a provisioner restart/);
    expect(postgrest.rows.get("2")).to.include({ subscription_id: OTHER_SUBSCRIPTION, tier: "free", status: "running", stack_name: `${ENVIRONMENT}-2`, last_job_id: b.body.job_id });

    // Tenant 1's next operation first clears our own stale lock and refreshes, then updates.
    const from = cli.calls.length;
    // The retry the message advises, by subscription: it re-provisions tenant 1, no second tenant.
    const retry = await second.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "byok" });
    expect(retry.body.customer_id).to.equal(1);
    expect((await second.settle(retry.body.job_id as string)).body.status).to.equal("succeeded");
    const ops = cli
      .commands()
      .slice(from)
      .filter((c) => /^(cancel|refresh|up)\b/.test(c))
      .map((c) => c.split(" --")[0]);
    expect(ops).to.deep.equal(["cancel", "refresh", "up"]);
    expect(cli.commands().slice(from).find((c) => c.startsWith("refresh"))).to.include("--clear-pending-creates").and.include(`--stack ${ENVIRONMENT}-1`);
    await second.mirror.drained();
    expect(postgrest.rows.get("1")).to.include({ status: "running", last_error: null, last_job_id: retry.body.job_id });
    // The id mark survived: the next new tenant is 3.
    const next = await second.request("POST", "/system/provision", { subscription_id: "8f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" });
    expect(next.body.customer_id).to.equal(3);
  });
  it("a crash between a new tenant's job record and its row insert (written at the same time): the next boot writes the row again from the job", async () => {
    postgrest.rows.clear();
    postgrest.accounts.set(ACCOUNT, "owner@example.com");
    const cli = new FakePulumi("3.220.0");
    const kube = new FakeTenantKube();
    let hang = true;
    cli.beforeAnswer = (args) => (hang && args[0] === "up" ? new Promise<void>(() => undefined) : undefined);
    const dying = await startRealHarness({ cli, kube, postgrest, env: { PROVISIONER_CONCURRENCY: "1" } });
    postgrest.failWith = 503; // the rows stay in the outbox
    const a = await dying.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "byok" });
    const b = await dying.request("POST", "/system/provision", { subscription_id: OTHER_SUBSCRIPTION, tier: "free", account_id: ACCOUNT });
    expect([a.status, b.status]).to.deep.equal([202, 202]);
    await dying.close({ keepData: true });
    // What the crash left: tenant 2's job record on disk, its row insert not (every outbox line of it removed).
    const outbox = join(dying.dataDir, "mirror-outbox");
    for (const name of readdirSync(outbox).filter((n) => /^\d{16}\.json$/.test(n))) {
      const lines = readFileSync(join(outbox, name), "utf8").split("\n").filter((l) => l && (JSON.parse(l) as { row: { instance_id: unknown } }).row.instance_id !== 2);
      writeFileSync(join(outbox, name), lines.map((l) => `${l}\n`).join(""));
    }

    hang = false;
    postgrest.failWith = undefined;
    const rebooted = await startRealHarness({ dataDir: dying.dataDir, cli, kube, postgrest });
    try {
      const done = await rebooted.settle(b.body.job_id as string);
      expect(done.body.status, JSON.stringify(done.body.error)).to.equal("succeeded");
      await rebooted.mirror.drained();
      expect(postgrest.rows.get("2")).to.include({ subscription_id: OTHER_SUBSCRIPTION, account_id: ACCOUNT, tier: "free", status: "running", stack_name: `${ENVIRONMENT}-2`, last_job_id: b.body.job_id });
      expect(rebooted.logText()).to.include("Instance 2 was accepted but its row was lost in a restart; writing it again");
      expect(rebooted.logText(), "tenant 1's row was not lost: nothing to restore").not.to.include("Instance 1 was accepted but its row was lost");
    } finally {
      await rebooted.close();
    }
  });

  it("a stack the dead run left unreadable (an empty .attrs a killed CLI wrote) is released at boot: every tenant is listed and the re-provision is accepted", async () => {
    const cli = new FakePulumi("3.220.0");
    const kube = new FakeTenantKube();
    let hang = true;
    cli.beforeAnswer = (args) => (hang && args[0] === "up" ? new Promise<void>(() => undefined) : undefined);
    const dying = await startRealHarness({ cli, kube, postgrest, env: { PROVISIONER_CONCURRENCY: "1" } });
    const a = await dying.request("POST", "/system/provision", { subscription_id: "7a0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", tier: "byok" });
    expect(a.status).to.equal(202);
    for (let i = 0; i < 200 && !cli.commands().some((c) => c.startsWith("up ")); i++) await new Promise((r) => setTimeout(r, 10));
    const id = String(a.body.customer_id);
    await dying.close({ keepData: true });

    // What the real file backend shows after a CLI killed mid-rewrite of the checkpoint's sidecar
    // (found by test/engine/provisioner-crash.test.ts): every command reading the stack fails.
    const sidecar = join(dying.dataDir, "state", ".pulumi", "stacks", "mindroom-tenant", `${ENVIRONMENT}-${id}.json.attrs`);
    mkdirSync(join(sidecar, ".."), { recursive: true });
    writeFileSync(sidecar, "");
    const damaged = () => existsSync(sidecar) && readFileSync(sidecar, "utf8") === "";
    hang = false;
    cli.beforeAnswer = (args) => {
      const readsIt = (args[0] === "stack" && args[1] === "ls") || args.includes(`${ENVIRONMENT}-${id}`);
      if (readsIt && damaged()) throw cliError("error: failed to load checkpoint: EOF");
    };
    const rebooted = await startRealHarness({ dataDir: dying.dataDir, cli, kube, postgrest });
    try {
      expect(damaged(), "the boot removed the unreadable sidecar before listing").to.equal(false);
      const listed = await rebooted.request("GET", "/system/instances");
      expect(JSON.stringify(listed.body), "the boot listing holds the tenant").to.include(`"instance_id":"${id}"`);
      const retry = await rebooted.request("POST", "/system/provision", { instance_id: Number(id), tier: "byok" });
      expect(retry.status, JSON.stringify(retry.body)).to.equal(202);
      expect((await rebooted.settle(retry.body.job_id as string)).body.status).to.equal("succeeded");
    } finally {
      await rebooted.close();
    }
  });
});
