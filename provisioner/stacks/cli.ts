/**
 * Finds the Pulumi CLI once at boot. The Automation API cannot work without it, and constructing a
 * workspace without a ready `PulumiCommand` would spawn `pulumi version` on every operation.
 */
import { PulumiCommand } from "@pulumi/pulumi/automation";
import { parse as parseSemver, SemVer } from "semver";
import { execFile, spawn } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { PROVISIONER_SECRET_VARS } from "./environment";

/** The subset of `PulumiCommand` the SDK uses; tests pass a fake with the same shape (pulumi.md §2.9). */
export interface PulumiCommandLike {
  readonly command: string;
  readonly version: PulumiCommand["version"];
  run(
    args: string[],
    cwd: string,
    env: { [key: string]: string },
    onOutput?: (data: string) => void,
    onError?: (data: string) => void,
    signal?: AbortSignal,
  ): Promise<unknown>;
  /**
   * Test seam for {@link runWithInput}: a fake answers a command that reads stdin (the SDK's `run`
   * cannot feed one). The real CLI has none; the adapter then spawns `command` itself.
   */
  runWithInput?(args: string[], cwd: string, env: { [key: string]: string }, input: string, signal?: AbortSignal): Promise<unknown>;
}

/** The CLI is missing or unusable; `message` is one line with the fix (HTTP 503 material). */
export class PulumiCliUnavailable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "PulumiCliUnavailable";
  }
}

export const CLI_NOT_FOUND =
  "Pulumi CLI not found: install it (https://www.pulumi.com/docs/install/) or set PULUMI_CLI_PATH";

/**
 * `PulumiCommand.get({root})` runs `<root>/bin/pulumi`, so PULUMI_CLI_PATH may name the binary
 * (`…/bin/pulumi`), its `bin` folder, or the installation root that contains `bin/pulumi`.
 */
export function cliRoot(cliPath: string): string {
  const path = resolve(cliPath);
  const isDir = existsSync(path) && statSync(path).isDirectory();
  if (isDir && existsSync(join(path, "bin", "pulumi"))) return path;
  if (isDir && basename(path) === "bin" && existsSync(join(path, "pulumi"))) return dirname(path);
  if (!isDir && basename(path) === "pulumi" && basename(dirname(path)) === "bin" && existsSync(path)) {
    return dirname(dirname(path));
  }
  throw new PulumiCliUnavailable(
    `PULUMI_CLI_PATH=${cliPath} is not a Pulumi CLI: point it at <root>/bin/pulumi, its bin folder or <root>`,
  );
}

/**
 * Resolves the CLI from PULUMI_CLI_PATH or PATH; rejects with a one-line `PulumiCliUnavailable`.
 * `pulumi version` is run here, not by `PulumiCommand.get`: the SDK spawns it with the whole
 * parent environment, provisioner secrets included, and offers no way to pass another. Here it
 * gets the parent environment without those secrets (PROVISIONER_SECRET_VARS, deleted, so the
 * child does not even see them blank).
 */
export async function findPulumiCli(cliPath?: string): Promise<PulumiCommandLike> {
  const command = cliPath ? resolve(join(cliRoot(cliPath), "bin", "pulumi")) : "pulumi";
  let stdout: string;
  try {
    stdout = await new Promise<string>((done, fail) => {
      execFile(command, ["version"], { env: versionEnv(), encoding: "utf8", timeout: 60_000 }, (err, out, errOut) => {
        if (err) fail(Object.assign(err, { message: `${err.message}\n${errOut}` }));
        else done(out);
      });
    });
  } catch (err) {
    const text = String((err as Error).message ?? err);
    if ((err as NodeJS.ErrnoException).code === "ENOENT" || /ENOENT|not found/i.test(text)) throw new PulumiCliUnavailable(CLI_NOT_FOUND);
    const first = text.split("\n").find((line) => line.trim()) ?? "unusable";
    throw new PulumiCliUnavailable(`Pulumi CLI unusable: ${first.trim().slice(0, 200)}`);
  }
  const version = parseSemver(stdout.trim());
  // The SDK's own check (PulumiCommand.get): a CLI of a newer major version than the SDK is refused.
  if (version && version.major > 3) {
    throw new PulumiCliUnavailable(`Pulumi CLI ${version.toString()} is a newer major version than this provisioner's Automation SDK (v3) supports; install a 3.x CLI`);
  }
  // What PulumiCommand.get returns, built from the version read above; `run` is internal in the
  // typings but is what every workspace calls.
  const Ctor = PulumiCommand as unknown as new (command: string, version: SemVer | null) => PulumiCommandLike;
  return new Ctor(command, version);
}

