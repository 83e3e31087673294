/**
 * The REAL provisioner (`provisioner/main.ts`) as a child process for crash tests: one node
 * process (`node --import tsx`, not the `tsx` wrapper, which would put a second node process
 * between us and the one to kill) in its own process group (detached), on 127.0.0.1 with a free
 * port, the real Pulumi CLI of tools/engine first on PATH, the cluster's kubeconfig, and a data
 * dir the caller keeps across restarts. Also: the process table below a process group, so a test
 * can see the `pulumi up` a job runs and any CLI left behind by a killed provisioner.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import { join } from "node:path";
import { provisionerEnv } from "./provisioner-env";
import { freePort, tail } from "./process";

const ROOT = join(__dirname, "../../..");

export const CRASH_API_KEY = "engine-crash-api-key-Pq83nVw2LkR0";
export const CRASH_ROOT_SECRET = "engine-crash-credentials-root-Vb5nJ8kW";
export const CRASH_SUBSCRIPTION = "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f";
/** The queued tenant's: a provision with an already known subscription re-provisions that tenant. */
export const CRASH_SUBSCRIPTION_B = "6a1d8b9f-2e3c-4d4e-9fa0-1b2c3d4e5f60";
export const CRASH_ENVIRONMENT = "crash";

export interface ProcInfo {
  pid: number;
  ppid: number;
  pgid: number;
  argv: string[];
}

/** Every live process (Linux /proc); zombies are left out. */
export function processes(): ProcInfo[] {
  const out: ProcInfo[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (rest[0] === "Z") continue;
      const argv = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0").filter(Boolean);
      out.push({ pid: Number(entry), ppid: Number(rest[1]), pgid: Number(rest[2]), argv });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** Processes of process group `pgid` (a detached child's pid is its group's id), the leader included. */
export function groupMembers(pgid: number): ProcInfo[] {
  return processes().filter((p) => p.pgid === pgid);
}

/** Pulumi CLI processes (`pulumi <command> ...`) of a process group. */
export function pulumiProcesses(pgid: number): ProcInfo[] {
  return groupMembers(pgid).filter((p) => p.argv.length > 1 && /(^|\/)pulumi$/.test(p.argv[0]));
}

/**
 * Live processes whose working directory is below `dir`: the CLI and its provider plugins run in
 * the tenant's workDir, and the plugins run in process groups of their own.
 */
export function processesBelow(dir: string): ProcInfo[] {
  return processes().filter((p) => {
    try {
      const cwd = readlinkSync(`/proc/${p.pid}/cwd`).replace(/ \(deleted\)$/, "");
      return cwd === dir || cwd.startsWith(`${dir}/`);
    } catch {
      return false;
    }
  });
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2)[0] !== "Z";
  } catch {
    return false;
  }
}

export interface ProvisionerProcess {
  url: string;
  pid: number;
  child: ChildProcess;
  logPath: string;
  log(lines?: number): string;
  request(method: string, path: string, body?: unknown): Promise<{ status: number; body: Record<string, any> }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  /** SIGKILL the node process only (its CLI children keep running, as after an OOM kill of one process). */
  killNode(): Promise<void>;
  /** SIGKILL the whole process group (the container runtime's kill). */
  killGroup(): Promise<void>;
  /** SIGTERM, then SIGKILL of the group after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface StartOptions {
  dataDir: string;
  kubeconfigPath: string;
  logPath: string;
  env?: Record<string, string>;
  bootTimeoutMs?: number;
}

export async function startProvisioner(opts: StartOptions): Promise<ProvisionerProcess> {
  const port = await freePort();
  const env = provisionerEnv({
    port,
    dataDir: opts.dataDir,
    kubeconfigPath: opts.kubeconfigPath,
    environment: CRASH_ENVIRONMENT,
    apiKey: CRASH_API_KEY,
    rootSecret: CRASH_ROOT_SECRET,
    overrides: { PROVISIONER_READINESS_TIMEOUT_SECONDS: "0", PROVISIONER_READINESS_BACKGROUND_SECONDS: "1", ...opts.env },
  });
  const fd = openSync(opts.logPath, "a");
  // The app listens on every interface of PORT; tests talk to 127.0.0.1 only.
  const child = spawn(process.execPath, ["--import", "tsx", join(ROOT, "provisioner/main.ts")], { cwd: ROOT, env, detached: true, stdio: ["ignore", fd, fd] });
  closeSync(fd);
  const pid = child.pid as number;
  const url = `http://127.0.0.1:${port}`;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  const log = (lines = 40) => tail(opts.logPath, lines);

  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: { Authorization: `Bearer ${CRASH_API_KEY}`, ...(body === undefined ? {} : { "Content-Type": "application/json" }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      parsed = { text };
    }
    return { status: res.status, body: parsed };
  };

  const deadline = Date.now() + (opts.bootTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`provisioner exited (${child.exitCode ?? child.signalCode}); log tail:\n${log()}`);
    const ok = await fetch(`${url}/healthz`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > deadline) throw new Error(`provisioner not listening after ${(opts.bootTimeoutMs ?? 60_000) / 1000} s; log tail:\n${log()}`);
    await new Promise((r) => setTimeout(r, 200));
  }

  const killGroup = async () => {
    try {
      process.kill(-pid, "SIGKILL");
    } catch {
      // group already empty
    }
    await exited;
    const until = Date.now() + 10_000;
    while (groupMembers(pid).length > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  };
  return {
    url,
    pid,
    child,
    logPath: opts.logPath,
    log,
    request,
    async killNode() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    killGroup,
    async stop(graceMs = 30_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => void killGroup(), graceMs);
        await exited;
        clearTimeout(timer);
      }
      if (groupMembers(pid).length > 0) await killGroup();
    },
  };
}

/** The data dir's job records, by job id. */
export function jobRecords(dataDir: string): Record<string, Record<string, unknown>> {
  const dir = join(dataDir, "jobs");
  if (!existsSync(dir)) return {};
  return Object.fromEntries(
    readdirSync(dir)
      .filter((f) => f.endsWith(".json"))
      .map((f) => [f.slice(0, -5), JSON.parse(readFileSync(join(dir, f), "utf8")) as Record<string, unknown>]),
  );
}
