/**
 * Provision acceptance latency over real HTTP: time from request to the 202 (validation, id
 * allocation, durable mirror write, durable job record), at 1, 5 and 20 provisions in flight.
 * Target: p99 < 50 ms at 20 concurrent.
 *
 * The provisioner runs with its real pieces (test/provisioner/e2e/harness.ts): the Automation API
 * adapter on a fake CLI that takes CLI_MS per command, like a real `pulumi` process start, and the
 * Supabase mirror against a local PostgREST. A CLI call on the request path would therefore show
 * up as CLI_MS in the figures. Jobs keep running in the background meanwhile (concurrency 2), as
 * in production. Each request is a new tenant (its own subscription id), so no request waits for
 * another one of the same subscription; a level of C sends ROUNDS bursts of C requests at once
 * (each burst after the previous one answered). The data dir is on the machine's temp disk, so the
 * figures include its real fsyncs. The client, the fake PostgREST and the background jobs share the
 * process, so its CPU per request (printed too, steadier than latency on a shared machine) counts
 * them as well.
 *
 * Run: npx tsx test/bench/provision-latency.ts [samplesPerLevel] [cliMs] [levels]
 *   e.g. npx tsx test/bench/provision-latency.ts 200 250 1,5,20
 */
import { randomUUID } from "node:crypto";
import { FakePulumi } from "../provisioner/stacks/fake-cli";
import { startRealHarness } from "../provisioner/e2e/harness";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 200);
  const cliMs = Number(process.argv[3] ?? 250);
  const levels = (process.argv[4] ?? "1,5,20").split(",").map(Number);
  const cli = new FakePulumi("3.220.0");
  cli.beforeAnswer = () => new Promise((r) => setTimeout(r, cliMs));
  const h = await startRealHarness({ cli, env: { PROVISIONER_CONCURRENCY: "2" } });
  const provision = async () => {
    const t0 = performance.now();
    const res = await h.request("POST", "/system/provision", { subscription_id: randomUUID(), tier: "byok" });
    const ms = performance.now() - t0;
    if (res.status !== 202) throw new Error(`unexpected ${res.status}: ${res.text}`);
    return ms;
  };
  for (let i = 0; i < 20; i++) await provision(); // warm-up
  let tenants = 20;
  console.log(`provision acceptance (202) over HTTP, real adapters, fake CLI at ${cliMs} ms per command, ${samples} requests per level`);
  for (const concurrency of levels) {
    const latencies: number[] = [];
    const rounds = Math.max(1, Math.ceil(samples / concurrency));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let round = 0; round < rounds; round++) {
      latencies.push(...(await Promise.all(Array.from({ length: concurrency }, provision))));
    }
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    tenants += latencies.length;
    latencies.sort((a, b) => a - b);
    const f = (ms: number) => `${ms.toFixed(2)} ms`.padStart(10);
    console.log(
      `${String(concurrency).padStart(3)} concurrent (${rounds} × ${concurrency}):  p50 ${f(percentile(latencies, 50))}  p99 ${f(percentile(latencies, 99))}  max ${f(latencies[latencies.length - 1])}` +
        `   process CPU ${((cpu.user + cpu.system) / 1000 / latencies.length).toFixed(2)} ms/request (${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)} % of a core)`,
    );
  }
  console.log(`${tenants} tenants, ${h.provisioner.runner.counts().queued} jobs still queued at the end`);
  await h.close();
  process.exit(0);
}

void main();
