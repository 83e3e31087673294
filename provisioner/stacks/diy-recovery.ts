/**
 * What `recover` does to a DIY (`file://`) backend before `cancel` and `refresh`, for a run of ours
 * that died (docs/provisioner-adapters.md, "recover"):
 *
 * 1. No CLI of ours may still hold the stack. A provisioner killed without its process group
 *    leaves its `pulumi` child running; `cancel` beside it would delete the lock of a live run
 *    and `refresh` would write the checkpoint beside it. The DIY lock file records the holder's
 *    pid and host: a holder on this host that is still a `pulumi` process gets `graceMs` to exit,
 *    then SIGKILL (its provisioner is gone, nothing else will ever stop it).
 * 2. Writes the dead CLI left half done. The file backend (gocloud fileblob) stores each blob's
 *    metadata in a `<file>.attrs` sidecar, rewritten in place; a CLI killed at that moment leaves it
 *    empty and every later command on the stack fails with `failed to load checkpoint: EOF`.
 *    Unreadable sidecars are removed (fileblob reads a missing one as "no metadata"), and so are the
 *    `<file>.<random>.tmp` files of writes that were never renamed into place.
 * 3. Processes the dead run left in the tenant's workDir. The CLI starts each provider plugin
 *    (`pulumi-resource-kubernetes`) in a process group of its own, so neither the CLI's death nor a
 *    kill of the provisioner's process group ends it: it is reparented to init and runs on (one
 *    per killed `up`, seen in test/engine/provisioner-crash.test.ts). Every process of ours on a
 *    stack runs in that stack's workDir, and no operation of ours runs on it during recovery, so
 *    any process whose working directory it is and that does not descend from this process (a
 *    start/stop's `stack tag` CLI runs beside the queue) gets SIGKILL (Linux /proc; elsewhere
 *    skipped). This step works for every backend kind.
 */
import { existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { basename, join } from "node:path";

export interface DiyRecoveryOptions {
  /** The stack's workDir: processes still running in it are leftovers of a dead run (step 3). */
  workDir?: string;
  /** Milliseconds a live holder gets to exit on its own before SIGKILL. */
  graceMs?: number;
  pollMs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
}

export interface DiyRecoveryReport {
  /** Pids of CLI processes of ours that held the stack; `killed` those that had to be killed. */
  holders: number[];
  killed: number[];
  /** Other processes that still ran in the stack's workDir (provider plugins) and were killed. */
  strays: number[];
  /** Files removed (unreadable `.attrs` sidecars, stale `.tmp` writes). */
  removed: string[];
}

/** The backend's root folder for a `file://` URL, else undefined (a cloud or HTTP backend). */
export function diyRoot(backendUrl: string): string | undefined {
  if (!backendUrl.startsWith("file://")) return undefined;
  const path = decodeURIComponent(backendUrl.slice("file://".length).split("?")[0]);
  return path.startsWith("~") ? join(process.env.HOME ?? "", path.slice(1)) : path;
}

/** The folders of a stack's blobs: checkpoint and tags, locks (any organization), history. */
function stackFolders(root: string, project: string, stack: string): Array<{ dir: string; prefix?: string }> {
  const meta = join(root, ".pulumi");
  const locks = join(meta, "locks");
  const lockDirs = existsSync(locks)
    ? readdirSync(locks, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => ({ dir: join(locks, e.name, project, stack) }))
    : [];
  return [
    { dir: join(meta, "stacks", project), prefix: `${stack}.` },
    { dir: join(meta, "stacks"), prefix: `${stack}.` },
    { dir: join(meta, "history", project, stack) },
    { dir: join(meta, "history", stack) },
    { dir: join(locks, stack) },
    ...lockDirs,
  ].filter((f) => existsSync(f.dir));
}

function files(folder: { dir: string; prefix?: string }): string[] {
  return readdirSync(folder.dir, { withFileTypes: true })
    .filter((e) => e.isFile() && (!folder.prefix || e.name.startsWith(folder.prefix)))
    .map((e) => join(folder.dir, e.name));
}

/** Pids recorded in the stack's lock files for this host. */
export function lockHolders(root: string, project: string, stack: string, host = hostname()): number[] {
  const pids = new Set<number>();
  for (const folder of stackFolders(root, project, stack)) {
    if (!folder.dir.includes(`${join(".pulumi", "locks")}`)) continue;
    for (const file of files(folder)) {
      if (!file.endsWith(".json")) continue;
      try {
        const lock = JSON.parse(readFileSync(file, "utf8")) as { pid?: unknown; hostname?: unknown };
        if (typeof lock.pid === "number" && lock.hostname === host) pids.add(lock.pid);
      } catch {
        // unreadable lock: cancel removes it
      }
    }
  }
  return [...pids];
}

/** True while `pid` is a live (not zombie) `pulumi` process. Without /proc (not Linux) only liveness is known. */
export function isLivePulumi(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  if (!existsSync("/proc/self/stat")) return true;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    if (stat.slice(stat.lastIndexOf(")") + 2)[0] === "Z") return false;
    const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    return basename(argv0) === "pulumi";
  } catch {
    return false;
  }
}

