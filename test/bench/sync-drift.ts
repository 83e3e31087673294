/**
 * Sync and drift over a fleet: the external calls each makes, counted (issue target: ≤ 3 CLI
 * invocations beyond the per-tenant previews, 1 Kubernetes list, batched Supabase writes), with
 * wall time and peak RSS. The provisioner runs with its real pieces (test/provisioner/e2e/harness.ts):
 * the Automation API adapter on the fake CLI, the Supabase mirror against the local fake PostgREST,
 * the in-memory cluster; every CLI invocation, Kubernetes call and PostgREST request is recorded
 * by those fakes, and counted here per phase.
 *
 * The fleet is provisioned through the API first (not measured), then the world is put out of step
 * so each phase has work: every 10th tenant's Deployment is scaled to 0 behind the provisioner's
 * back (sync: → stopped), every 50th loses its Deployment (→ error), every 100th loses its
 * instances row (→ re-inserted), and every 20th tenant's preview shows a change (the captured
 * `previewAfterDrift` events). Then, in this order (so the sync reports what the drift found):
 *   1. `POST /system/drift` {all: true}: a rollout of one `preview` job per tenant;
 *   2. `POST /system/sync-instances`.
 * A CLI invocation naming a tenant stack (`--stack staging-<id>`) is that tenant's work: in the drift
 * report, its preview job's `preview` and what the job runs around it (`stack select`, and the
 * recorded settings read by `stack output` twice: LocalWorkspace.stackOutputs runs it masked and
 * with --show-secrets). One naming no tenant (`stack ls`) is fleet-level: the target's "beyond the
 * per-tenant previews". Wall time and peak RSS of a phase run until the mirror's outbox is delivered.
 * Figures only, no pass/fail.
 *
 * Run: npx tsx test/bench/sync-drift.ts [tenants=1000] [concurrency=4] [cliMs=0]
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { tenantObjectNames } from "../../infra/tenant-names";
import { FakePulumi, type Call } from "../provisioner/stacks/fake-cli";
import { ENVIRONMENT, startRealHarness, type RealHarness } from "../provisioner/e2e/harness";

const [tenants, concurrency, cliMs] = [Number(process.argv[2] ?? 1000), Number(process.argv[3] ?? 4), Number(process.argv[4] ?? 0)];
const mib = (n: number) => `${(n / 1048576).toFixed(0)} MiB`;
const FIXTURES = JSON.parse(readFileSync(join(__dirname, "../provisioner/stacks/fixtures/preview-events.json"), "utf8")) as Record<string, object[]>;
const TENANT_STACK = new RegExp(`^${ENVIRONMENT}-\\d+$`);
/** A preview that changes nothing, as the CLI streams it (prelude, summary, end): `previewAfterDrift` without its change. */
const CLEAN_PREVIEW: object[] = [
  { sequence: 1, timestamp: 1796243791, preludeEvent: { config: {} } },
  { sequence: 2, timestamp: 1796243792, summaryEvent: { maybeCorrupt: false, durationSeconds: 1, resourceChanges: { same: 14 }, PolicyPacks: {}, isPreview: true, result: "succeeded" } },
  { sequence: 3, timestamp: 1796243792, cancelEvent: {} },
];

/** The fake CLI with preview events chosen per stack (the command's own async context, so concurrent previews do not mix). */
class BenchPulumi extends FakePulumi {
  readonly drifted = new Set<string>();
  private readonly current = new AsyncLocalStorage<string>();

  constructor(version: string) {
    super(version);
    Object.defineProperty(this, "previewEvents", {
      get: () => (this.drifted.has(this.current.getStore() ?? "") ? FIXTURES.previewAfterDrift : CLEAN_PREVIEW),
      set: () => undefined,
    });
  }

  override run(args: string[], cwd: string, env: { [key: string]: string }): Promise<unknown> {
    const at = args.indexOf("--stack");
    return this.current.run(at >= 0 ? args[at + 1] : "", () => super.run(args, cwd, env));
  }
}

/** A CLI invocation's command words (`stack tag ls`, `preview`), without flags and operands. */
function commandOf(call: Call): string {
  const [a, b, c] = call.args;
  if (a === "stack" && (b === "tag" || b === "change-secrets-provider")) return `stack ${b} ${c ?? ""}`.trim();
  if (a === "stack" || a === "config") return `${a} ${b}`;
  return a;
}

/** The tenant stack a CLI invocation works on, if any (`--stack staging-7`). */
function stackOf(call: Call): string | undefined {
  const at = call.args.indexOf("--stack");
  const name = at >= 0 ? call.args[at + 1] : undefined;
  return name && TENANT_STACK.test(name) ? name : undefined;
}

