/**
 * `TenantStacks.changePassphrase` and the passphrase-aware `recover` over a fake CLI (docs/rekey.md):
 * the new passphrase reaches `stack change-secrets-provider` on stdin only, the old one as the CLI's
 * PULUMI_CONFIG_PASSPHRASE(_FILE); a stack already on the provisioner's passphrase is left alone;
 * half-moved stacks converge; failures are one redacted line. The last block spawns a fake CLI
 * binary to prove the stdin path of a real child process.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { SemVer } from "semver";
import { EngineError, StackNotFound, type ProgressEvent, type TenantStacks } from "../../../provisioner/ports";
import { createTenantStacks, type TenantStacksOptions } from "../../../provisioner/stacks";
import { runWithInput } from "../../../provisioner/stacks/cli";
import { newPassphraseState, opensState } from "../../../provisioner/stacks/passphrase";
import { cliError, FakePulumi, stackOnPassphrase, withPassphrases } from "./fake-cli";
import { FakePulumiBinary } from "./fake-bin";

const OLD = "old-root-passphrase-0123456789";
const NEW = "new-tenant-passphrase-9876543210";
const STACK = "staging-42";

describe("provisioner/stacks: changePassphrase (the tenant-stacks passphrase move, fake CLI)", function () {
  this.timeout(30_000);
  let dataDir: string;
  let cli: FakePulumi;
  let newFile: string;
  let oldFile: string;
  const workDir = () => join(dataDir, "workspaces", STACK);

  const make = (extra: Partial<TenantStacksOptions> = {}): Promise<TenantStacks> =>
    createTenantStacks({
      environment: "staging",
      dataDir,
      pulumiCommand: cli,
      env: { PULUMI_CONFIG_PASSPHRASE_FILE: newFile, PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: oldFile },
      kube: { mode: "in-cluster" },
      program: () => async () => ({}),
      ...extra,
    });
  const configSalt = () => (parse(readFileSync(join(workDir(), `Pulumi.${STACK}.yaml`), "utf8")) as { encryptionsalt: string }).encryptionsalt;
  const moveCalls = () => cli.calls.filter((c) => c.args[1] === "change-secrets-provider");

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "rekey-test-"));
    mkdirSync(join(dataDir, "workspaces", STACK), { recursive: true });
    newFile = join(dataDir, "new-passphrase");
    oldFile = join(dataDir, "old-passphrase");
    writeFileSync(newFile, `${NEW}\n`, { mode: 0o600 });
    writeFileSync(oldFile, `${OLD}\n`, { mode: 0o600 });
    cli = withPassphrases(new FakePulumi("3.248.0"));
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it("moves a stack on the previous passphrase: export (no --show-secrets) → change-secrets-provider with the new passphrase on stdin only → export again", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make();
    const progress: ProgressEvent[] = [];
    expect(await stacks.changePassphrase("42", { onProgress: (e) => progress.push(e) })).to.deep.equal({ status: "moved" });
    expect(cli.commands()).to.deep.equal([`stack export --stack ${STACK}`, `stack change-secrets-provider passphrase --stack ${STACK}`, `stack export --stack ${STACK}`]);
    const [move] = moveCalls();
    expect(move.input, "the new passphrase, on stdin").to.equal(NEW);
    expect(move.cwd).to.equal(workDir());
    // The old passphrase as the CLI reads an existing stack's: the file, and no value variable that would beat it.
    expect(move.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(oldFile);
    expect(move.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE");
    expect(move.env).not.to.have.property("PULUMI_TEST_PASSPHRASE");
    for (const call of cli.calls) {
      for (const secret of [NEW, OLD]) {
        expect(call.args.join(" "), "argv").not.to.include(secret);
        expect(JSON.stringify(call.env), "env").not.to.include(secret);
      }
    }
    expect(await opensState(NEW, cli.stacks.get(STACK)!.checkpointSalt!), "checkpoint").to.equal(true);
    expect(await opensState(NEW, configSalt()), "stack config").to.equal(true);
    expect(progress.map((e) => e.message)).to.deep.equal([`re-encrypting stack ${STACK} with the provisioner's passphrase`, `stack ${STACK} is on the provisioner's passphrase`]);
  });

  it("a stack already on the provisioner's passphrase is skipped: one `stack export`, no change, not a byte written", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, NEW);
    const before = { checkpoint: cli.stacks.get(STACK)!.checkpointSalt, config: readFileSync(join(workDir(), `Pulumi.${STACK}.yaml`), "utf8") };
    const stacks = await make();
    expect(await stacks.changePassphrase("42")).to.deep.equal({ status: "already" });
    expect(cli.commands()).to.deep.equal([`stack export --stack ${STACK}`]);
    expect({ checkpoint: cli.stacks.get(STACK)!.checkpointSalt, config: readFileSync(join(workDir(), `Pulumi.${STACK}.yaml`), "utf8") }).to.deep.equal(before);
  });

  it("a second run after a move is a no-op (idempotent)", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make();
    expect((await stacks.changePassphrase("42")).status).to.equal("moved");
    cli.calls.length = 0;
    expect((await stacks.changePassphrase("42")).status).to.equal("already");
    expect(moveCalls()).to.have.length(0);
  });

  it("a half-done move converges: stack config already new, checkpoint still old → moved with the previous passphrase as the old one", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    writeFileSync(join(workDir(), `Pulumi.${STACK}.yaml`), `encryptionsalt: ${await newPassphraseState(NEW)}\n`);
    const stacks = await make();
    expect((await stacks.changePassphrase("42")).status).to.equal("moved");
    expect(moveCalls()[0].env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(oldFile);
  });

  it("checkpoint already new but the stack config still old (a restored workDir) → moved with the provisioner's passphrase as the old one", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, NEW);
    writeFileSync(join(workDir(), `Pulumi.${STACK}.yaml`), `encryptionsalt: ${await newPassphraseState(OLD)}\n`);
    const stacks = await make();
    expect((await stacks.changePassphrase("42")).status).to.equal("moved");
    expect(moveCalls()[0].env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(newFile);
    expect(await opensState(NEW, configSalt())).to.equal(true);
  });

  it("passphrase values (not files) work too: the old one as PULUMI_CONFIG_PASSPHRASE, the new one still only on stdin", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make({ env: {}, passphrase: NEW, previousPassphrase: OLD });
    expect((await stacks.changePassphrase("42")).status).to.equal("moved");
    const [move] = moveCalls();
    expect(move.env.PULUMI_CONFIG_PASSPHRASE).to.equal(OLD);
    expect(move.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE_FILE");
    expect(move.input).to.equal(NEW);
    expect(JSON.stringify(move.env)).not.to.include(NEW);
  });

  it("a stack that opens with neither passphrase fails with one line naming the setting, and nothing is run", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, "some-third-passphrase");
    const stacks = await make();
    const err = await stacks.changePassphrase("42").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineError);
    expect((err as Error).message).to.match(/opens with neither the provisioner's passphrase nor the previous one .*set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE/);
    expect(moveCalls()).to.have.length(0);
  });

  it("without a previous passphrase, a stack on another one fails and says to set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: newFile } });
    const err = (await stacks.changePassphrase("42").catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(EngineError);
    expect(err.message).to.match(/does not open with the provisioner's passphrase and no previous one is set; set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE/);
  });

  it("a missing stack is StackNotFound; a KMS secrets provider is refused; a CLI failure is one line without either passphrase", async () => {
    const stacks = await make();
    expect(await stacks.changePassphrase("42").catch((e: unknown) => e)).to.be.instanceOf(StackNotFound);

    const kms = await make({ secretsProvider: "awskms://alias/tenants" });
    expect(((await kms.changePassphrase("42").catch((e: unknown) => e)) as Error).message).to.match(/use the secrets provider awskms:\/\/…, not a passphrase/);

    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    cli.fail("stack change-secrets-provider", cliError(`error: could not migrate: passphrase ${OLD} / ${NEW} rejected\nerror: decrypt ${NEW.slice(0, 10)}`));
    const err = (await stacks.changePassphrase("42").catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(EngineError);
    expect(err.message).to.match(/^Moving the tenant stack to the provisioner's passphrase of instance 42 failed: /);
    expect(err.message).not.to.include(OLD);
    expect(err.message).not.to.include(NEW);
    expect(err.message.split("\n")).to.have.length(1);
  });

  it("an unreadable previous passphrase file is one line naming the setting", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: newFile, PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: join(dataDir, "missing") } });
    expect(((await stacks.changePassphrase("42").catch((e: unknown) => e)) as Error).message).to.match(/^PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: cannot read .*missing \(ENOENT\)/);
  });

  it("recover() with a previous passphrase moves a stack still on it after the cancel and before the refresh (which needs ours)", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make();
    await stacks.recover("42");
    const cmds = cli.commands().map((c) => c.split(" --")[0]);
    expect(cmds).to.deep.equal(["stack select", "cancel", "stack export", "stack change-secrets-provider passphrase", "stack export", "refresh", "stack history"]);
  });

  it("recover() without a previous passphrase is as before: no export, no move", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, NEW);
    const stacks = await make({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: newFile } });
    await stacks.recover("42");
    expect(cli.commands().map((c) => c.split(" --")[0])).to.deep.equal(["stack select", "cancel", "refresh", "stack history"]);
  });

  it("the previous passphrase value never reaches a CLI process: PULUMI_PREVIOUS_CONFIG_PASSPHRASE is blanked", async () => {
    await stackOnPassphrase(cli, workDir(), STACK, OLD);
    const stacks = await make({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: newFile, PULUMI_PREVIOUS_CONFIG_PASSPHRASE: OLD } });
    await stacks.changePassphrase("42");
    for (const call of cli.calls.filter((c) => c.args[1] !== "change-secrets-provider")) expect(call.env.PULUMI_PREVIOUS_CONFIG_PASSPHRASE).to.equal("");
    expect(moveCalls()[0].env.PULUMI_CONFIG_PASSPHRASE).to.equal(OLD);
  });
});

describe("provisioner/stacks: runWithInput spawns the CLI with the secret on stdin (fake CLI binary)", function () {
  this.timeout(20_000);
  let bin: FakePulumiBinary;
  afterEach(() => bin.cleanup());
  const cliOf = (b: FakePulumiBinary) => ({ command: b.binary, version: new SemVer("3.248.0"), run: async () => undefined });

  it("stdin gets the passphrase and a newline; argv and env do not; the SDK's env rules apply", async () => {
    bin = new FakePulumiBinary("v3.248.0", [{ prefix: "stack change-secrets-provider", readStdin: true, stdout: "Migrating old configuration and state to new secrets provider\n" }]);
    const cwd = mkdtempSync(join(tmpdir(), "rekey-spawn-"));
    try {
      const out = await runWithInput(cliOf(bin), ["stack", "change-secrets-provider", "passphrase", "--stack", STACK], cwd, { PULUMI_CONFIG_PASSPHRASE_FILE: "/secrets/old", PULUMI_CONFIG_PASSPHRASE: undefined }, NEW);
      expect(out).to.include("Migrating old configuration");
      expect(bin.stdin()).to.deep.equal([`${NEW}\n`]);
      const [call] = bin.calls().filter((c) => c.args[0] === "stack");
      expect(call.args).to.deep.equal(["stack", "change-secrets-provider", "passphrase", "--stack", STACK, "--non-interactive"]);
      expect(call.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal("/secrets/old");
      expect(call.env.PULUMI_AUTOMATION_API).to.equal("true");
      expect(JSON.stringify(call)).not.to.include(NEW);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });

  it("a failing CLI rejects with the SDK's errors: no stack → StackNotFoundError, a lock → ConcurrentUpdateError, else CommandError with the exit code", async () => {
    bin = new FakePulumiBinary("v3.248.0", [
      { prefix: "stack change-secrets-provider passphrase --stack gone", readStdin: true, stderr: "error: no stack named 'gone' found\n", code: 255 },
      { prefix: "stack change-secrets-provider passphrase --stack locked", readStdin: true, stderr: "error: the stack is currently locked by 1 lock(s)\n", code: 255 },
      { prefix: "stack change-secrets-provider", readStdin: true, stderr: "error: failed to decrypt\n", code: 3 },
    ]);
    const run = (stack: string) => runWithInput(cliOf(bin), ["stack", "change-secrets-provider", "passphrase", "--stack", stack], tmpdir(), {}, NEW).then(() => new Error("resolved"), (e: unknown) => e as Error);
    expect((await run("gone")).name).to.equal("StackNotFoundError");
    expect((await run("locked")).name).to.equal("ConcurrentUpdateError");
    const other = await run("x");
    expect(other.name).to.equal("CommandError");
    expect((other as unknown as { commandResult: { err: { exitCode: number } } }).commandResult.err.exitCode).to.equal(3);
  });
});