/** The parent environment minus the provisioner's secrets, plus the SDK's update-check switch. */
function versionEnv(): NodeJS.ProcessEnv {
  const child: NodeJS.ProcessEnv = { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" };
  for (const name of PROVISIONER_SECRET_VARS) delete child[name];
  return child;
}

/**
 * The SDK refuses `destroy` and `refresh` of an inline program on CLIs older than 3.181 (no
 * `--client` there) with a plain Error, and needs a known version to pick the event transport.
 * `PulumiCommand.get` only demands 3.2, so the provisioner checks its own floor once, at boot.
 */
export const MIN_CLI_VERSION = new SemVer("3.181.0");

export function checkCliVersion(cli: PulumiCommandLike): void {
  const version = cli.version;
  if (!version) {
    throw new PulumiCliUnavailable("Pulumi CLI version unknown (`pulumi version` did not print a semver): install a released CLI");
  }
  if (version.compare(MIN_CLI_VERSION) < 0) {
    throw new PulumiCliUnavailable(
      `Pulumi CLI ${version.toString()} is too old: the provisioner needs ${MIN_CLI_VERSION.toString()} or newer (destroy and refresh of inline programs); install a newer CLI`,
    );
  }
}

/* eslint-disable @typescript-eslint/no-require-imports */
// The SDK's own result and error mapping (internal, but what `run` throws): StackNotFoundError,
// ConcurrentUpdateError, CommandError, so `mapStackError` treats this command like any other.
const { CommandResult } = require("@pulumi/pulumi/automation/cmd") as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: { exitCode?: number; signal?: string; code?: unknown }) => unknown;
};
const { createCommandError } = require("@pulumi/pulumi/automation/errors") as { createCommandError: (result: unknown) => Error };
/* eslint-enable @typescript-eslint/no-require-imports */

/**
 * Runs one CLI command that reads `input` on stdin (a secret that must never be in argv or in an
 * environment variable: the new passphrase of `stack change-secrets-provider`). The environment is
 * built as the SDK's `run` builds it: the parent's, then `env` (an undefined entry removes a
 * variable), the CLI's folder first on PATH, `PULUMI_AUTOMATION_API`, and `--non-interactive`.
 * Resolves with the CLI's stdout; a failure rejects with the SDK's error for the CLI's output
 * (StackNotFoundError, ConcurrentUpdateError or CommandError). `signal` sends SIGINT, as the SDK does.
 */
export async function runWithInput(cli: PulumiCommandLike, args: string[], cwd: string, env: Record<string, string | undefined>, input: string, signal?: AbortSignal): Promise<string> {
  const argv = args.includes("--non-interactive") ? [...args] : [...args, "--non-interactive"];
  const merged: Record<string, string | undefined> = { ...process.env, ...env, PULUMI_AUTOMATION_API: "true" };
  if (cli.command.startsWith("/")) merged.PATH = `${dirname(cli.command)}:${env.PATH ?? process.env.PATH ?? ""}`;
  const childEnv = Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
  if (cli.runWithInput) {
    const result = (await cli.runWithInput(argv, cwd, childEnv, input, signal)) as { stdout?: string } | undefined;
    return result?.stdout ?? "";
  }
  return new Promise<string>((resolveRun, reject) => {
    const child = spawn(cli.command, argv, { cwd, env: childEnv, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const abort = () => child.kill("SIGINT");
    signal?.addEventListener("abort", abort, { once: true });
    // A CLI that exits before reading stdin closes the pipe: EPIPE is its exit's business, not ours.
    child.stdin.on("error", () => undefined);
    child.stdin.end(`${input}\n`);
    child.on("error", (err: NodeJS.ErrnoException) => {
      signal?.removeEventListener("abort", abort);
      reject(createCommandError(new CommandResult(stdout, stderr, -2, { code: err.code })));
    });
    child.on("close", (code, killedBy) => {
      signal?.removeEventListener("abort", abort);
      if (code === 0) return resolveRun(stdout);
      reject(createCommandError(new CommandResult(stdout, stderr, code ?? -2, { exitCode: code ?? undefined, signal: killedBy ?? undefined })));
    });
  });
}
