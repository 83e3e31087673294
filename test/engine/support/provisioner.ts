/**
 * The REAL provisioner (`tsx provisioner/main.ts`, what `npm start` runs) as a child process on
 * 127.0.0.1 for the engine tests: a random PORT, a temp MINDROOM_DATA_DIR (default `file://`
 * backend and generated passphrase inside it), KUBECONFIG of the test control plane, and the
 * engine's bin dir first on PATH, so the real Pulumi CLI, language host and kubernetes provider
 * are found there (plugin downloads off). Its log goes to a file outside the data dir. restart()
 * boots a new process on the same data dir (boot recovery, id high-water mark, stacks).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { provisionerEnv } from "./provisioner-env";
import { freePort, stopChild, tail, waitUntil } from "./process";
import { ROOT } from "./pulumi-cli";

export const ENGINE_API_KEY = "engine-provisioner-api-key-Kp4Qw8Zr2Lm6Tx9V";
export const ENGINE_ROOT_SECRET = "engine-credentials-root-Hd3Nf7Jc1Ys5Wb0E";
export const ENGINE_ENVIRONMENT = "engine";

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export interface EngineProvisioner {
  url: string;
  dataDir: string;
  logPath: string;
  pid(): number;
  /** Every HTTP exchange made through `request`, for "nothing leaked" checks. */
  exchanges: Exchange[];
  /** The provisioner's stdout and stderr so far, across restarts. */
  logText(): string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Exchange>;
  /** Polls `GET /system/jobs/{id}` until the job succeeded or failed. */
  settle(jobId: string, timeoutMs?: number): Promise<Exchange>;
  /** Sends `signal` to the process and waits for it to exit. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** A new process on the same data dir (and a new port); waits for /readyz. */
  restart(): Promise<void>;
  /** SIGTERM, then removes the data dir and the log unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

export interface EngineProvisionerOptions {
  kubeconfigPath: string;
  /** Extra or overriding environment (e.g. SUPABASE_URL of a fake PostgREST). */
  env?: Record<string, string>;
  bootTimeoutMs?: number;
  /**
   * Seeds the id high-water mark (`<data dir>/instance-ids.json`), so new tenants get ids above it:
   * engine test files share one control plane, and two provisioners both allocating id 1 would meet
   * on `mindroom-api-keys-1`.
   */
  lastInstanceId?: number;
}

export async function startEngineProvisioner(opts: EngineProvisionerOptions): Promise<EngineProvisioner> {
  const dataDir = mkdtempSync(join(tmpdir(), "mindroom-engine-provisioner-"));
  const logDir = mkdtempSync(join(tmpdir(), "mindroom-engine-provisioner-log-"));
  const logPath = join(logDir, "provisioner.log");
  if (opts.lastInstanceId !== undefined) writeFileSync(join(dataDir, "instance-ids.json"), JSON.stringify({ last_instance_id: opts.lastInstanceId }));
  const tsx = join(ROOT, "node_modules/.bin/tsx");
  const exchanges: Exchange[] = [];
  let child: ChildProcess | undefined;
  let url = "";
  let client = 0;

  const boot = async (): Promise<void> => {
    const port = await freePort();
    const env = provisionerEnv({
      port,
      dataDir,
      kubeconfigPath: opts.kubeconfigPath,
      environment: ENGINE_ENVIRONMENT,
      apiKey: ENGINE_API_KEY,
      rootSecret: ENGINE_ROOT_SECRET,
      overrides: {
        PROVISIONER_READINESS_TIMEOUT_SECONDS: "1",
        PROVISIONER_READINESS_BACKGROUND_SECONDS: "1",
        PROVISIONER_UNINSTALL_WAIT_SECONDS: "240",
        ...opts.env,
      },
    });
    const fd = openSync(logPath, "a");
    child = spawn(tsx, [join(ROOT, "provisioner/main.ts")], { cwd: ROOT, env, stdio: ["ignore", fd, fd] });
    closeSync(fd);
    url = `http://127.0.0.1:${port}`;
    const running = child;
    await waitUntil("provisioner", running, logPath, opts.bootTimeoutMs ?? 120_000, async () => {
      const health = await fetch(`${url}/healthz`);
      if (health.status !== 200) return false;
      return (await fetch(`${url}/readyz`)).status === 200;
    });
  };

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Exchange> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${ENGINE_API_KEY}`,
        // A distinct rate-limit bucket per request: the limits (2–10/min) are not under test here.
        "X-Real-IP": `10.77.${++client % 250}.${Math.floor(client / 250) % 250}`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = {};
    try {
      parsed = JSON.parse(text);
    } catch {
      // non-JSON bodies stay in `text`
    }
    const exchange = { method, path, status: res.status, headers: Object.fromEntries(res.headers), text, body: parsed };
    exchanges.push(exchange);
    return exchange;
  };

  await boot();
  return {
    get url() {
      return url;
    },
    dataDir,
    logPath,
    pid: () => child?.pid ?? -1,
    exchanges,
    logText: () => {
      try {
        return readFileSync(logPath, "utf8");
      } catch {
        return "";
      }
    },
    request,
    async settle(jobId, timeoutMs = 600_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await request("GET", `/system/jobs/${jobId}`);
        if (res.body.status === "succeeded" || res.body.status === "failed") return res;
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish in ${timeoutMs / 1000} s: ${res.text}\nlog tail:\n${tail(logPath, 30)}`);
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async kill(signal) {
      const running = child;
      if (!running || running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise((r) => running.once("exit", r));
      running.kill(signal);
      await exited;
    },
    async restart() {
      if (child) await stopChild(child);
      await boot();
    },
    async stop(stopOpts = {}) {
      if (child) await stopChild(child);
      if (!stopOpts.keepData) {
        rmSync(dataDir, { recursive: true, force: true });
        rmSync(logDir, { recursive: true, force: true });
      }
    },
  };
}

/** Every file below `dir` with its content as text (for "no secret on disk" checks). */
export function filesBelow(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    const st = statSync(path, { throwIfNoEntry: false });
    if (!st) return [];
    if (st.isDirectory()) return filesBelow(path);
    if (!st.isFile()) return [];
    return [{ path, text: readFileSync(path, "latin1") }];
  });
}