/** Removes sidecars that are not a JSON object and stale temp files of the stack's blobs. */
export function repairInterruptedWrites(root: string, project: string, stack: string): string[] {
  const removed: string[] = [];
  for (const folder of stackFolders(root, project, stack)) {
    for (const file of files(folder)) {
      let remove = false;
      if (file.endsWith(".tmp")) remove = true;
      else if (file.endsWith(".attrs")) {
        try {
          const parsed: unknown = JSON.parse(readFileSync(file, "utf8"));
          remove = typeof parsed !== "object" || parsed === null;
        } catch {
          remove = true;
        }
      }
      if (remove) {
        rmSync(file, { force: true });
        removed.push(file);
      }
    }
  }
  return removed;
}

/** Live processes (not this one, not zombies) whose working directory is `dir`; [] without /proc. */
export function processesIn(dir: string): number[] {
  if (!existsSync("/proc/self/cwd")) return [];
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`).replace(/ \(deleted\)$/, "");
      if (cwd !== dir) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Our own live operations (a start/stop's `stack tag set` runs beside the queue) descend from us.
      if (stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z" && !descendsFromUs(Number(entry))) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

/** True when `pid`'s parent chain reaches this process (a CLI we run now, or its plugin). */
function descendsFromUs(pid: number): boolean {
  for (let at = pid, hops = 0; at > 1 && hops < 64; hops++) {
    try {
      const stat = readFileSync(`/proc/${at}/stat`, "utf8");
      at = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
      return false;
    }
    if (at === process.pid) return true;
  }
  return false;
}

/** Steps 1 to 3 above; 1 and 2 only for `file://` backends. */
export async function prepareDiyRecovery(backendUrl: string, project: string, stack: string, opts: DiyRecoveryOptions = {}): Promise<DiyRecoveryReport> {
  const report: DiyRecoveryReport = { holders: [], killed: [], strays: [], removed: [] };
  const root = diyRoot(backendUrl);
  if (!root || !existsSync(root)) {
    await killStrays(report, opts);
    return report;
  }
  report.holders = lockHolders(root, project, stack).filter(isLivePulumi);
  if (report.holders.length > 0) {
    opts.log?.warn({ pids: report.holders }, "a Pulumi CLI of a previous provisioner still holds the stack; waiting for it to exit before recovery");
    const deadline = Date.now() + (opts.graceMs ?? 30_000);
    while (report.holders.some(isLivePulumi) && Date.now() < deadline) await new Promise((r) => setTimeout(r, opts.pollMs ?? 200));
    for (const pid of report.holders.filter(isLivePulumi)) {
      try {
        process.kill(pid, "SIGKILL");
        report.killed.push(pid);
      } catch {
        // exited meanwhile
      }
    }
    const until = Date.now() + 10_000;
    while (report.killed.some(isLivePulumi) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    if (report.killed.length) opts.log?.warn({ pids: report.killed }, "killed the Pulumi CLI a previous provisioner left running on the stack");
  }
  await killStrays(report, opts);
  report.removed = repairInterruptedWrites(root, project, stack);
  if (report.removed.length) opts.log?.warn({ files: report.removed }, "removed files a killed Pulumi CLI left half written in the state backend");
  return report;
}

async function killStrays(report: DiyRecoveryReport, opts: DiyRecoveryOptions): Promise<void> {
  if (!opts.workDir) return;
  report.strays = processesIn(opts.workDir);
  if (report.strays.length === 0) return;
  for (const pid of report.strays) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
  const until = Date.now() + 10_000;
  while (report.strays.some((pid) => processesIn(opts.workDir!).includes(pid)) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  opts.log?.warn({ pids: report.strays }, "killed processes a previous run left in the tenant's workDir (provider plugins)");
}
