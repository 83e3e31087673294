/**
 * Provision acceptance latency over real HTTP: time from request to the 202 (validation, id
 * allocation, durable mirror write, durable job record). Target: p99 < 50 ms.
 *
 * The provisioner runs with its real pieces (test/provisioner/e2e/harness.ts): the Automation API
 * adapter on a fake CLI that takes CLI_MS per command, like a real `pulumi` process start, and the
 * Supabase mirror against a local PostgREST. A CLI call on the request path would therefore show
 * up as CLI_MS in the figures. Jobs keep running in the background meanwhile (concurrency 2), as
 * in production. Run: npx tsx test/bench/provision-latency.ts [requests] [cliMs]
 */
import { FakePulumi } from "../provisioner/stacks/fake-cli";
import { startRealHarness, SUBSCRIPTION } from "../provisioner/e2e/harness";

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 500);
  const cliMs = Number(process.argv[3] ?? 250);
  const cli = new FakePulumi("3.220.0");
  cli.beforeAnswer = () => new Promise((r) => setTimeout(r, cliMs));
  const h = await startRealHarness({ cli, env: { PROVISIONER_CONCURRENCY: "2" } });
  const provision = () => h.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "byok" });
  for (let i = 0; i < 20; i++) await provision(); // warm-up
  const latencies: number[] = [];
  for (let i = 0; i < n; i++) {
    const t0 = performance.now();
    const res = await provision();
    latencies.push(performance.now() - t0);
    if (res.status !== 202) throw new Error(`unexpected ${res.status}: ${res.text}`);
  }
  latencies.sort((a, b) => a - b);
  console.log(`provision acceptance (202) over HTTP, real adapters, fake CLI at ${cliMs} ms per command, ${n} requests, ${n + 20} tenants`);
  console.log(`p50 ${percentile(latencies, 50).toFixed(2)} ms  p90 ${percentile(latencies, 90).toFixed(2)} ms  p99 ${percentile(latencies, 99).toFixed(2)} ms  max ${latencies[latencies.length - 1].toFixed(2)} ms`);
  await h.close();
  process.exit(0);
}

void main();
