/**
 * A fake Pulumi CLI *binary* (`<root>/bin/pulumi`) for the few tests that must go through the SDK's
 * real `PulumiCommand.get` and `run` (execa): the error shape a failing CLI really produces
 * (code -2, the CLI's output wrapped in execa's message), SIGINT on abort, and the environment a
 * child process really inherits. `FakePulumi` (fake-cli.ts) replaces `run` and sees none of that.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** How the binary answers argv starting with `prefix` (argv joined with spaces). */
export interface BinRule {
  prefix: string;
  stdout?: string;
  stderr?: string;
  code?: number;
  /** Kill itself with this signal instead of exiting (e.g. SIGKILL, as the OOM killer does). */
  killWith?: string;
  /** Wait for SIGINT (what the SDK sends on abort), then print `stderr` and exit with `code`. */
  awaitSigint?: boolean;
  /** Read stdin to its end first and record it (`stdin()`); only for commands that are fed one. */
  readStdin?: boolean;
}

export interface BinCall {
  args: string[];
  /** The variables the child saw that matter here: PULUMI_* and the provisioner's secrets. */
  env: Record<string, string>;
}

const SCRIPT = `#!/usr/bin/env node
const fs = require("fs");
const path = require("path");
const root = path.dirname(__dirname);
const args = process.argv.slice(2);
const joined = args.join(" ");
const env = {};
for (const [k, v] of Object.entries(process.env)) {
  if (/^PULUMI_|_KEY$|_SECRET$|_TOKEN$/.test(k)) env[k] = v;
}
fs.appendFileSync(path.join(root, "calls.jsonl"), JSON.stringify({ args, env }) + "\\n");
const plan = JSON.parse(fs.readFileSync(path.join(root, "plan.json"), "utf8"));
if (args[0] === "version") { process.stdout.write(plan.version + "\\n"); process.exit(0); }
const rule = plan.rules.find((r) => joined.startsWith(r.prefix));
const finish = (r) => {
  if (r.stdout) process.stdout.write(r.stdout);
  if (r.stderr) process.stderr.write(r.stderr);
  process.exitCode = r.code || 0;
};
if (rule && rule.readStdin) fs.appendFileSync(path.join(root, "stdin.jsonl"), JSON.stringify(fs.readFileSync(0, "utf8")) + "\\n");
if (rule && rule.killWith) process.kill(process.pid, rule.killWith);
else if (rule && rule.awaitSigint) {
  const timer = setInterval(() => {}, 1000);
  process.on("SIGINT", () => { clearInterval(timer); finish(rule); });
  fs.writeFileSync(path.join(root, "waiting"), joined);
} else if (rule) finish(rule);
else {
  const defaults = { "stack output": "{}", "stack history": "[]", "stack ls": "[]", "stack tag ls": "{}" };
  const key = Object.keys(defaults).find((k) => joined.startsWith(k));
  process.stdout.write(key ? defaults[key] : "");
}
`;

export class FakePulumiBinary {
  readonly root: string;
  readonly binary: string;

  constructor(
    version = "v3.220.0",
    readonly rules: BinRule[] = [],
  ) {
    this.root = mkdtempSync(join(tmpdir(), "fake-pulumi-bin-"));
    mkdirSync(join(this.root, "bin"));
    this.binary = join(this.root, "bin", "pulumi");
    writeFileSync(this.binary, SCRIPT);
    chmodSync(this.binary, 0o755);
    writeFileSync(join(this.root, "calls.jsonl"), "");
    this.plan(version);
  }

  /** Rewrites the plan; rules are matched first to last. */
  plan(version = "v3.220.0", rules: BinRule[] = this.rules): void {
    writeFileSync(join(this.root, "plan.json"), JSON.stringify({ version, rules }));
  }

  calls(): BinCall[] {
    return readFileSync(join(this.root, "calls.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => JSON.parse(line) as BinCall);
  }

  /** What each `readStdin` command read, in order. */
  stdin(): string[] {
    try {
      return readFileSync(join(this.root, "stdin.jsonl"), "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as string);
    } catch {
      return [];
    }
  }

  /** Argv of every call but `version`, without the SDK's trailing --non-interactive. */
  commands(): string[] {
    return this.calls()
      .filter((c) => c.args[0] !== "version")
      .map((c) => c.args.filter((a) => a !== "--non-interactive").join(" "));
  }

  /** Resolves once a rule with `awaitSigint` is waiting for its signal. */
  async waiting(): Promise<void> {
    for (let i = 0; i < 200; i++) {
      try {
        readFileSync(join(this.root, "waiting"));
        return;
      } catch {
        await new Promise((r) => setTimeout(r, 25));
      }
    }
    throw new Error("fake pulumi binary never started waiting for SIGINT");
  }

  cleanup(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
