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
 * another one of the same subscription; a level of C sends bursts of C requests at once (each burst
 * after the previous one answered); the first burst of a level, which opens the client's
 * connections, is reported apart (its max). The client and the fake PostgREST run in worker threads, as the
 * callers and Supabase are remote in production: their CPU does not delay the provisioner's event
 * loop (on this machine they still compete for its cores; the background jobs share the loop).
 * Besides the latencies it prints the provisioner thread's busy time per request (event-loop
 * utilisation), steadier than latency on a shared machine, the process's CPU use, and the floor:
 * `GET /healthz` at the highest level, the same client and server with no work behind the answer.
 *
 * The data dir is on the machine's temp disk, so the figures include its real fsyncs, which on a
 * development machine take a fraction of a millisecond. FSYNC_MS=<ms> adds that much to every
 * fsync, as a network volume (the provisioner's PVC) takes: a synchronous fsync blocks its thread
 * for it, an asynchronous one holds one of libuv's 4 pool threads for it.
 *
 * CPU_PROFILE=<file> writes a V8 CPU profile of the provisioner thread over the measured levels only
 * (start-up and warm-up left out), for Chrome DevTools or `node --cpu-prof`-style tools.
 *
 * Run: [FSYNC_MS=2] [CPU_PROFILE=p.cpuprofile] npx tsx test/bench/provision-latency.ts [samplesPerLevel] [cliMs] [levels]
 *   e.g. npx tsx test/bench/provision-latency.ts 200 250 1,5,20
 */
import fs from "node:fs";
import { Session } from "node:inspector/promises";
import { Worker } from "node:worker_threads";
import { FakePulumi } from "../provisioner/stacks/fake-cli";
import { E2E_API_KEY, startRealHarness } from "../provisioner/e2e/harness";
import type { FakePostgrest } from "../provisioner/mirror/fake-postgrest";

/** Supabase's side: the fake PostgREST in its own thread (answers its URL once listening). */
const POSTGREST = `
require("tsx/cjs/api").register();
const { FakePostgrest } = require(${JSON.stringify(require.resolve("../provisioner/mirror/fake-postgrest"))});
const postgrest = new FakePostgrest();
postgrest.start().then(() => require("node:worker_threads").parentPort.postMessage({ port: postgrest.port, url: postgrest.url }));
`;

/** The load generator (plain JS): per message, `rounds` bursts of `concurrency` provisions; answers their latencies. */
const CLIENT = `
const { parentPort, workerData } = require("node:worker_threads");
const { randomUUID } = require("node:crypto");
let client = 0;
async function provision() {
  const t0 = performance.now();
  const res = await fetch(workerData.url + "/system/provision", {
    method: "POST",
    headers: { Authorization: "Bearer " + workerData.apiKey, "Content-Type": "application/json", "X-Real-IP": "10.9." + (++client % 250) + "." + (1 + Math.floor(client / 250) % 250) },
    body: JSON.stringify({ subscription_id: randomUUID(), tier: "byok" }),
  });
  const text = await res.text();
  const ms = performance.now() - t0;
  if (res.status !== 202) throw new Error("unexpected " + res.status + ": " + text);
  return ms;
}
async function health() {
  const t0 = performance.now();
  const res = await fetch(workerData.url + "/healthz");
  await res.text();
  return performance.now() - t0;
}
parentPort.on("message", async ({ concurrency, rounds, floor }) => {
  try {
    const latencies = [];
    for (let round = 0; round < rounds; round++) latencies.push(...(await Promise.all(Array.from({ length: concurrency }, floor ? health : provision))));
    parentPort.postMessage({ latencies });
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  }
});
`;

/** FSYNC_MS: every fsync of the provisioner's files takes that much longer (see above). */
async function slowDisk(ms: number): Promise<void> {
  const wait = new Int32Array(new SharedArrayBuffer(4));
  const fsyncSync = fs.fsyncSync;
  fs.fsyncSync = (fd) => {
    fsyncSync(fd);
    Atomics.wait(wait, 0, 0, ms);
  };
  // The asynchronous writer's fsyncs (provisioner/atomic-file.ts), where it has them: 4 at a time, as on the pool.
  const atomic = (await import("../../provisioner/atomic-file")) as { durableIo?: Record<"syncFile" | "syncDir", (...a: never[]) => Promise<void>> };
  if (!atomic.durableIo) return;
  const io = atomic.durableIo;
  let free = 4;
  const waiting: Array<() => void> = [];
  const slot = async <T>(work: () => Promise<T>): Promise<T> => {
    while (free === 0) await new Promise<void>((r) => waiting.push(r));
    free--;
    try {
      const out = await work();
      await new Promise((r) => setTimeout(r, ms));
      return out;
    } finally {
      free++;
      waiting.shift()?.();
    }
  };
  for (const key of ["syncFile", "syncDir"] as const) {
    const real = io[key];
    io[key] = (...args: never[]) => slot(() => real(...args));
  }
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

async function main(): Promise<void> {
  const samples = Number(process.argv[2] ?? 200);
  const cliMs = Number(process.argv[3] ?? 250);
  const levels = (process.argv[4] ?? "1,5,20").split(",").map(Number);
  const fsyncMs = Number(process.env.FSYNC_MS ?? 0);
  if (fsyncMs > 0) await slowDisk(fsyncMs);
  const cli = new FakePulumi("3.220.0");
  cli.beforeAnswer = () => new Promise((r) => setTimeout(r, cliMs));
  const supabase = new Worker(POSTGREST, { eval: true });
  const remote = await new Promise<{ port: number; url: string }>((resolve) => supabase.once("message", resolve));
  // The harness only reads the URL of a PostgREST it is handed (and leaves closing it to the caller).
  const h = await startRealHarness({ cli, env: { PROVISIONER_CONCURRENCY: "2" }, postgrest: remote as unknown as FakePostgrest });
  const client = new Worker(CLIENT, { eval: true, workerData: { url: h.url, apiKey: E2E_API_KEY } });
  const run = (concurrency: number, rounds: number, floor = false) =>
    new Promise<number[]>((resolve, reject) => {
      client.once("message", (m: { latencies?: number[]; error?: string }) => (m.error ? reject(new Error(m.error)) : resolve(m.latencies!)));
      client.postMessage({ concurrency, rounds, floor });
    });
  await run(1, 20); // warm-up
  const profiler = process.env.CPU_PROFILE ? new Session() : undefined;
  if (profiler) {
    profiler.connect();
    await profiler.post("Profiler.enable");
    await profiler.post("Profiler.start");
  }
  let tenants = 20;
  console.log(`provision acceptance (202) over HTTP, real adapters, fake CLI at ${cliMs} ms per command, ${samples} requests per level${fsyncMs ? `, fsync + ${fsyncMs} ms` : ""}`);
  for (const concurrency of levels) {
    const rounds = Math.max(1, Math.ceil(samples / concurrency));
    // The level's first burst opens the client's connections (the previous level left fewer open);
    // it is reported on its own, the figures are for a caller that keeps its connections.
    const cold = await run(concurrency, 1);
    tenants += cold.length;
    const elu0 = performance.eventLoopUtilization();
    const cpu0 = process.cpuUsage();
    const wall0 = performance.now();
    const latencies = await run(concurrency, rounds);
    const elu = performance.eventLoopUtilization(elu0);
    const cpu = process.cpuUsage(cpu0);
    const cores = (cpu.user + cpu.system) / 1000 / (performance.now() - wall0);
    tenants += latencies.length;
    latencies.sort((a, b) => a - b);
    const f = (ms: number) => `${ms.toFixed(2)} ms`.padStart(10);
    console.log(
      `${String(concurrency).padStart(3)} concurrent (${rounds} × ${concurrency}):  p50 ${f(percentile(latencies, 50))}  p99 ${f(percentile(latencies, 99))}  max ${f(latencies[latencies.length - 1])}` +
        `   provisioner thread busy ${(elu.active / latencies.length).toFixed(2)} ms/request (${(elu.utilization * 100).toFixed(0)} %)` +
        `   process CPU ${cores.toFixed(2)} cores` +
        (concurrency > 1 ? `   first burst on new connections: max ${f(Math.max(...cold))}` : ""),
    );
  }
  {
    const e0 = performance.eventLoopUtilization();
    await new Promise((r) => setTimeout(r, 2000));
    const e = performance.eventLoopUtilization(e0);
    console.log(`background alone (2 s, no requests): provisioner thread busy ${(e.utilization * 100).toFixed(0)} %`);
  }
  // What HTTP alone costs here: the same client and server, an answer with no work behind it.
  const top = Math.max(...levels);
  const floor = (await run(top, Math.max(1, Math.ceil(samples / top)), true)).sort((a, b) => a - b);
  console.log(`floor, GET /healthz at ${top} concurrent (same client and server, background jobs still running): p50 ${floor.length ? percentile(floor, 50).toFixed(2) : "-"} ms  p99 ${percentile(floor, 99).toFixed(2)} ms`);
  if (profiler) {
    const { profile } = await profiler.post("Profiler.stop");
    fs.writeFileSync(process.env.CPU_PROFILE!, JSON.stringify(profile));
  }
  console.log(`${tenants} tenants, ${h.provisioner.runner.counts().queued} jobs still queued at the end`);
  await client.terminate();
  await supabase.terminate();
  await h.close();
  process.exit(0);
}

void main();
