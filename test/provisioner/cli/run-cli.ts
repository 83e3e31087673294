/**
 * Runs the `mindroom` CLI as a child process, through its bin launcher (provisioner/cli/bin.js),
 * the way an operator does, in an empty temporary directory (so no stray .env is read) with only
 * the variables given: the API URL and key of a harness unless a test drops them.
 */
import { execFile, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_KEY, type Harness } from "../http/harness";

export const BIN = join(__dirname, "../../../provisioner/cli/bin.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface CliOptions {
  /** Overrides/additions; a value of null removes the variable. */
  env?: Record<string, string | null>;
  cwd?: string;
  /** Written to stdin, which is then closed (stdin is a pipe, never a terminal). */
  input?: string;
  /** The run is killed after this long (default 30 s; the engine's jobs take longer). */
  timeoutMs?: number;
}

/** Wall time of every run, per command, for the startup figures. */
export const timings: { args: string; ms: number }[] = [];

const emptyDir = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
after(() => {
  rmSync(emptyDir, { recursive: true, force: true });
  const ms = timings.map((t) => t.ms).sort((a, b) => a - b);
  if (ms.length) console.log(`  mindroom CLI runs: ${ms.length}, wall time per run (startup + API calls + job waits): min ${ms[0]} ms, median ${ms[Math.floor(ms.length / 2)]} ms, max ${ms[ms.length - 1]} ms`);
});

export function mindroom(h: Harness | { url: string } | undefined, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: emptyDir, MINDROOM_POLL_INTERVAL_MS: "20" };
  if (h) Object.assign(env, { MINDROOM_API_URL: h.url, MINDROOM_API_KEY: API_KEY });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? emptyDir, env, timeout: opts.timeoutMs ?? 30_000 }, (err, stdout, stderr) => {
      const ms = Date.now() - started;
      timings.push({ args: args.join(" "), ms });
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr, ms });
    });
    child.stdin?.end(opts.input ?? "");
  });
}

/** Whether util-linux `script` is there to give the CLI a terminal (pseudo-TTY) on all three streams. */
export const HAVE_SCRIPT = (() => {
  try {
    return execFileSync("script", ["--version"], { encoding: "utf8" }).includes("util-linux");
  } catch {
    return false;
  }
})();

/**
 * Runs the CLI on a terminal through `script`: stdin, stdout and stderr are one pseudo-TTY, so the
 * output is both streams (with the terminal's echo of `input`). `input` is typed after `delayMs`.
 */
export function mindroomTty(h: Harness, args: string[], opts: { input?: string; delayMs?: number } = {}): Promise<{ code: number; output: string }> {
  const quoted = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, "'\\''")}'`).join(" ");
  const env = { PATH: process.env.PATH ?? "", HOME: emptyDir, TERM: "xterm", MINDROOM_API_URL: h.url, MINDROOM_API_KEY: API_KEY, MINDROOM_POLL_INTERVAL_MS: "50" };
  return new Promise((resolve) => {
    const child = spawn("script", ["-qfec", quoted, "/dev/null"], { cwd: emptyDir, env, stdio: ["pipe", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    if (opts.input !== undefined) setTimeout(() => child.stdin.write(opts.input), opts.delayMs ?? 800);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("close", (code) => {
      clearTimeout(timer);
      child.stdin.destroy();
      resolve({ code: code ?? -1, output });
    });
  });
}
