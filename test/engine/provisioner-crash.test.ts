/**
 * The REAL provisioner (`provisioner/main.ts`, real Automation API adapter, real Pulumi CLI,
 * real kubernetes provider, test control plane) killed with SIGKILL while a tenant's `pulumi up`
 * runs, then started again on the same data dir:
 * - variant "node only": only the node process dies; its `pulumi up` child survives (an OOM kill
 *   of one process, a crash of node itself) and may still hold the stack's lock;
 * - variant "process group": the node process and its CLI children die together (the container
 *   runtime's kill).
 * After the restart: the interrupted job is failed with a reason, the tenant queued behind it still
 * runs, the stack lock is cleared, a re-provision converges the tenant (its objects exist in
 * mindroom-instances, no pending operations in the state) and no CLI process of ours is left.
 *
 * Found here and fixed in provisioner/stacks/diy-recovery.ts: a CLI killed while the file backend
 * rewrote `<stack>.json.attrs` left it empty, and every later command on the stack failed with
 * `failed to load checkpoint: EOF` (since the boot releases the stacks of interrupted jobs before
 * it lists them, the boot listing no longer fails on it either). Also found here and fixed in
 * provisioner/stacks/index.ts: the re-provision after recovery failed with `Server-Side Apply field
 * conflict` on an object whose create was in flight when the provisioner died (Deployment
 * `mindroom-<id>`, `.spec.template.metadata.annotations.mindroom.ai/instance-secret-hash`: the dead
 * run's tenant Secret never existed, so the retry drew a new sandbox token). The object exists in the
 * cluster, `refresh --clear-pending-creates` dropped it from the state, and the next `up` creates it
 * again by upsert against the dead run's field manager; the pinned provider forces that only with
 * PULUMI_K8S_ENABLE_PATCH_FORCE, which the adapter now sets. On failure the test prints the objects'
 * managers and template annotations.
 */
import { expect } from "chai";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiRequest, type ApiTarget } from "./support/api";
import { sharedCluster, type Cluster } from "./support/cluster";
import {
  alive,
  CRASH_ENVIRONMENT,
  CRASH_SUBSCRIPTION,
  CRASH_SUBSCRIPTION_B,
  groupMembers,
  jobRecords,
  processesBelow,
  pulumiProcesses,
  startProvisioner,
  type ProvisionerProcess,
} from "./support/provisioner-process";

const NS = "mindroom-instances";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not after ${timeoutMs / 1000} s`);
    await sleep(everyMs);
  }
}

async function settle(p: ProvisionerProcess, jobId: string, timeoutMs = 300_000): Promise<Record<string, any>> { // eslint-disable-line @typescript-eslint/no-explicit-any
  return until(`job ${jobId} finished`, timeoutMs, async () => {
    const res = await p.request("GET", `/system/jobs/${jobId}`);
    return res.body.status === "succeeded" || res.body.status === "failed" ? res.body : undefined;
  }, 250);
}

/** The tenant's objects the stack creates, as `Kind/name`, from the API server. */
async function tenantObjects(target: ApiTarget, id: string): Promise<string[]> {
  const paths: Array<[string, string]> = [
    ["Deployment", `/apis/apps/v1/namespaces/${NS}/deployments`],
    ["Service", `/api/v1/namespaces/${NS}/services`],
    ["ConfigMap", `/api/v1/namespaces/${NS}/configmaps`],
    ["PersistentVolumeClaim", `/api/v1/namespaces/${NS}/persistentvolumeclaims`],
    ["Ingress", `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`],
  ];
  const out: string[] = [];
  for (const [kind, path] of paths) {
    const items = ((await apiRequest(target, "GET", path)).body?.items ?? []) as { metadata: { name: string } }[];
    for (const i of items) if (i.metadata.name.endsWith(`-${id}`) || i.metadata.name.includes(`-${id}-`)) out.push(`${kind}/${i.metadata.name}`);
  }
  return out.sort();
}

/** The DIY backend's lock files of a stack (`.pulumi/locks/<org>/<project>/<stack>/*.json`). */
function lockFiles(dataDir: string, stack: string): string[] {
  const root = join(dataDir, "state", ".pulumi", "locks");
  const found: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (path.includes(`/${stack}/`)) found.push(path);
    }
  };
  walk(root);
  return found;
}