function tally(items: string[]): string {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]).map(([k, n]) => `${k} ×${n}`).join(", ") || "none";
}

interface Phase {
  name: string;
  ms: number;
  peakRss: number;
  cli: Call[];
  kube: string[];
  rest: RealHarness["postgrest"]["requests"];
}

/** Runs `fn`, then waits for the mirror's outbox to be delivered, and returns what the fakes saw meanwhile. */
async function measure(h: RealHarness, name: string, fn: () => Promise<void>): Promise<Phase> {
  const [cli0, kube0, rest0] = [h.cli.calls.length, h.kube.calls.length, h.postgrest.requests.length];
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const started = Date.now();
  try {
    await fn();
    await h.mirror.drained(120_000);
  } finally {
    clearInterval(sampler);
  }
  const ms = Date.now() - started;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return { name, ms, peakRss, cli: h.cli.calls.slice(cli0), kube: h.kube.calls.slice(kube0), rest: h.postgrest.requests.slice(rest0) };
}

/** Rows a PostgREST request carries (writes) or asks for by id (`in.(…)`). */
function rowsOf(req: Phase["rest"][number]): number {
  if (Array.isArray(req.body)) return req.body.length;
  const ids = req.query.get("instance_id");
  if (ids?.startsWith("in.(")) return ids.slice(4, -1).split(",").length;
  return 1;
}

function report(p: Phase, n: number): { fleetCli: number; kubeLists: number } {
  const perTenant = p.cli.filter((c) => stackOf(c) !== undefined);
  const fleet = p.cli.filter((c) => stackOf(c) === undefined);
  const previews = perTenant.filter((c) => c.args[0] === "preview");
  const kubeMethods = p.kube.map((c) => c.slice(0, c.indexOf(":")));
  const kubeLists = kubeMethods.filter((m) => m === "mindroomReplicas").length;
  const writes = p.rest.filter((r) => r.method !== "GET");
  const reads = p.rest.filter((r) => r.method === "GET");
  const rows = writes.map(rowsOf);
  console.log(`  ${p.name}: wall ${(p.ms / 1000).toFixed(1)} s (mirror outbox delivered), peak RSS ${mib(p.peakRss)}`);
  console.log(`    CLI: ${p.cli.length} invocations; per-tenant previews (\`preview\`): ${previews.length} (${(previews.length / n).toFixed(2)} per tenant)`);
  console.log(`      other per-tenant commands (--stack <tenant>): ${perTenant.length - previews.length} (${((perTenant.length - previews.length) / n).toFixed(2)} per tenant): ${tally(perTenant.filter((c) => c.args[0] !== "preview").map(commandOf))}`);
  console.log(`      fleet-level (no tenant stack): ${fleet.length} [target ≤ 3]: ${tally(fleet.map(commandOf))}`);
  console.log(`    Kubernetes: ${p.kube.length} calls; lists of the Deployments: ${kubeLists} [target 1 for the sync]; by method: ${tally(kubeMethods)}`);
  console.log(`    Supabase (PostgREST): ${p.rest.length} requests; reads ${reads.length}: ${tally(reads.map((r) => `GET ${r.path.replace("/rest/v1/", "")}`))}`);
  console.log(
    `      writes ${writes.length} [target: batched] carrying ${rows.reduce((a, b) => a + b, 0)} rows` +
      (writes.length ? `; rows per request min ${Math.min(...rows)} / max ${Math.max(...rows)}; ${tally(writes.map((r, i) => `${r.method}${rows[i] > 1 ? " in.(…)" : " one row"}`))}` : ""),
  );
  return { fleetCli: fleet.length, kubeLists };
}

