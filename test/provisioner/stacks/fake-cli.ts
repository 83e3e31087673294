/**
 * A fake Pulumi CLI for the Automation API (pulumi.md §2.9): records argv/cwd/env of every call and
 * answers the commands the SDK issues from an in-memory "backend". It never connects to the inline
 * program's language host, so tenant programs never run here.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { SemVer } from "semver";
import { stringify } from "yaml";
import type { PulumiCommandLike } from "../../../provisioner/stacks/cli";
import { newPassphraseState, opensState } from "../../../provisioner/stacks/passphrase";

/* eslint-disable @typescript-eslint/no-require-imports */
const { CommandResult } = require("@pulumi/pulumi/automation/cmd") as {
  CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => unknown;
};
const { createCommandError } = require("@pulumi/pulumi/automation/errors") as {
  createCommandError: (result: unknown) => Error;
};
// The SDK's own generated gRPC stubs: the CLI (> 3.205) streams engine events to the SDK with them.
const grpc = require("@grpc/grpc-js") as { credentials: { createInsecure(): unknown } };
const { EventsClient } = require("@pulumi/pulumi/proto/events_grpc_pb") as {
  EventsClient: new (address: string, credentials: unknown) => {
    streamEvents(done: (err: Error | null) => void): { write(request: unknown): void; end(): void };
    close(): void;
  };
};
const { EventRequest } = require("@pulumi/pulumi/proto/events_pb") as {
  EventRequest: new () => { setEvent(json: string): void };
};
/* eslint-enable @typescript-eslint/no-require-imports */

export interface Call {
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** What the command got on stdin (`runWithInput` only). */
  input?: string;
}

export interface FakeStack {
  tags: Record<string, string>;
  config: Record<string, string>;
  outputs: Record<string, { value: unknown; secret?: boolean }>;
  /** The checkpoint's passphrase state (`secrets_providers.state.salt`); unset: `stack export` shows none. */
  checkpointSalt?: string;
}

export function cliError(stderr: string, code = 255, stdout = ""): Error {
  return createCommandError(new CommandResult(stdout, stderr, code));
}

export class FakePulumi implements PulumiCommandLike {
  runWithInput?: PulumiCommandLike["runWithInput"];
  readonly command = "pulumi";
  readonly version: SemVer;
  readonly calls: Call[] = [];
  readonly stacks = new Map<string, FakeStack>();
  /** First matching prefix (joined argv) → error to throw instead of answering. */
  readonly failures: Array<{ prefix: string; error: Error; once?: boolean }> = [];
  /** Engine events of `up`: appended to the event log file (CLI ≤ 3.205) or streamed over gRPC (newer). */
  upEvents: object[] = [];
  /** Engine events of `preview`, sent the same way (e.g. fixtures/preview-events.json, captured from a real CLI). */
  previewEvents: object[] = [];
  history: object[] = [];
  /**
   * Runs after a call is recorded and before it is answered: a test holds a command open here
   * (a gate), fails it, or plays the engine (e.g. creates the tenant's objects in a fake cluster).
   */
  beforeAnswer?: (args: string[], cwd: string) => Promise<void> | void;

  constructor(version = "3.220.0") {
    this.version = new SemVer(version);
  }

  /** Argv of every call with the SDK's trailing --non-interactive removed, joined for easy matching. */
  commands(): string[] {
    return this.calls.map((c) => c.args.filter((a) => a !== "--non-interactive").join(" "));
  }

  fail(prefix: string, error: Error, once = false): void {
    this.failures.push({ prefix, error, once });
  }

