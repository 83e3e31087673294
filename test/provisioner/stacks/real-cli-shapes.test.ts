/**
 * The adapter over the SDK's real `PulumiCommand` (execa) and a fake CLI binary: what a real CLI
 * process produces that an in-process fake `run` cannot show.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { EngineError, StackBusy, StackNotFound, type TenantSpec } from "../../../provisioner/ports";
import { createTenantStacks, type TenantStacksOptions } from "../../../provisioner/stacks";
import { FakePulumiBinary, type BinRule } from "./fake-bin";

const SECRET = "sk-or-v1-very-secret-openrouter-key-0123456789";

function spec(id = "42"): TenantSpec {
  return {
    instanceId: id,
    values: { customer: id, openrouter_key: SECRET },
    tags: { customer: id, account: "acc-1", tier: "pro", desiredState: "running" },
  };
}

describe("provisioner/stacks: against the SDK's real PulumiCommand and a fake CLI binary", function () {
  this.timeout(30_000);
  let dataDir: string;
  let bin: FakePulumiBinary;

  const make = (rules: BinRule[] = [], extra: Partial<TenantStacksOptions> = {}) => {
    bin.plan("v3.220.0", rules);
    return createTenantStacks({
      environment: "staging",
      dataDir,
      pulumiCliPath: bin.binary,
      env: {},
      kube: { mode: "in-cluster" },
      program: () => async () => ({}),
      ...extra,
    });
  };

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stacks-realcli-"));
    bin = new FakePulumiBinary();
  });
  afterEach(() => {
    rmSync(dataDir, { recursive: true, force: true });
    bin.cleanup();
  });

  it("PULUMI_CLI_PATH=<root>/bin/pulumi: `pulumi version` runs once at boot, every operation reuses that binary", async () => {
    const stacks = await make();
    await stacks.up(spec());
    await stacks.list();
    const calls = bin.calls();
    expect(calls.filter((c) => c.args[0] === "version")).to.have.length(1);
    expect(bin.commands()).to.include("stack ls --json");
    expect(bin.commands().find((c) => c.startsWith("up "))).to.match(/--client=127\.0\.0\.1:\d+ --exec-kind auto\.inline --event-log tcp:\/\/127\.0\.0\.1:\d+ --stack staging-42$/);
  });

  it("the boot-time `pulumi version` runs without the provisioner's secrets in its environment", async () => {
    const secrets = {
      PROVISIONER_API_KEY: "boot-api-key-value-0123456789",
      INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: "boot-root-secret-value-0123456789",
      SUPABASE_SERVICE_KEY: "boot-service-key-value-0123456789",
    };
    const saved = Object.fromEntries(Object.keys(secrets).map((k) => [k, process.env[k]]));
    Object.assign(process.env, secrets);
    try {
      const stacks = await make([], { env: process.env });
      await stacks.list();
      const calls = bin.calls();
      const version = calls.filter((c) => c.args[0] === "version");
      expect(version).to.have.length(1);
      for (const call of calls) {
        for (const [name, value] of Object.entries(secrets)) {
          expect(call.env[name] ?? "", `${call.args.join(" ")} saw ${name}`).not.to.equal(value);
        }
      }
    } finally {
      for (const [key, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it("maps failures in the shape a real CLI produces them (code -2, output inside execa's message)", async () => {
    const notFound = "error: no stack named 'staging-7' found\n";
    let stacks = await make([
      { prefix: "stack select --stack staging-7", stderr: notFound, code: 255 },
      { prefix: "stack output --json --stack staging-7", stderr: notFound, code: 255 },
      { prefix: "stack tag ls --json --stack staging-7", stderr: notFound, code: 255 },
    ]);
    expect(await stacks.outputs("7").catch((e: unknown) => e)).to.be.instanceOf(StackNotFound);
    expect(await stacks.setDesiredState("7", "stopped").catch((e: unknown) => e)).to.be.instanceOf(StackNotFound);

    const failingUp = async (rule: Omit<BinRule, "prefix">) => {
      stacks = await make([{ prefix: "up ", ...rule }]);
      return (await stacks.up(spec()).then(() => new Error("up succeeded"), (e: unknown) => e)) as Error;
    };
    const diyLock = "error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`.\n";
    expect(await failingUp({ stderr: diyLock, code: 255 })).to.be.instanceOf(StackBusy);
    const cloud409 = "error: [409] Conflict: Another update is currently in progress.\n";
    expect(await failingUp({ stderr: cloud409, code: 255 })).to.be.instanceOf(StackBusy);

    let err = await failingUp({ stdout: `Updating (staging-42)\n  + 3 to create ${SECRET}\n`, stderr: `error: update failed: token=${SECRET}\n`, code: 255 });
    expect(err).to.be.instanceOf(EngineError);
    expect(err.message).to.equal("Tenant stack update of instance 42 failed: update failed: token=[REDACTED]");

    // No `error:` line: the reason is how the process ended, never "interrupted" for a run nobody aborted.
    err = await failingUp({ stderr: "panic: runtime error: invalid memory address\n", code: 2 });
    expect(err.message).to.equal("Tenant stack update of instance 42 failed: the Pulumi CLI exited with code 2");
    err = await failingUp({ killWith: "SIGKILL" });
    expect(err.message).to.equal("Tenant stack update of instance 42 failed: the Pulumi CLI was killed by SIGKILL (out of memory?)");
  });

  it("an engine failure carries the engine's diagnostic from the Diagnostics section, redacted and on one line, not just 'update failed'", async () => {
    const stdout = [
      "Updating (staging-42):",
      " +  kubernetes:core/v1:Secret mindroom-api-keys-42 creating (0s)",
      " +  kubernetes:core/v1:Secret mindroom-api-keys-42 creating failed error: secrets \"mindroom-api-keys-42\" is forbidden: token=" + SECRET,
      "Diagnostics:",
      "  kubernetes:core/v1:Secret (mindroom-api-keys-42):",
      `    error: resource mindroom-api-keys-42 was not created: secrets "mindroom-api-keys-42" is forbidden: token=${SECRET}`,
      "    with a second line of detail",
      "",
      "  pulumi:pulumi:Stack (mindroom-tenant-staging-42):",
      "    error: update failed",
      "",
      "Resources:",
      "    1 unchanged",
      "",
    ].join("\n");
    const stacks = await make([{ prefix: "up ", stdout, stderr: "error: update failed\n", code: 255 }]);
    const err = (await stacks.up(spec()).then(() => new Error("up succeeded"), (e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(EngineError);
    expect(err.message).to.not.include(SECRET);
    expect(err.message).to.not.include("\n");
    expect(err.message.length).to.be.at.most(300);
    expect(err.message).to.equal(
      'Tenant stack update of instance 42 failed: kubernetes:core/v1:Secret (mindroom-api-keys-42): resource mindroom-api-keys-42 was not created: secrets "mindroom-api-keys-42" is forbidden: token=[REDACTED]',
    );
  });

  it("an aborted up delivers SIGINT to the CLI and fails as cancelled", async () => {
    const stacks = await make([{ prefix: "up ", awaitSigint: true, stderr: "error: update canceled\n", code: 255 }]);
    const controller = new AbortController();
    const running = stacks.up(spec(), { signal: controller.signal }).then(() => new Error("up succeeded"), (e: unknown) => e as Error);
    await bin.waiting();
    controller.abort();
    const err = await running;
    expect(err).to.be.instanceOf(EngineError);
    expect(err.message).to.equal("Tenant stack update of instance 42 failed: the operation was cancelled (timeout or shutdown)");
  });

  it("the CLI sees only the passphrase source the adapter chose, even when the parent environment has the other one", async () => {
    const saved = { value: process.env.PULUMI_CONFIG_PASSPHRASE, file: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
    // An empty PULUMI_CONFIG_PASSPHRASE still wins over PULUMI_CONFIG_PASSPHRASE_FILE in the CLI (os.LookupEnv).
    process.env.PULUMI_CONFIG_PASSPHRASE = "";
    process.env.PULUMI_CONFIG_PASSPHRASE_FILE = "/somewhere/else";
    try {
      await (await make()).up(spec());
      const generated = join(dataDir, "passphrase");
      for (const call of bin.calls().filter((c) => c.args[0] !== "version")) {
        expect(call.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE");
        expect(call.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(generated);
      }
      expect(readFileSync(generated, "utf8").trim()).to.have.length.greaterThan(30);

      rmSync(join(bin.root, "calls.jsonl"));
      await (await make([], { passphrase: "explicit-passphrase" })).up(spec());
      for (const call of bin.calls().filter((c) => c.args[0] !== "version")) {
        expect(call.env.PULUMI_CONFIG_PASSPHRASE).to.equal("explicit-passphrase");
        expect(call.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE_FILE");
      }
    } finally {
      for (const [key, value] of [["PULUMI_CONFIG_PASSPHRASE", saved.value], ["PULUMI_CONFIG_PASSPHRASE_FILE", saved.file]] as const) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });
});
