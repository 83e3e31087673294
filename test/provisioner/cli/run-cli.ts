/**
 * Runs the `mindroom` CLI as a child process, through its bin launcher (provisioner/cli/bin.js),
 * the way an operator does, in an empty temporary directory (so no stray .env is read) with only
 * the variables given: the API URL and key of a harness unless a test drops them.
 */
import { execFile } from "node:child_process";
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
}

/** Wall time of every run, per command, for the startup figures. */
export const timings: { args: string; ms: number }[] = [];

const emptyDir = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
after(() => rmSync(emptyDir, { recursive: true, force: true }));

export function mindroom(h: Harness | { url: string } | undefined, args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: emptyDir, MINDROOM_POLL_INTERVAL_MS: "20" };
  if (h) Object.assign(env, { MINDROOM_API_URL: h.url, MINDROOM_API_KEY: API_KEY });
  for (const [k, v] of Object.entries(opts.env ?? {})) {
    if (v === null) delete env[k];
    else env[k] = v;
  }
  const started = Date.now();
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? emptyDir, env, timeout: 30_000 }, (err, stdout, stderr) => {
      const ms = Date.now() - started;
      timings.push({ args: args.join(" "), ms });
      const code = err ? (typeof (err as { code?: unknown }).code === "number" ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, stdout, stderr, ms });
    });
    child.stdin?.end(opts.input ?? "");
  });
}
