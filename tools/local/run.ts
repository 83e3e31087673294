/**
 * Running the external programs of `npm run local:*` (kind, k3d, kubectl, pulumi): PATH lookup,
 * spawning without a shell, and the two failures the CLI tells apart by exit code. Each command is
 * echoed before it runs; secrets are never on a command line (they go over stdin or the
 * environment), so echoing argv is safe.
 */
import { spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { basename, delimiter, join } from "node:path";

/** A program or setting the command needs is missing: exit code 2, one line naming the fix. */
export class MissingPrerequisite extends Error {
  readonly exitCode = 2;
}

/** A program ran and failed: exit code 1 (its own output is above the message). */
export class CommandFailed extends Error {
  readonly exitCode = 1;
}

/** The absolute path of an executable `name` on `path` (a PATH value), or undefined. */
export function which(name: string, path: string | undefined): string | undefined {
  for (const dir of (path ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to the program's stdin (how secrets are handed over), then closed. */
  input?: string;
  /** `inherit`: the program's output goes straight to ours (long runs: cluster creation, pulumi up). Default: captured. */
  output?: "capture" | "inherit";
  /** Print the command line before running it (default true). */
  echo?: boolean;
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(bin: string, args: string[], o: RunOptions): Promise<RunResult> {
  if (o.echo !== false) process.stdout.write(`› ${basename(bin)} ${args.join(" ")}\n`);
  return new Promise((resolve, reject) => {
    const inherit = o.output === "inherit";
    const child = spawn(bin, args, { env: o.env, cwd: o.cwd, stdio: ["pipe", inherit ? "inherit" : "pipe", inherit ? "inherit" : "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout?.on("data", (d: Buffer) => (stdout += String(d)));
    child.stderr?.on("data", (d: Buffer) => (stderr += String(d)));
    child.on("error", (err) => reject(new CommandFailed(`${basename(bin)} could not be started: ${err.message}`)));
    child.on("close", (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
    child.stdin!.on("error", () => undefined); // a program that exits without reading stdin
    child.stdin!.end(o.input ?? "");
  });
}

/** `run`, failing with CommandFailed (the last line of its stderr included) unless it exits 0. */
export async function runOk(bin: string, args: string[], o: RunOptions): Promise<RunResult> {
  const res = await run(bin, args, o);
  if (res.code !== 0) {
    const last = res.stderr.trim().split("\n").pop()?.trim();
    const words = args.slice(0, Math.max(1, args.findIndex((a) => a.startsWith("-")))).slice(0, 3);
    throw new CommandFailed(`${[basename(bin), ...words].join(" ")} failed (exit ${res.code})${last ? `: ${last}` : ""}`);
  }
  return res;
}
