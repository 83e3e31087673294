/**
 * Fleet upgrade wall time against the ideal (issue target: ≤ 1.15 × N × op / concurrency), and the
 * provisioner's memory during it. The provisioner runs with its real pieces
 * (test/provisioner/e2e/harness.ts): the Automation API adapter on a fake CLI that takes CLI_MS per
 * command once the tenants exist, the Supabase mirror against a local PostgREST. `op` is one
 * tenant's upgrade alone (a rollout of one), so the ratio shows what the rollout adds: scheduling,
 * job records, the shared event loop.
 *
 * Run: npx tsx test/bench/fleet-upgrade.ts [tenants=200] [cliMs=250] [concurrency=4]
 */
import { FakePulumi } from "../provisioner/stacks/fake-cli";
import { startRealHarness, type RealHarness } from "../provisioner/e2e/harness";

const [tenants, cliMs, concurrency] = [Number(process.argv[2] ?? 200), Number(process.argv[3] ?? 250), Number(process.argv[4] ?? 4)];
const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;

async function rollout(h: RealHarness, body: Record<string, unknown>): Promise<{ ms: number; result: Record<string, unknown> }> {
  const started = Date.now();
  const accepted = await h.request("POST", "/system/upgrade", body);
  if (accepted.status !== 202) throw new Error(`upgrade: ${accepted.status} ${accepted.text}`);
  const job = await h.settle(accepted.body.job_id as string, 3_600_000);
  return { ms: Date.now() - started, result: job.body.result as Record<string, unknown> };
}

async function main(): Promise<void> {
  const cli = new FakePulumi("3.248.0");
  let delay = 0;
  const h = await startRealHarness({ cli, env: { PROVISIONER_CONCURRENCY: String(concurrency), PROVISIONER_READINESS_TIMEOUT_SECONDS: "5" } });
  const previous = cli.beforeAnswer;
  cli.beforeAnswer = async (args, cwd) => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await previous?.(args, cwd);
  };
  try {
    for (let i = 0; i < tenants; i++) {
      const sub = `5f0c7a8e-1d2b-4c3d-8e9f-${String(i).padStart(12, "0")}`;
      const res = await h.request("POST", "/system/provision", { subscription_id: sub, tier: "free" }, { Prefer: "wait=60" });
      if (res.status !== 200) throw new Error(`provision ${i}: ${res.status} ${res.text}`);
    }
    delay = cliMs;
    const one = await h.request("GET", "/system/instances");
    const first = ((one.body.instances as { instance_id: string }[]) ?? [])[0].instance_id;
    const before = cli.calls.length;
    const ops: number[] = [];
    for (let i = 0; i < 3; i++) ops.push((await rollout(h, { instance_ids: [first], concurrency: 1 })).ms);
    const commandsPerUpgrade = (cli.calls.length - before) / 3;
    const op = ops.sort((a, b) => a - b)[1];
    const samples: { rss: number; heap: number }[] = [];
    const sampler = setInterval(() => samples.push({ rss: process.memoryUsage().rss, heap: process.memoryUsage().heapUsed }), 250);
    const start = process.memoryUsage();
    const all = await rollout(h, { all: true, mindroom_image: "ghcr.io/mindroom-ai/mindroom:bench", concurrency, max_failures: tenants });
    clearInterval(sampler);
    const end = process.memoryUsage();
    const ideal = (tenants * op) / concurrency;
    console.log(`fleet upgrade: ${tenants} tenants, fake CLI ${cliMs} ms per command, concurrency ${concurrency}`);
    console.log(`  CLI commands per upgrade: ${commandsPerUpgrade.toFixed(1)}; op (one tenant alone, median of 3): ${op} ms`);
    console.log(`  rollout: ${all.result.succeeded} succeeded, ${all.result.failed} failed; wall ${(all.ms / 1000).toFixed(1)} s; ideal ${(ideal / 1000).toFixed(1)} s; ratio ${(all.ms / ideal).toFixed(3)}`);
    console.log(`  memory (whole process: provisioner, harness, fake CLI): RSS ${mib(start.rss)} → peak ${mib(Math.max(...samples.map((s) => s.rss)))} → ${mib(end.rss)}; heap ${mib(start.heapUsed)} → peak ${mib(Math.max(...samples.map((s) => s.heap)))} → ${mib(end.heapUsed)}`);
  } finally {
    await h.close();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
