/**
 * Status GET throughput over real HTTP: `GET /system/instances/{id}` and `GET /system/jobs/{id}`
 * with 32 concurrent keep-alive clients for a fixed time each. Run: npx tsx test/bench/status-throughput.ts [seconds]
 */
import { call, settle, startHarness, SUB } from "../provisioner/http/harness";

async function hammer(url: string, seconds: number, concurrency: number): Promise<number> {
  const deadline = performance.now() + seconds * 1000;
  let done = 0;
  const worker = async () => {
    while (performance.now() < deadline) {
      // X-Real-IP varies so the job route's 60/min limit measures the route, not the limiter.
      const res = await fetch(url, { headers: { Authorization: "Bearer test-key", "X-Real-IP": `10.7.${done % 250}.${(done >> 8) % 250}` } });
      await res.arrayBuffer();
      if (res.status !== 200 && res.status !== 429) throw new Error(`status ${res.status}`);
      done++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return done / seconds;
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const h = await startHarness();
  const res = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
  await settle(h, res.body.job_id as string);
  const instance = await hammer(`${h.url}/system/instances/1`, seconds, 32);
  const job = await hammer(`${h.url}/system/jobs/${res.body.job_id}`, seconds, 32);
  console.log(`GET /system/instances/{id}: ${instance.toFixed(0)} req/s (32 clients, ${seconds} s)`);
  console.log(`GET /system/jobs/{id}:      ${job.toFixed(0)} req/s (32 clients, ${seconds} s)`);
  await h.close();
  process.exit(0);
}

void main();
