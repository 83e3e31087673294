import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";
import { createInstanceMirror, type SupabaseMirror } from "../../../provisioner/mirror";
import { InstanceRegistry } from "../../../provisioner/service/registry";
import { SyncService } from "../../../provisioner/service/sync";
import { FakePostgrest } from "../mirror/fake-postgrest";

const SUB = "5b0c8f0e-6f8e-4c1b-9d55-2f3b6f0a9a11";

describe("provisioner/service/sync: the corrections reach Supabase batched", function () {
  this.timeout(20_000);
  let dataDir: string;
  let supabase: FakePostgrest;
  let mirror: SupabaseMirror;

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), "sync-test-"));
    supabase = new FakePostgrest();
    await supabase.start();
    mirror = createInstanceMirror({ supabaseUrl: supabase.url, serviceKey: "service-key", dataDir, logger: pino({ level: "silent" }), retryBaseMs: 20, retryMaxMs: 100, requestTimeoutMs: 2000 }) as SupabaseMirror;
  });
  afterEach(async () => {
    mirror.stop();
    await supabase.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("sends one UPDATE … IN (…) per new status, also when tenants of different new statuses alternate in id order", async () => {
    const kube = new FakeTenantKube();
    // Ids 1…12, all `running` in the mirror: odd ids scaled to 0 (→ stopped), 2, 6 and 10 without
    // a Deployment (→ error), the rest as recorded. In id order the two corrections alternate.
    const stopped: number[] = [];
    const error: number[] = [];
    for (let id = 1; id <= 12; id++) {
      supabase.rows.set(String(id), { instance_id: id, subscription_id: SUB, subdomain: String(id), status: "running" });
      if (id % 4 === 2) error.push(id);
      else kube.deployments.set(`mindroom-${id}`, { replicas: id % 2 === 1 ? 0 : 1, rolledOut: true });
      if (id % 2 === 1) stopped.push(id);
    }
    const stacks = new FakeTenantStacks();
    const log = pino({ level: "silent" });
    const registry = new InstanceRegistry(stacks, mirror, log);
    const result = await new SyncService({ stacks, kube, mirror, registry, log }).sync();
    await mirror.drained();

    expect(result).to.include({ total: 12, synced: stopped.length + error.length, errors: 0 });
    // The answer keeps the rows' order.
    expect(result.updates.map((u) => u.instance_id)).to.deep.equal([...stopped, ...error].sort((a, b) => a - b));
    const writes = supabase.requests.filter((r) => r.method !== "GET");
    const idsOf = (r: (typeof writes)[number]) => (r.query.get("instance_id") ?? "").replace(/^eq\.|^in\.\(|\)$/g, "").split(",").map(Number).sort((a, b) => a - b);
    expect(writes.map((r) => ({ method: r.method, status: (r.body as { status?: string }).status, ids: idsOf(r) }))).to.have.deep.members([
      { method: "PATCH", status: "stopped", ids: stopped },
      { method: "PATCH", status: "error", ids: error },
    ]);
    for (const id of stopped) expect(supabase.rows.get(String(id))).to.include({ status: "stopped" });
    for (const id of error) expect(supabase.rows.get(String(id))).to.include({ status: "error" });
  });

  it("re-inserts the rows of stacks Supabase lost as a bulk upsert, not one request per row", async () => {
    const kube = new FakeTenantKube();
    const stacks = new FakeTenantStacks();
    const log = pino({ level: "silent" });
    const registry = new InstanceRegistry(stacks, mirror, log);
    const ids = ["1", "2", "3", "4", "5", "6"];
    for (const id of ids) {
      const spec = { instanceId: id, tags: { customer: id, account: "", tier: "byok", desiredState: "running", subscription: SUB }, values: {} };
      stacks.stacks.set(id, { spec: spec as never, desiredState: "running", resourceCount: 12, lastUpdate: new Date().toISOString() });
      kube.deployments.set(`mindroom-${id}`, { replicas: 1, rolledOut: true });
      registry.merge(id, { subscription_id: SUB, tier: "byok" });
    }
    const result = await new SyncService({ stacks, kube, mirror, registry, log }).sync();
    await mirror.drained();

    expect(result.updates.map((u) => [u.instance_id, u.reason])).to.deep.equal(ids.map((id) => [Number(id), "missing_row"]));
    for (const id of ids) expect(supabase.rows.get(id)).to.include({ subscription_id: SUB, status: "running", stack_name: `instance-${id}` });
    // The first row may go alone (it starts the delivery); the others wait behind it and go together.
    const posts = supabase.requests.filter((r) => r.method === "POST");
    expect(posts.length, JSON.stringify(posts.map((r) => (Array.isArray(r.body) ? r.body : [r.body]).map((b) => (b as { instance_id: unknown }).instance_id)))).to.be.at.most(2);
    expect(posts.flatMap((r) => (Array.isArray(r.body) ? r.body : [r.body])).map((b) => String((b as { instance_id: unknown }).instance_id))).to.deep.equal(ids);
  });
});
