/**
 * Runs the real Pulumi CLI (tools/engine) on a project copied into a temp dir, with its own
 * PULUMI_HOME and `file://` backend, and the engine's bin dir first on PATH so the CLI finds the
 * language host and the kubernetes provider there. Plugin downloads are off: a missing plugin
 * fails the run instead of reaching for the network.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { cpSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { engineBinary, engineBinDir } from "./engine";

export const ROOT = join(__dirname, "../../..");

/** CLIs still running when the test process exits (a test timed out) die with it. */
const running = new Set<ChildProcess>();
process.on("exit", () => running.forEach((c) => c.kill("SIGKILL")));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliProject {
  dir: string;
  env: NodeJS.ProcessEnv;
  /** `pulumi <args>`; `input` goes to stdin (how secrets are set: never on argv). */
  run(args: string[], input?: string): Promise<CliResult>;
  /** Like run, but throws with the output's tail when the CLI fails. */
  ok(args: string[], input?: string): Promise<CliResult>;
  remove(): void;
}

/**
 * A scratch copy of a project: `files` are copied from the repo (Pulumi.yaml, ...), `links` are
 * symlinked (sources, node_modules; both map name in the copy → path in the repo), `stackConfig` becomes Pulumi.<stack>.yaml.
 */
export function cliProject(opts: { files: Record<string, string>; links: Record<string, string>; stack: string; stackConfig: Record<string, unknown> }): CliProject {
  const base = mkdtempSync(join(tmpdir(), "mindroom-cli-"));
  const dir = join(base, "project");
  mkdirSync(dir);
  for (const [to, from] of Object.entries(opts.files)) cpSync(join(ROOT, from), join(dir, to));
  for (const [to, from] of Object.entries(opts.links)) symlinkSync(join(ROOT, from), join(dir, to));
  writeFileSync(join(dir, `Pulumi.${opts.stack}.yaml`), stringify({ config: opts.stackConfig }));
  mkdirSync(join(base, "state"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${engineBinDir()}:${process.env.PATH}`,
    PULUMI_HOME: join(base, "home"),
    PULUMI_BACKEND_URL: `file://${join(base, "state")}`,
    PULUMI_CONFIG_PASSPHRASE: "engine-test-passphrase",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_STACK: opts.stack,
  };
  const pulumi = engineBinary("pulumi");
  const run = (args: string[], input?: string) =>
    new Promise<CliResult>((resolve, reject) => {
      const child = spawn(pulumi, [...args, "--non-interactive"], { cwd: dir, env, stdio: ["pipe", "pipe", "pipe"] });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      running.add(child);
      child.on("error", reject);
      child.on("close", (code) => {
        running.delete(child);
        resolve({ code: code ?? -1, stdout, stderr });
      });
      child.stdin.end(input ?? "");
    });
  return {
    dir,
    env,
    run,
    async ok(args, input) {
      const res = await run(args, input);
      if (res.code !== 0) throw new Error(`pulumi ${args.join(" ")} exited ${res.code}:\n${(res.stdout + res.stderr).slice(-4000)}`);
      return res;
    },
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}
