/**
 * A creation still waiting in the outbox (Supabase was down, or the boot's drain has not reached it)
 * is a tenant like any other: the boot listing must see it, or its id could be handed out again.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { createInstanceMirror, type SupabaseMirror } from "../../../provisioner/mirror";
import { FakePostgrest } from "./fake-postgrest";

const SUB = "5b0c8f0e-6f8e-4c1b-9d55-2f3b6f0a9a11";

describe("provisioner/mirror: reads see pending creations", function () {
  this.timeout(10_000);
  let dataDir: string;
  let supabase: FakePostgrest;
  let mirror: SupabaseMirror | undefined;
  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "mirror-pending-"));
    supabase = new FakePostgrest();
    await supabase.start();
  });
  afterEach(async () => {
    mirror?.stop();
    await supabase.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("list() includes rows whose creation is still in the outbox, merged with their later writes", async () => {
    supabase.rows.set("4", { instance_id: 4, subscription_id: SUB, status: "running" });
    supabase.failWith = 503;
    mirror = createInstanceMirror({ supabaseUrl: supabase.url, serviceKey: "k", dataDir, logger: pino({ level: "silent" }), retryBaseMs: 60_000, retryMaxMs: 60_000 }) as SupabaseMirror;
    await mirror.write({ instance_id: 5, subscription_id: SUB, status: "provisioning", tier: "free" });
    await mirror.write({ instance_id: 5, status: "error" });
    await mirror.write({ instance_id: 9, status: "running" }); // an update of a row Supabase does not have: not a tenant
    supabase.failWith = undefined; // reads work again; the outbox retry is a minute away
    const rows = await mirror.list();
    expect(rows.map((r) => [r.instance_id, r.status])).to.deep.equal([
      [4, "running"],
      [5, "error"],
    ]);
  });

  it("a restart whose outbox still holds a creation lists it before the drain delivered it", async () => {
    const outbox = join(dataDir, "mirror-outbox");
    mkdirSync(outbox, { recursive: true });
    writeFileSync(join(outbox, "0000000000000001.json"), JSON.stringify({ seq: 1, at: new Date().toISOString(), row: { instance_id: 7, subscription_id: SUB, status: "provisioning" } }));
    supabase.failWith = 503; // the boot drain fails; reads below succeed
    mirror = createInstanceMirror({ supabaseUrl: supabase.url, serviceKey: "k", dataDir, logger: pino({ level: "silent" }), retryBaseMs: 60_000, retryMaxMs: 60_000 }) as SupabaseMirror;
    await new Promise((r) => setTimeout(r, 50));
    supabase.failWith = undefined;
    expect((await mirror.list()).map((r) => r.instance_id)).to.deep.equal([7]);
  });
});
