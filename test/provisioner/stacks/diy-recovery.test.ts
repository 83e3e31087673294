/**
 * `recover` on a DIY backend after a real crash (test/engine/provisioner-crash.test.ts found both):
 * a CLI killed while rewriting a blob's `.attrs` sidecar leaves it empty, and every later command
 * fails with `failed to load checkpoint: EOF`; a provisioner killed without its process group leaves
 * its `pulumi` child running, and recovery must not run beside it.
 */
import { expect } from "chai";
import { execFileSync, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { createTenantStacks } from "../../../provisioner/stacks";
import { diyRoot, isLivePulumi, lockHolders, prepareDiyRecovery, repairInterruptedWrites } from "../../../provisioner/stacks/diy-recovery";
import { FakePulumi } from "./fake-cli";

const PROJECT = "mindroom-tenant";

/** The file layout the CLI's file backend leaves when killed mid-write of the checkpoint. */
function crashedState(root: string, stack: string, pid = 999_999): { attrs: string; tmp: string; lock: string } {
  const stacks = join(root, ".pulumi", "stacks", PROJECT);
  const locks = join(root, ".pulumi", "locks", "organization", PROJECT, stack);
  mkdirSync(stacks, { recursive: true });
  mkdirSync(locks, { recursive: true });
  const good = JSON.stringify({ "user.content_type": "application/json", md5: "x" });
  writeFileSync(join(stacks, `${stack}.json`), JSON.stringify({ version: 3, checkpoint: {} }));
  writeFileSync(join(stacks, `${stack}.json.attrs`), "");
  writeFileSync(join(stacks, `${stack}.json.bak`), "{}");
  writeFileSync(join(stacks, `${stack}.json.bak.attrs`), good);
  writeFileSync(join(stacks, `${stack}.json.18ed84844dfe9431.tmp`), "{\"version\":3,");
  writeFileSync(join(stacks, `${stack}.pulumi-tags.attrs`), good);
  const lock = join(locks, "5c3e1f5e.json");
  writeFileSync(lock, JSON.stringify({ pid, username: "root", hostname: hostname(), timestamp: new Date().toISOString() }));
  writeFileSync(`${lock}.attrs`, good);
  return { attrs: join(stacks, `${stack}.json.attrs`), tmp: join(stacks, `${stack}.json.18ed84844dfe9431.tmp`), lock };
}

describe("provisioner/stacks: DIY backend recovery after a killed CLI", function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), "diy-recovery-"))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("diyRoot: file:// URLs only", () => {
    expect(diyRoot(`file://${dir}/state`)).to.equal(`${dir}/state`);
    expect(diyRoot("https://api.pulumi.com")).to.equal(undefined);
    expect(diyRoot("s3://bucket")).to.equal(undefined);
  });

  it("removes the stack's empty .attrs sidecar and its stale .tmp write, keeps readable sidecars and other stacks' files", () => {
    const root = join(dir, "state");
    const mine = crashedState(root, "staging-1");
    const other = crashedState(root, "staging-11");
    const removed = repairInterruptedWrites(root, PROJECT, "staging-1");
    expect(removed.sort()).to.deep.equal([mine.attrs, mine.tmp].sort());
    expect(existsSync(mine.attrs)).to.equal(false);
    expect(existsSync(`${mine.lock}.attrs`)).to.equal(true);
    expect(existsSync(join(root, ".pulumi", "stacks", PROJECT, "staging-1.json.bak.attrs"))).to.equal(true);
    expect(existsSync(other.attrs), "staging-11 is another stack (same prefix)").to.equal(true);
    expect(existsSync(other.tmp)).to.equal(true);
  });

  it("recover() repairs the file backend before its first CLI command", async () => {
    const cli = new FakePulumi("3.220.0");
    const stacks = await createTenantStacks({ environment: "staging", dataDir: dir, pulumiCommand: cli, env: {}, kube: { mode: "in-cluster" }, program: () => async () => ({}) });
    await stacks.up({ instanceId: "42", values: { customer: "42" }, tags: { customer: "42", account: "acc-1", tier: "free", desiredState: "running" } });
    const state = crashedState(join(dir, "state"), "staging-42");
    let seenAtCancel: boolean | undefined;
    const previous = cli.beforeAnswer;
    cli.beforeAnswer = async (args, cwd) => {
      if (args[0] === "cancel") seenAtCancel = existsSync(state.attrs);
      await previous?.(args, cwd);
    };
    await stacks.recover("42");
    expect(seenAtCancel, "the empty sidecar is gone before cancel runs").to.equal(false);
    expect(existsSync(state.tmp)).to.equal(false);
  });

  it("a live `pulumi` lock holder on this host gets the grace period, then SIGKILL; dead pids and other hosts are ignored", async () => {
    const root = join(dir, "state");
    const bin = join(dir, "bin");
    mkdirSync(bin);
    symlinkSync("/bin/sleep", join(bin, "pulumi"));
    const holder = spawn(join(bin, "pulumi"), ["60"], { stdio: "ignore" });
    const exited = new Promise((r) => holder.once("exit", r));
    try {
      const state = crashedState(root, "staging-5", holder.pid);
      expect(lockHolders(root, PROJECT, "staging-5")).to.deep.equal([holder.pid]);
      expect(lockHolders(root, PROJECT, "staging-5", "another-host")).to.deep.equal([]);
      expect(isLivePulumi(holder.pid!)).to.equal(true);
      expect(isLivePulumi(process.pid), "a live process that is not pulumi").to.equal(false);
      const warnings: string[] = [];
      const started = Date.now();
      const report = await prepareDiyRecovery(`file://${root}`, PROJECT, "staging-5", {
        graceMs: 300,
        pollMs: 20,
        log: { info: () => undefined, warn: (_o, msg) => warnings.push(msg) },
      });
      expect(Date.now() - started).to.be.at.least(300);
      expect(report.holders).to.deep.equal([holder.pid]);
      expect(report.killed).to.deep.equal([holder.pid]);
      await exited;
      expect(holder.signalCode).to.equal("SIGKILL");
      expect(report.removed).to.include(state.attrs);
      expect(warnings.join("\n")).to.match(/still holds the stack/).and.match(/killed the Pulumi CLI/);
    } finally {
      holder.kill("SIGKILL");
    }
    // A holder that already exited costs nothing.
    const quick = Date.now();
    const again = await prepareDiyRecovery(`file://${root}`, PROJECT, "staging-5", { graceMs: 5_000 });
    expect(again.holders).to.deep.equal([]);
    expect(Date.now() - quick).to.be.below(1_000);
    expect(readFileSync(join(root, ".pulumi", "stacks", PROJECT, "staging-5.json"), "utf8")).to.include("checkpoint");
  });
});