/** Pending operations recorded in the stack's checkpoint. */
function pendingOperations(dataDir: string, stack: string): unknown[] {
  const root = join(dataDir, "state", ".pulumi", "stacks");
  const files: string[] = [];
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, e.name);
      if (e.isDirectory()) walk(path);
      else if (e.name === `${stack}.json`) files.push(path);
    }
  };
  walk(root);
  if (files.length === 0) return [];
  try {
    const state = JSON.parse(readFileSync(files[0], "utf8")) as { checkpoint?: { latest?: { pending_operations?: unknown[] } } };
    return state.checkpoint?.latest?.pending_operations ?? [];
  } catch {
    return []; // replaced meanwhile
  }
}

for (const [variant, idBase] of [["node only", 100], ["process group", 200]] as const) {
  describe(`engine: real provisioner killed with SIGKILL during pulumi up (${variant})`, function () {
    let cluster: Cluster;
    let target: ApiTarget;
    let base: string;
    let dataDir: string;
    let first: ProvisionerProcess | undefined;
    let second: ProvisionerProcess | undefined;
    const timings: Record<string, number> = {};

    before(async () => {
      cluster = await sharedCluster();
      target = { server: cluster.server, token: cluster.token, ca: cluster.ca };
      // The root stack owns the tenants' namespace.
      await apiRequest(target, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
      base = mkdtempSync(join(tmpdir(), "mindroom-crash-"));
      dataDir = join(base, "data");
      mkdirSync(dataDir);
      // Both variants share the cluster and its mindroom-instances: their tenant ids must differ.
      writeFileSync(join(dataDir, "instance-ids.json"), JSON.stringify({ last_instance_id: idBase }));
    });

    after(async () => {
      await first?.stop(5_000).catch(() => undefined);
      await second?.stop(30_000).catch(() => undefined);
      // A failed run must not leak plugins into the next: end whatever still runs in this data dir.
      for (const p of processesBelow(dataDir)) {
        try {
          process.kill(p.pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      console.log(`    timings (${variant}): ${JSON.stringify(timings)}`);
      if (process.env.KEEP_CRASH_DIR) console.log(`    kept ${base}`);
      else rmSync(base, { recursive: true, force: true });
    });

    it("reports the interrupted job, runs the queued one, clears the lock, converges on re-provision, leaves no CLI", async function () {
      const env = { PROVISIONER_CONCURRENCY: "1" };
      first = await startProvisioner({ dataDir, kubeconfigPath: cluster.kubeconfigPath, logPath: join(base, "first.log"), env });
      const t0 = Date.now();
      const a = await first.request("POST", "/system/provision", { subscription_id: CRASH_SUBSCRIPTION, tier: "byok" });
      expect(a.status, JSON.stringify(a.body)).to.equal(202);
      const b = await first.request("POST", "/system/provision", { subscription_id: CRASH_SUBSCRIPTION_B, tier: "free" });
      expect(b.status, JSON.stringify(b.body)).to.equal(202);
      const idA = String(a.body.customer_id);
      const idB = String(b.body.customer_id);
      const stackA = `${CRASH_ENVIRONMENT}-${idA}`;

      // While tenant A's `pulumi up` runs and has created a resource: the CLI is a child in our group.
      const up = await until("pulumi up of tenant A", 240_000, () => pulumiProcesses(first!.pid).find((p) => p.argv.includes("up")), 50);
      timings.upStartedMs = Date.now() - t0;
      // The kill lands while an object's create is in flight: its pending operation is in the checkpoint.
      // The checkpoint is read directly, every 2 ms: the job's progress is flushed only twice a second,
      // and a tenant's whole `up` takes about 0.6 s here, so waiting for a "created" line in the job
      // first lost the race in CI (the up had ended by the time the line was visible).
      // CRASH_KILL_AT=first-created kills at the first created object instead, which sometimes hits the
      // open NetworkPolicy field-conflict defect described at the top of this file.
      if (process.env.CRASH_KILL_AT === "first-created") {
        await until("tenant A's first created resource", 240_000, async () => {
          const job = await first!.request("GET", `/system/jobs/${a.body.job_id}`);
          if (job.body.status !== "running") throw new Error(`job A is ${job.body.status} before the kill: ${JSON.stringify(job.body)}\n${first!.log()}`);
          // A Kubernetes object (not the provider resource): the CLI is inside the resource operations.
          return (job.body.progress as { message: string }[]).some((e) => /^created kubernetes:(?!providers)/.test(e.message)) ? true : undefined;
        }, 50);
      } else {
        // Any object's create in flight will do: waiting for one given object lost the race under
        // CI load (its create finished between two reads), and the test then waited out A's whole job.
        await until("a pending create of one of A's Kubernetes objects", 240_000, () => {
          if (!alive(up.pid)) throw new Error(`tenant A's pulumi up ended before a pending create was seen: no kill point\n${first!.log()}`);
          return pendingOperations(dataDir, stackA).some((o: any) => o.type === "creating" && /[$:]kubernetes:[^:]+\/v\d[^:]*:/.test(String(o.resource?.urn))) ? true : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
        }, 2);
      }
      timings.killMs = Date.now() - t0;
      expect((await first.request("GET", `/system/jobs/${b.body.job_id}`)).body.status, "concurrency 1: B waits").to.equal("queued");
      const cliBefore = pulumiProcesses(first.pid).map((p) => `${p.pid} ${p.argv.slice(1, 3).join(" ")}`);

      if (variant === "node only") await first.killNode();
      else await first.killGroup();
      const killedAt = Date.now();
      const survivors = groupMembers(first.pid);
      console.log(`    CLI at the kill: ${cliBefore.join("; ")}; left in the group right after: ${survivors.map((p) => `${p.pid} ${p.argv.slice(0, 3).join(" ")}`).join("; ") || "none"}`);
      console.log(`    lock files right after the kill: ${lockFiles(dataDir, stackA).length}; up pid ${up.pid} alive: ${alive(up.pid)}`);
      const firstPid = first.pid;
      // Watch the killed provisioner's CLI and the new one's recovery commands side by side.
      const watch = { survivorExitMs: -1, cancelBesideSurvivor: false, refreshBesideSurvivor: false, stop: false };
      const watcher = (async () => {
        while (!watch.stop) {
          const left = groupMembers(firstPid).length > 0;
          if (!left && watch.survivorExitMs < 0) watch.survivorExitMs = Date.now() - killedAt;
          if (second && left) {
            const ours = pulumiProcesses(second.pid);
            if (ours.some((p) => p.argv.includes("cancel"))) watch.cancelBesideSurvivor = true;
            if (ours.some((p) => p.argv.includes("refresh"))) watch.refreshBesideSurvivor = true;
          }
          await sleep(20);
        }
      })();

      console.log(`    after the CLI: lock files ${lockFiles(dataDir, stackA).length}, pending operations ${JSON.stringify(pendingOperations(dataDir, stackA).map((o: any) => `${o.type} ${String(o.resource?.urn).split("::").pop()}`))}`); // eslint-disable-line @typescript-eslint/no-explicit-any
      const np = await apiRequest(target, "GET", `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/instance-traffic-controls-${idA}`);
      console.log(`    NetworkPolicy of A: ${np.status} managers ${JSON.stringify((np.body?.metadata?.managedFields ?? []).map((m: any) => m.manager))}`); // eslint-disable-line @typescript-eslint/no-explicit-any
      second = await startProvisioner({ dataDir, kubeconfigPath: cluster.kubeconfigPath, logPath: join(base, "second.log"), env });
      timings.rebootMs = Date.now() - killedAt;
      const interrupted = await settle(second, a.body.job_id as string);
      expect(interrupted.status).to.equal("failed");
      expect(interrupted.error.status_code).to.equal(500);
      expect(interrupted.error.detail).to.match(/^Interrupted by a provisioner restart/);
      const resumed = await settle(second, b.body.job_id as string);
      expect(resumed.status, JSON.stringify(resumed.error ?? resumed)).to.equal("succeeded");
      timings.queuedJobDoneMs = Date.now() - killedAt;

      // The re-provision of A recovers the stack first (cancel + refresh), then converges.
      const retry = await second.request("POST", "/system/provision", { instance_id: Number(idA), tier: "byok" });
      expect(retry.status, JSON.stringify(retry.body)).to.equal(202);
      const done = await settle(second, retry.body.job_id as string);
      if (done.status !== "succeeded") {
        // Evidence for the open defect above: who owns what in the object the dead run left.
        for (const path of [`/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies/instance-traffic-controls-${idA}`, `/apis/apps/v1/namespaces/${NS}/deployments/mindroom-${idA}`]) {
          const live = await apiRequest(target, "GET", path);
          const owners = ((live.body?.metadata?.managedFields ?? []) as { manager: string; operation: string }[]).map((m) => `${m.manager} (${m.operation})`);
          console.log(`    ${path}: ${live.status}, managers ${owners.join(", ")}, template annotations ${JSON.stringify(live.body?.spec?.template?.metadata?.annotations ?? null)}`);
        }
      }
      timings.recoveredMs = Date.now() - killedAt;
      expect(done.status, `${JSON.stringify(done)}\n${second.log(60)}`).to.equal("succeeded");
      expect(JSON.stringify(done)).to.not.match(/currently locked/);
      const messages = (done.progress as { message: string }[]).map((e) => e.message);
      expect(messages[0]).to.equal("recovering the stack after an interrupted operation");

      const objects = await tenantObjects(target, idA);
      expect(objects, "tenant A's Deployments").to.include.members([`Deployment/mindroom-${idA}`, `Deployment/synapse-${idA}`]);
      expect(await tenantObjects(target, idB)).to.include(`Deployment/mindroom-${idB}`);
      expect(pendingOperations(dataDir, stackA), "no pending operations left in A's state").to.deep.equal([]);
      expect(lockFiles(dataDir, stackA), "no lock left on A's stack").to.deep.equal([]);

      // Every job record is finished; nothing was lost.
      const records = jobRecords(dataDir);
      for (const id of [a.body.job_id, b.body.job_id, retry.body.job_id] as string[]) expect(records[id]?.status, id).to.be.oneOf(["failed", "succeeded"]);

      watch.stop = true;
      await watcher;
      timings.survivorExitMs = watch.survivorExitMs;
      console.log(`    recovery beside the killed provisioner's CLI: cancel ${watch.cancelBesideSurvivor}, refresh ${watch.refreshBesideSurvivor}`);
      expect(watch.cancelBesideSurvivor || watch.refreshBesideSurvivor, "recovery ran while the killed provisioner's CLI was still running").to.equal(false);
      // No CLI of ours is left: neither of the killed provisioner's group nor of the new one.
      await until("no CLI of the killed provisioner", 60_000, () => (groupMembers(firstPid).length === 0 ? true : undefined), 200);
      expect(pulumiProcesses(second.pid), "the running provisioner's CLI processes").to.deep.equal([]);
      // Nor a provider plugin: the CLI starts each in a process group of its own, so it outlives
      // both kills; recovery ends what still runs in the tenant's workDir.
      const left = processesBelow(join(dataDir, "workspaces")).map((p) => `${p.pid} ${p.argv.slice(0, 2).join(" ")}`);
      expect(left, "processes still running in the tenants' workDirs").to.deep.equal([]);
    });
  });
}