async function main(): Promise<void> {
  const cli = new BenchPulumi("3.248.0");
  const h = await startRealHarness({ cli, env: { PROVISIONER_CONCURRENCY: String(concurrency), PROVISIONER_READINESS_TIMEOUT_SECONDS: "5" } });
  let delay = 0;
  const previous = cli.beforeAnswer;
  cli.beforeAnswer = async (args, cwd) => {
    if (delay > 0) await new Promise((r) => setTimeout(r, delay));
    await previous?.(args, cwd);
  };
  try {
    const setupStarted = Date.now();
    let next = 0;
    const provisionOne = async (): Promise<void> => {
      while (next < tenants) {
        const i = next++;
        const sub = `5f0c7a8e-1d2b-4c3d-8e9f-${String(i).padStart(12, "0")}`;
        const res = await h.request("POST", "/system/provision", { subscription_id: sub, tier: "free" }, { Prefer: "wait=60" });
        if (res.status !== 200) throw new Error(`provision ${i}: ${res.status} ${res.text}`);
      }
    };
    await Promise.all(Array.from({ length: concurrency * 2 }, provisionOne));
    await h.mirror.drained(120_000);
    const setupMs = Date.now() - setupStarted;

    // Out of step behind the provisioner's back (direct edits of the fakes: not counted as calls).
    const ids = ((await h.request("GET", "/system/instances")).body.instances as { instance_id: string }[]).map((v) => v.instance_id);
    if (ids.length !== tenants) throw new Error(`expected ${tenants} tenants, GET /system/instances lists ${ids.length}`);
    const scaled: string[] = [];
    const gone: string[] = [];
    const rowless: string[] = [];
    ids.forEach((id, i) => {
      const mindroom = tenantObjectNames(id).mindroom;
      if (i % 50 === 2) {
        h.kube.deployments.delete(mindroom);
        gone.push(id);
      } else if (i % 10 === 1) {
        h.kube.deployments.get(mindroom)!.replicas = 0;
        scaled.push(id);
      }
      if (i % 100 === 3) {
        h.postgrest.rows.delete(id);
        rowless.push(id);
      }
      if (i % 20 === 5) cli.drifted.add(`${ENVIRONMENT}-${id}`);
    });
    delay = cliMs;

    console.log(`sync and drift: ${tenants} tenants, fake CLI ${cliMs} ms per command, concurrency ${concurrency} (setup: ${tenants} provisions in ${(setupMs / 1000).toFixed(1)} s, not measured)`);
    console.log(`  put out of step: ${scaled.length} Deployments scaled to 0, ${gone.length} deleted, ${rowless.length} instances rows deleted, ${cli.drifted.size} stacks drifted`);

    let drift: Record<string, unknown> = {};
    const driftPhase = await measure(h, "drift report (POST /system/drift {all})", async () => {
      const accepted = await h.request("POST", "/system/drift", { all: true, concurrency });
      if (accepted.status !== 202) throw new Error(`drift: ${accepted.status} ${accepted.text}`);
      const job = await h.settle(accepted.body.job_id as string, 3_600_000);
      drift = job.body.result as Record<string, unknown>;
    });
    let sync: Record<string, unknown> = {};
    const syncPhase = await measure(h, "sync (POST /system/sync-instances)", async () => {
      const res = await h.request("POST", "/system/sync-instances");
      if (res.status !== 200) throw new Error(`sync: ${res.status} ${res.text}`);
      sync = res.body;
    });

    const d = drift as { total: number; succeeded: number; failed: number; drifted: string[] };
    const s = sync as { total: number; synced: number; errors: number; updates: { reason: string; new_status: string }[]; drifted: string[] };
    console.log(`  drift: ${d.succeeded}/${d.total} previewed, ${d.failed} failed, ${d.drifted.length} drifted (expected ${cli.drifted.size})`);
    console.log(`  sync: total ${s.total}, synced ${s.synced}, errors ${s.errors}; updates: ${tally(s.updates.map((u) => u.reason))}; reports ${s.drifted.length} drifted`);
    const a = report(driftPhase, tenants);
    const b = report(syncPhase, tenants);
    const perTenantPreviews = driftPhase.cli.filter((c) => c.args[0] === "preview").length;
    const allCli = driftPhase.cli.length + syncPhase.cli.length;
    console.log(`  both: CLI invocations beyond the ${perTenantPreviews} \`preview\`s: ${allCli - perTenantPreviews} (fleet-level ${a.fleetCli + b.fleetCli} [target ≤ 3], the rest per tenant inside the preview jobs); Kubernetes Deployment lists ${a.kubeLists + b.kubeLists} [target 1]`);
    const corrections = s.updates.filter((u) => u.reason === "status_mismatch" || u.reason === "deployment_not_found");
    const inserts = s.updates.filter((u) => u.reason === "missing_row").length;
    const batched = new Set(corrections.map((u) => u.new_status)).size + (inserts > 0 ? 1 : 0);
    const syncWrites = syncPhase.rest.filter((r) => r.method !== "GET");
    console.log(
      `  Supabase writes of the sync: ${syncWrites.length} requests for ${corrections.length + inserts} rows [target: batched, one request per distinct change = ${batched}]: ` +
        `${syncWrites.filter((r) => r.method === "PATCH").length} updates for ${corrections.length} corrections (${new Set(corrections.map((u) => u.new_status)).size} distinct), ` +
        `${syncWrites.filter((r) => r.method === "POST").length} upserts for ${inserts} re-inserted rows`,
    );
    console.log(`  process peak RSS (kernel maxrss, setup included): ${mib(process.resourceUsage().maxRSS * 1024)}`);
  } finally {
    await h.close();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
