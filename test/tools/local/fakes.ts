/**
 * Fake `kind`, `k3d`, `kubectl`, `docker`, `podman` and `pulumi` executables in a temp dir, for
 * running tools/local/cli.ts as a child process with PATH = that dir only. Each fake appends its
 * argv, cwd, stdin and the environment variables that matter to `calls.jsonl`, and plays just
 * enough of its program: kind/k3d remember whether the cluster exists, pulumi whether the stack
 * exists and which secrets its stack file holds (written into the file as `config set` would).
 * `FAKE_FAIL=<name> <subcommand>` makes that call exit 1 with a message on stderr.
 */
import { spawn } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const ROOT = join(__dirname, "../../..");
export const CLI = join(ROOT, "tools/local/cli.ts");

export type FakeName = "kind" | "k3d" | "kubectl" | "docker" | "podman" | "pulumi";

export interface Call {
  name: FakeName;
  args: string[];
  cwd: string;
  stdin: string;
  env: { PULUMI_CONFIG_PASSPHRASE?: string; PULUMI_BACKEND_URL?: string; KIND_EXPERIMENTAL_PROVIDER?: string };
}

const SCRIPT = (yamlModule: string) => `
const fs = require("fs");
const path = require("path");
const name = path.basename(process.argv[1]);
const args = process.argv.slice(2);
const dir = process.env.FAKE_DIR;
let stdin = "";
try { stdin = fs.readFileSync(0, "utf8"); } catch {}
const env = {};
for (const k of ["PULUMI_CONFIG_PASSPHRASE", "PULUMI_BACKEND_URL", "KIND_EXPERIMENTAL_PROVIDER"]) if (process.env[k] !== undefined) env[k] = process.env[k];
fs.appendFileSync(path.join(dir, "calls.jsonl"), JSON.stringify({ name, args, cwd: process.cwd(), stdin, env }) + "\\n");
const words = args.filter((a) => !a.startsWith("-")).slice(0, 2).join(" ");
if (process.env.FAKE_FAIL === name + " " + words || process.env.FAKE_FAIL === name + " " + words.split(" ")[0]) {
  process.stderr.write(name + " " + words + ": simulated failure\\n");
  process.exit(1);
}
const flag = (f) => fs.existsSync(path.join(dir, f));
const set = (f, on) => (on ? fs.writeFileSync(path.join(dir, f), "") : fs.rmSync(path.join(dir, f), { force: true }));
if (name === "kind") {
  if (words === "get clusters") { if (flag("cluster")) console.log("mindroom"); }
  else if (words === "create cluster") { fs.writeFileSync(path.join(dir, "kind-config.yaml"), fs.readFileSync(args[args.indexOf("--config") + 1])); set("cluster", true); }
  else if (words === "delete cluster") set("cluster", false);
} else if (name === "k3d") {
  if (words === "cluster list") console.log(JSON.stringify(flag("cluster") ? [{ name: "mindroom" }] : []));
  else if (words === "cluster create") set("cluster", true);
  else if (words === "cluster delete") set("cluster", false);
} else if (name === "pulumi") {
  const { parse, stringify } = require(${JSON.stringify(yamlModule)});
  const file = path.join(process.cwd(), "Pulumi.local.yaml");
  if (words === "stack ls") console.log(JSON.stringify(flag("stack") ? [{ name: "local", current: true }] : []));
  else if (words === "stack select") {
    set("stack", true);
    const doc = parse(fs.readFileSync(file, "utf8"));
    doc.encryptionsalt = doc.encryptionsalt || "v1:fake-salt";
    fs.writeFileSync(file, stringify(doc));
  } else if (words === "config set") {
    const doc = parse(fs.readFileSync(file, "utf8"));
    doc.config["mindroom:" + args[args.indexOf("--secret") + 1]] = { secure: "v1:fake-" + stdin.length };
    fs.writeFileSync(file, stringify(doc));
  } else if (words === "stack output") console.log(JSON.stringify({ mode: "local", instancesNamespace: "mindroom-instances", platformUrls: { app: "https://app.mindroom.localhost", api: "https://api.mindroom.localhost", webhooks: "https://webhooks.mindroom.localhost" } }));
  else if (words === "stack rm") set("stack", false);
}
`;

export interface Fakes {
  /** Holds the fakes (the PATH of the child) and their state. */
  dir: string;
  /** MINDROOM_LOCAL_DIR of the child. */
  localDir: string;
  calls(): Call[];
  /** Runs the CLI as a child process; PATH is the fakes' dir only unless `env.PATH` says otherwise. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<{ code: number; stdout: string; stderr: string }>;
  remove(): void;
}

export function fakes(names: FakeName[]): Fakes {
  const base = mkdtempSync(join(tmpdir(), "local-cli-"));
  const dir = join(base, "bin");
  const localDir = join(base, "local");
  mkdirSync(dir);
  const script = `#!${process.execPath}\n${SCRIPT(require.resolve("yaml"))}`;
  for (const name of names) {
    writeFileSync(join(dir, name), script);
    chmodSync(join(dir, name), 0o755);
  }
  return {
    dir,
    localDir,
    calls: () =>
      existsSync(join(dir, "calls.jsonl"))
        ? readFileSync(join(dir, "calls.jsonl"), "utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as Call)
        : [],
    cli: (args, env = {}) =>
      new Promise((resolve, reject) => {
        const childEnv: Record<string, string> = { HOME: base, PATH: dir, FAKE_DIR: dir, MINDROOM_LOCAL_DIR: localDir, MINDROOM_ENGINE_BIN: join(base, "no-engine") };
        for (const [k, v] of Object.entries(env)) {
          if (v === undefined) delete childEnv[k];
          else childEnv[k] = v;
        }
        const child = spawn(process.execPath, ["--import", "tsx", CLI, ...args], { cwd: ROOT, env: childEnv, stdio: ["ignore", "pipe", "pipe"] });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d: Buffer) => (stdout += String(d)));
        child.stderr.on("data", (d: Buffer) => (stderr += String(d)));
        child.on("error", reject);
        child.on("close", (code) => resolve({ code: code ?? -1, stdout, stderr }));
      }),
    remove: () => rmSync(base, { recursive: true, force: true }),
  };
}

/** A call as one line, for order assertions: `kind get clusters`. */
export const line = (c: Call) => [c.name, ...c.args].join(" ");