describe("provisioner/stacks: recovery ends processes a dead run left in the tenant's workDir", function () {
  this.timeout(20_000);
  it("a provider plugin left running in the workDir (its own process group, reparented to init) is killed; processes elsewhere are not", async () => {
    const dir = mkdtempSync(join(tmpdir(), "diy-strays-"));
    const workDir = join(dir, "workspaces", "staging-7");
    const elsewhere = join(dir, "workspaces", "staging-77");
    mkdirSync(workDir, { recursive: true });
    mkdirSync(elsewhere, { recursive: true });
    // Orphans, as after the crash: the shell that started them exits, so they no longer descend from us.
    const orphan = (cwd: string) => Number(execFileSync("sh", ["-c", 'cd "$1" && sleep 60 >/dev/null 2>&1 & echo $!', "sh", cwd], { encoding: "utf8" }).trim());
    const stray = orphan(workDir);
    const other = orphan(elsewhere);
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return !readFileSync(`/proc/${pid}/stat`, "utf8").includes(") Z ");
      } catch {
        return false;
      }
    };
    try {
      await new Promise((r) => setTimeout(r, 100));
      const report = await prepareDiyRecovery(`file://${join(dir, "state")}`, PROJECT, "staging-7", { workDir, graceMs: 100, pollMs: 20 });
      expect(report.strays).to.deep.equal([stray]);
      expect(alive(stray)).to.equal(false);
      expect(alive(other), "a process in another tenant's workDir").to.equal(true);
    } finally {
      for (const pid of [stray, other]) {
        try {
          process.kill(pid, "SIGKILL");
        } catch {
          // gone
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("provisioner/stacks: recovery spares our own live processes in the workDir", function () {
  it("a child of this provisioner in the workDir (a start/stop's CLI beside the queue) is left alone", async () => {
    const dir = mkdtempSync(join(tmpdir(), "diy-ours-"));
    const workDir = join(dir, "workspaces", "staging-8");
    mkdirSync(workDir, { recursive: true });
    const ours = spawn("/bin/sleep", ["60"], { cwd: workDir, stdio: "ignore" });
    try {
      await new Promise((r) => setTimeout(r, 100));
      const report = await prepareDiyRecovery(`file://${join(dir, "state")}`, PROJECT, "staging-8", { workDir });
      expect(report.strays).to.deep.equal([]);
      expect(ours.exitCode === null && ours.signalCode === null).to.equal(true);
    } finally {
      ours.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
