/**
 * Memory with 1,000 tenant records: RSS and heap of a booted provisioner whose registry holds
 * 1,000 tenants (from stacks and mirror rows) and whose job store holds 1,000 finished jobs.
 * Run: npx tsx test/bench/memory-tenants.ts [tenants]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { createApp } from "../../provisioner/app";
import { loadConfig } from "../../provisioner/config";
import { FakeTenantKube } from "../../provisioner/fakes/kube";
import { FakeInstanceMirror } from "../../provisioner/fakes/mirror";
import { FakeTenantStacks } from "../../provisioner/fakes/stacks";
import { JobStore } from "../../provisioner/jobs/store";
import { LogRecorder, SUB } from "../provisioner/http/harness";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;
const mb = (n: number) => `${(n / 1048576).toFixed(1)} MiB`;
function snapshot() {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, heap: m.heapUsed };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 1000);
  const dataDir = mkdtempSync(join(tmpdir(), "bench-mem-"));
  const kube = new FakeTenantKube();
  const stacks = new FakeTenantStacks();
  const mirror = new FakeInstanceMirror();
  const store = new JobStore(dataDir);
  const now = new Date().toISOString();
  for (let i = 1; i <= n; i++) {
    const id = String(i);
    stacks.stacks.set(id, { spec: { instanceId: id, values: {}, tags: { customer: id, account: "", tier: "byok", desiredState: "running" } }, desiredState: "running", resourceCount: 12, lastUpdate: now });
    mirror.rows.set(id, {
      instance_id: i, subscription_id: SUB, status: "running", tier: "byok", stack_name: `instance-${id}`,
      instance_url: `https://${id}.mindroom.test`, frontend_url: `https://${id}.mindroom.test`, backend_url: `https://${id}.api.mindroom.test`,
      api_url: `https://${id}.api.mindroom.test`, matrix_url: `https://${id}.matrix.mindroom.test`, matrix_server_url: `https://${id}.matrix.mindroom.test`,
      last_job_id: null, last_error: null, created_at: now, updated_at: now,
    });
    store.save({
      job_id: `00000000-0000-4000-8000-${String(i).padStart(12, "0")}`, kind: "provision", instance_id: id, status: "succeeded",
      created_at: now, started_at: now, finished_at: now, params: { instance_id: id, is_new: true, account_id: null, tier: "byok" },
      result: { customer_id: i, frontend_url: `https://${id}.mindroom.test`, success: true, message: "Instance provisioned successfully" },
      progress: Array.from({ length: 10 }, (_, k) => ({ at: now, message: `step ${k} of instance ${id}` })),
    });
  }
  const before = snapshot();
  const config = loadConfig({ PROVISIONER_API_KEY: "k", MINDROOM_DATA_DIR: dataDir, ENVIRONMENT: "test" });
  const p = await createApp({ config, stacks, kube, mirror, log: new LogRecorder() });
  const after = snapshot();
  console.log(`${p.registry.all().length} tenant records in the registry, ${n} finished job records loaded`);
  console.log(`process: RSS ${mb(after.rss)}, heap used ${mb(after.heap)}`);
  console.log(`provisioner's share (booted app minus seeded fakes): heap +${mb(after.heap - before.heap)}, RSS +${mb(after.rss - before.rss)}`);
  await p.shutdown(0);
  rmSync(dataDir, { recursive: true, force: true });
  process.exit(0);
}

void main();
