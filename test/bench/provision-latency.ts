/**
 * Provision acceptance latency over real HTTP with the engine faked: time from request to the 202
 * (validation, id allocation, mirror write, durable job record). Target: p99 < 50 ms.
 * Run: npx tsx test/bench/provision-latency.ts [requests]
 */
import { call, startHarness, SUB } from "../provisioner/http/harness";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 500);
  const h = await startHarness({ env: { PROVISIONER_CONCURRENCY: "2" } });
  const latencies: number[] = [];
  for (let i = 0; i < 20; i++) await call(h, "POST", "/system/provision", { body: { subscription_id: SUB, tier: "byok" } }); // warm-up
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB, tier: "byok" } });
    latencies.push(performance.now() - t0);
    if (res.status !== 202) throw new Error(`unexpected ${res.status}: ${JSON.stringify(res.body)}`);
  }
  latencies.sort((a, b) => a - b);
  console.log(`provision acceptance (202) over HTTP, engine faked, ${n} requests, ${n + 20} tenants`);
  console.log(`p50 ${percentile(latencies, 50).toFixed(2)} ms  p90 ${percentile(latencies, 90).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  max ${latencies[latencies.length - 1].toFixed(2)} ms`);
  await h.close();
  process.exit(0);
}

void main();