  async run(args: string[], cwd: string, env: { [key: string]: string }): Promise<unknown> {
    if (!args.includes("--non-interactive")) args.push("--non-interactive");
    // As Node's spawn does, a variable set to undefined is not passed at all.
    const passed = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined));
    this.calls.push({ args: [...args], cwd, env: passed });
    const joined = args.join(" ");
    const failure = this.failures.find((f) => joined.startsWith(f.prefix));
    if (failure) {
      if (failure.once) this.failures.splice(this.failures.indexOf(failure), 1);
      throw failure.error;
    }
    await this.beforeAnswer?.(args, cwd);
    const ok = (stdout = "") => new CommandResult(stdout, "", 0);
    const flag = (name: string) => args[args.indexOf(name) + 1];
    const stackOf = (name: string) => {
      const stack = this.stacks.get(name);
      if (!stack) throw cliError(`error: no stack named '${name}' found`);
      return stack;
    };
    const [a, b, c] = args;
    if (a === "stack" && b === "select") return (stackOf(flag("--stack")), ok());
    if (a === "stack" && b === "init") {
      if (this.stacks.has(c)) throw cliError(`error: stack '${c}' already exists`);
      this.stacks.set(c, { tags: {}, config: {}, outputs: {} });
      writeFileSync(join(cwd, `Pulumi.${c}.yaml`), stringify({ encryptionsalt: "v1:c2FsdA==:v1:AAAA:BBBB" }));
      return ok();
    }
    if (a === "stack" && b === "ls") {
      return ok(JSON.stringify([...this.stacks.keys()].map((name) => ({ name, current: false, resourceCount: 12, lastUpdate: "2026-11-28T10:00:00.000Z" }))));
    }
    if (a === "stack" && b === "tag" && c === "ls") return ok(JSON.stringify(stackOf(flag("--stack")).tags));
    if (a === "stack" && b === "tag" && c === "set") return ((stackOf(flag("--stack")).tags[args[3]] = args[4]), ok());
    if (a === "stack" && b === "output") {
      const outs = stackOf(flag("--stack")).outputs;
      const shown = args.includes("--show-secrets");
      return ok(JSON.stringify(Object.fromEntries(Object.entries(outs).map(([k, o]) => [k, o.secret && !shown ? "[secret]" : o.value]))));
    }
    if (a === "stack" && b === "history") return ok(JSON.stringify(this.history));
    if (a === "stack" && b === "export") {
      if (args.includes("--show-secrets")) throw new Error("fake pulumi: stack export --show-secrets would put plaintext secrets in the provisioner");
      const salt = stackOf(flag("--stack")).checkpointSalt;
      return ok(JSON.stringify({ version: 3, deployment: { manifest: {}, ...(salt ? { secrets_providers: { type: "passphrase", state: { salt } } } : {}), resources: [] } }));
    }
    if (a === "stack" && b === "rm") return (this.stacks.delete(args[args.length - 2]), ok());
    if (a === "config" && b === "set-all") {
      const name = flag("--stack");
      const stack = stackOf(name);
      args.forEach((arg, i) => {
        if (args[i - 1] === "--plaintext" || args[i - 1] === "--secret") {
          const at = arg.indexOf("=");
          stack.config[arg.slice(0, at)] = args[i - 1] === "--secret" ? "v1:ENCRYPTED" : arg.slice(at + 1);
        }
      });
      const file = { encryptionsalt: "v1:c2FsdA==:v1:AAAA:BBBB", config: stack.config };
      writeFileSync(join(cwd, `Pulumi.${name}.yaml`), stringify(file));
      return ok();
    }
    if (a === "up" || a === "preview" || a === "destroy" || a === "refresh" || a === "cancel") {
      stackOf(flag("--stack"));
      const log = args.includes("--event-log") ? flag("--event-log") : undefined;
      const events = a === "up" ? this.upEvents : a === "preview" ? this.previewEvents : [];
      if (log && log.startsWith("tcp://") && events.length) {
        await streamEvents(log.slice("tcp://".length), events);
      } else if (log && events.length) {
        appendFileSync(log, events.map((e) => JSON.stringify(e)).join("\n") + "\n");
        // The SDK tails the file every 200 ms; give it time before the "process" exits.
        await new Promise((r) => setTimeout(r, 500));
      }
      return ok();
    }
    throw new Error(`fake pulumi: unexpected command ${joined}`);
  }
}

/**
 * Gives `cli` a passphrase-keeping backend for `stack change-secrets-provider passphrase` (what the
 * real CLI does, pkg/cmd/pulumi/stack/stack_change_secrets_provider.go): the old passphrase from
 * PULUMI_CONFIG_PASSPHRASE(_FILE) must open the checkpoint, the new one is read from stdin (one
 * trimmed line), and both the checkpoint and `Pulumi.<stack>.yaml` get a state for it.
 */
export function withPassphrases(cli: FakePulumi): FakePulumi {
  cli.runWithInput = async (args, cwd, env, input) => {
    if (!args.includes("--non-interactive")) args.push("--non-interactive");
    cli.calls.push({ args: [...args], cwd, env, input });
    const joined = args.join(" ");
    const failure = cli.failures.find((f) => joined.startsWith(f.prefix));
    if (failure) {
      if (failure.once) cli.failures.splice(cli.failures.indexOf(failure), 1);
      throw failure.error;
    }
    await cli.beforeAnswer?.(args, cwd);
    if (!joined.startsWith("stack change-secrets-provider passphrase")) throw new Error(`fake pulumi: unexpected stdin command ${joined}`);
    const name = args[args.indexOf("--stack") + 1];
    const stack = cli.stacks.get(name);
    if (!stack) throw cliError(`error: no stack named '${name}' found`);
    const old = env.PULUMI_CONFIG_PASSPHRASE ?? (env.PULUMI_CONFIG_PASSPHRASE_FILE ? readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8").trim() : undefined);
    const fresh = input.split("\n")[0].trim();
    const file = join(cwd, `Pulumi.${name}.yaml`);
    // As the CLI: the new salt lands in the stack config first, then the checkpoint is re-encrypted.
    const salt = await newPassphraseState(fresh);
    writeFileSync(file, stringify({ encryptionsalt: salt }));
    if (stack.checkpointSalt && (old === undefined || !(await opensState(old, stack.checkpointSalt)))) {
      throw cliError("error: constructing secrets manager: failed to decrypt: incorrect passphrase");
    }
    stack.checkpointSalt = salt;
    return new CommandResult("Migrating old configuration and state to new secrets provider\n", "", 0);
  };
  return cli;
}

/** A stack in `cli` whose checkpoint and stack config are encrypted with `passphrase` (as after a real `up`). */
export async function stackOnPassphrase(cli: FakePulumi, workDir: string, name: string, passphrase: string): Promise<void> {
  const salt = await newPassphraseState(passphrase);
  cli.stacks.set(name, { tags: {}, config: {}, outputs: {}, checkpointSalt: salt });
  writeFileSync(join(workDir, `Pulumi.${name}.yaml`), stringify({ encryptionsalt: salt }));
}

/** What the CLI does with `--event-log tcp://…`: one client stream of JSON events, closed before it exits. */
async function streamEvents(address: string, events: object[]): Promise<void> {
  const client = new EventsClient(address, grpc.credentials.createInsecure());
  try {
    await new Promise<void>((resolve, reject) => {
      const call = client.streamEvents((err) => (err ? reject(err) : resolve()));
      for (const event of events) {
        const request = new EventRequest();
        request.setEvent(JSON.stringify(event));
        call.write(request);
      }
      call.end();
    });
  } finally {
    client.close();
  }
}
