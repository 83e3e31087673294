import { expect } from "chai";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Writable } from "node:stream";
import { parse } from "yaml";
import { EngineError, StackBusy, StackNotFound, type ProgressEvent, type TenantSpec } from "../../../provisioner/ports";
import { CLI_NOT_FOUND, createTenantStacks, PulumiCliUnavailable, type TenantStacksOptions } from "../../../provisioner/stacks";
import type { TenantProgramOptions } from "../../../stacks/tenant";
import { cliError, FakePulumi } from "./fake-cli";

const SECRET = "sk-or-v1-very-secret-openrouter-key-0123456789";
const SERVICE_KEY = "eyJhbGciOiJIUzI1NiJ9.service-role-key";

function spec(id = "42"): TenantSpec {
  return {
    instanceId: id,
    values: { customer: id, baseDomain: "mindroom.test", openrouter_key: SECRET, matrixOidc: { clientSecret: "oidc-client-secret-value" } },
    tags: { customer: id, account: "acc-1", tier: "pro", desiredState: "running" },
  };
}

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

describe("provisioner/stacks: TenantStacks over the Automation API (fake CLI)", function () {
  this.timeout(20_000);
  let dataDir: string;
  let cli: FakePulumi;
  let programCalls: Array<{ values: Record<string, unknown>; options: TenantProgramOptions }>;

  const make = (extra: Partial<TenantStacksOptions> = {}) =>
    createTenantStacks({
      environment: "staging",
      dataDir,
      pulumiCommand: cli,
      env: { SUPABASE_SERVICE_KEY: SERVICE_KEY },
      kube: { mode: "in-cluster" },
      program: (values, options) => {
        programCalls.push({ values, options });
        return async () => ({});
      },
      ...extra,
    });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stacks-test-"));
    cli = new FakePulumi("3.220.0");
    programCalls = [];
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it("first up: select → init → tags → inline up (no refresh) → outputs → history, in the tenant's workDir", async () => {
    const stacks = await make();
    cli.history = [{ kind: "update", result: "succeeded", resourceChanges: { create: 11 }, startTime: "2026-11-28T10:00:00Z" }];
    const result = await stacks.up(spec());
    const cmds = cli.commands();
    expect(cmds[0]).to.equal("stack select --stack staging-42");
    expect(cmds[1]).to.equal("stack init staging-42");
    expect(cmds.filter((c) => c.startsWith("stack tag set"))).to.deep.equal([
      "stack tag set mindroom:customer 42 --stack staging-42",
      "stack tag set mindroom:account acc-1 --stack staging-42",
      "stack tag set mindroom:tier pro --stack staging-42",
      "stack tag set mindroom:desired-state running --stack staging-42",
    ]);
    const up = cmds.find((c) => c.startsWith("up "))!;
    expect(up).to.match(/^up --yes --skip-preview --client=127\.0\.0\.1:\d+ --exec-kind auto\.inline --event-log \S+ --stack staging-42$/);
    expect(up).not.to.include("--refresh");
    expect(cmds.slice(-3)).to.deep.equal([
      "stack output --json --stack staging-42",
      "stack output --json --show-secrets --stack staging-42",
      "stack history --json --show-secrets --page-size 1 --page 1 --stack staging-42",
    ]);
    for (const call of cli.calls) expect(call.cwd).to.equal(join(dataDir, "workspaces", "staging-42"));
    expect(result.changes).to.deep.equal({ create: 11 });
    expect(programCalls).to.have.length(1);
    expect(programCalls[0].options).to.deep.equal({ kube: { mode: "in-cluster" }, retainData: true });
    expect(programCalls[0].values).to.deep.equal(spec().values);
  });

  it("re-provision of an existing stack refreshes first (up --refresh) and only rewrites changed tags", async () => {
    const stacks = await make();
    await stacks.up(spec());
    cli.calls.length = 0;
    await stacks.up({ ...spec(), tags: { ...spec().tags, tier: "hobby" } });
    const cmds = cli.commands();
    expect(cmds).not.to.include("stack init staging-42");
    expect(cmds.find((c) => c.startsWith("up "))).to.include("--refresh");
    expect(cmds.filter((c) => c.startsWith("stack tag set"))).to.deep.equal(["stack tag set mindroom:tier hobby --stack staging-42"]);
  });

  it("never puts a secret in argv or in an env var; the passphrase travels as a 0600 file generated once", async () => {
    const log = capture();
    const stacks = await make({ logger: log.logger });
    await stacks.up(spec());
    const passphraseFile = join(dataDir, "passphrase");
    const passphrase = readFileSync(passphraseFile, "utf8").trim();
    expect(statSync(passphraseFile).mode & 0o777).to.equal(0o600);
    expect(passphrase.length).to.be.greaterThan(30);
    expect(log.text()).to.include("generated a Pulumi passphrase");
    for (const call of cli.calls) {
      const everything = [...call.args, ...Object.values(call.env)].join("\n");
      for (const secret of [SECRET, SERVICE_KEY, passphrase]) expect(everything).not.to.include(secret);
      expect(call.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(passphraseFile);
      expect(call.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE");
      expect(call.env.SUPABASE_SERVICE_KEY).to.equal("");
      expect(call.env.PULUMI_HOME).to.equal(join(dataDir, "pulumi-home"));
      expect(call.env.PULUMI_BACKEND_URL).to.equal(`file://${join(dataDir, "state")}`);
      // The provider plugin inherits it: server-side apply forces, creates included (provisioner/stacks/index.ts).
      expect(call.env.PULUMI_K8S_ENABLE_PATCH_FORCE).to.equal("true");
    }
    expect(statSync(join(dataDir, "state")).isDirectory()).to.equal(true);
    // A second boot reuses the passphrase (regenerating it would make every stack undecryptable).
    await make();
    expect(readFileSync(passphraseFile, "utf8").trim()).to.equal(passphrase);
  });

  it("writes Pulumi.yaml (project, runtime, backend) and keeps secrets out of Pulumi.<stack>.yaml", async () => {
    const stacks = await make();
    await stacks.up(spec());
    const workDir = join(dataDir, "workspaces", "staging-42");
    const project = parse(readFileSync(join(workDir, "Pulumi.yaml"), "utf8"));
    expect(project).to.deep.include({ name: "mindroom-tenant", runtime: "nodejs" });
    expect(project.backend).to.deep.equal({ url: `file://${join(dataDir, "state")}` });
    const stackFile = readFileSync(join(workDir, "Pulumi.staging-42.yaml"), "utf8");
    expect(stackFile).not.to.include(SECRET);
    expect(cli.commands().some((c) => c.startsWith("config set"))).to.equal(false);
  });

  it("Pulumi.yaml is written only when its content changes, and then by rename (a CLI starting meanwhile never reads a truncated file)", async () => {
    const stacks = await make();
    await stacks.up(spec());
    await stacks.list();
    const files = [join(dataDir, "workspaces", "staging-42", "Pulumi.yaml"), join(dataDir, "workspaces", "_project", "Pulumi.yaml")];
    const old = new Date("2020-01-01T00:00:00Z");
    for (const file of files) utimesSync(file, old, old);
    await stacks.up(spec());
    await stacks.setDesiredState("42", "stopped");
    await stacks.list();
    for (const file of files) expect(statSync(file).mtime.toISOString()).to.equal(old.toISOString());

    const inode = statSync(files[0]).ino;
    await (await make({ backendUrl: `file://${join(dataDir, "moved")}` })).up(spec());
    expect(parse(readFileSync(files[0], "utf8")).backend).to.deep.equal({ url: `file://${join(dataDir, "moved")}` });
    expect(statSync(files[0]).ino).not.to.equal(inode);
  });

  it("secretsProvider reaches stack init; the CLI's own name `passphrase` still gets the (generated) passphrase file", async () => {
    await (await make({ secretsProvider: "awskms://alias/mindroom?region=eu-central-1" })).up(spec("7"));
    expect(cli.commands()).to.include("stack init staging-7 --secrets-provider awskms://alias/mindroom?region=eu-central-1");
    expect(cli.calls[0].env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE_FILE");
    cli.calls.length = 0;
    await (await make({ secretsProvider: "passphrase" })).up(spec());
    expect(cli.commands()).to.include("stack init staging-42 --secrets-provider passphrase");
    for (const call of cli.calls) expect(call.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(join(dataDir, "passphrase"));
  });

  it("an explicit passphrase file or value is passed through, never generated", async () => {
    const file = join(dataDir, "given-passphrase");
    writeFileSync(file, "from-file\n", { mode: 0o600 });
    await (await make({ env: { PULUMI_CONFIG_PASSPHRASE_FILE: file } })).up(spec());
    expect(cli.calls[0].env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(file);
    cli.calls.length = 0;
    await (await make({ env: {}, passphrase: "from-env" })).up(spec());
    expect(cli.calls[0].env.PULUMI_CONFIG_PASSPHRASE).to.equal("from-env");
    expect(cli.calls[0].env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE_FILE");
    expect(() => statSync(join(dataDir, "passphrase"))).to.throw();
  });

  it("maps StackNotFound, ConcurrentUpdate (DIY lock) and other CommandErrors; the engine error is one redacted line", async () => {
    const log = capture();
    const stacks = await make({ logger: log.logger });
    let err: unknown = await stacks.outputs("7").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StackNotFound);
    err = await stacks.setDesiredState("7", "stopped").catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StackNotFound);

    cli.fail("up ", cliError("error: the stack is currently locked by 1 lock(s). Either wait for the other process(es) to end or delete the lock file with `pulumi cancel`."), true);
    err = await stacks.up(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StackBusy);

    const stderr = [
      "Updating (staging-42):",
      `    kubernetes:core/v1:Secret mindroom-api-keys-42 ${SECRET}`,
      `error: update failed: kubernetes:core/v1:Secret failed: token=${SECRET} password: hunter2hunter2 Authorization: Bearer abcdef123456`,
      "error: second error line",
    ].join("\n");
    cli.fail("up ", cliError(stderr, 255, `Resources:\n  + 3 to create ${SECRET}`), true);
    err = await stacks.up(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineError);
    const message = (err as Error).message;
    expect(message).to.match(/^Tenant stack update of instance 42 failed: update failed: kubernetes:core\/v1:Secret failed: /);
    expect(message).not.to.include("\n");
    expect(message).not.to.include(SECRET);
    expect(message).not.to.include("hunter2");
    expect(message).not.to.include("abcdef123456");
    expect(message).not.to.match(/stdout|stderr|code:/);
    expect(message.length).to.be.lessThan(300);
    // The full CLI text reaches the debug log only.
    expect(log.text()).to.include("second error line");
  });

  it("a ValuesError from the tenant program surfaces before any CLI process starts", async () => {
    const stacks = await make({
      program: () => {
        throw new Error("customer: required; set customer to the instance id");
      },
    });
    const err = await stacks.up(spec()).catch((e: unknown) => e);
    expect((err as Error).message).to.equal("customer: required; set customer to the instance id");
    expect(cli.calls).to.have.length(0);
  });

  it("uses stacks/tenant.ts by default: its ValuesError stops the run before the CLI, valid values reach up", async () => {
    const stacks = await make({ program: undefined, kube: { mode: "stack-reference", stack: "organization/mindroom/staging" } });
    const bad = await stacks.up({ ...spec(), values: { customer: "42", bogus: true } }).catch((e: unknown) => e);
    expect((bad as Error).name).to.equal("ValuesError");
    expect((bad as Error).message).to.include("bogus");
    expect(cli.calls).to.have.length(0);
    await stacks.up({ ...spec(), values: { customer: "42", baseDomain: "mindroom.test" } });
    expect(cli.commands().some((c) => c.startsWith("up "))).to.equal(true);
  });

  it("forwards engine events as short progress lines (file event log of CLIs ≤ 3.205)", async () => {
    cli = new FakePulumi("3.200.0");
    const urn = "urn:pulumi:staging-42::mindroom-tenant::mindroom:index:MindroomInstance$kubernetes:apps/v1:Deployment::mindroom-42";
    const meta = { op: "create", urn, type: "kubernetes:apps/v1:Deployment", provider: "" };
    cli.upEvents = [
      { sequence: 1, timestamp: 1_780_000_000, preludeEvent: { config: { "mindroom:secret": SECRET } } },
      { sequence: 2, timestamp: 1_780_000_001, resourcePreEvent: { metadata: meta } },
      { sequence: 3, timestamp: 1_780_000_002, diagnosticEvent: { message: `boom ${SECRET}`, color: "never", severity: "info" } },
      { sequence: 4, timestamp: 1_780_000_003, resOutputsEvent: { metadata: meta } },
      { sequence: 5, timestamp: 1_780_000_004, resourcePreEvent: { metadata: { ...meta, op: "same" } } },
      { sequence: 6, timestamp: 1_780_000_005, summaryEvent: { maybeCorrupt: false, durationSeconds: 3, resourceChanges: { create: 11, same: 2 }, policyPacks: {} } },
    ];
    const stacks = await make();
    const progress: ProgressEvent[] = [];
    const result = await stacks.up(spec(), { onProgress: (e) => progress.push(e) });
    expect(progress.map((p) => p.message)).to.deep.equal([
      "creating kubernetes:apps/v1:Deployment mindroom-42",
      "created kubernetes:apps/v1:Deployment mindroom-42",
      "finished: 11 created, 2 unchanged",
    ]);
    expect(progress[0].at).to.equal(new Date(1_780_000_001_000).toISOString());
    expect(result.changes).to.deep.equal({ create: 11, same: 2 });
  });

  it("CLIs > 3.205 stream events over gRPC: every event kind that matters becomes one safe progress line", async () => {
    const urn = (type: string, name: string) => `urn:pulumi:staging-42::mindroom-tenant::mindroom:index:MindroomInstance$${type}::${name}`;
    const deployment = { op: "create", urn: urn("kubernetes:apps/v1:Deployment", "mindroom-42"), type: "kubernetes:apps/v1:Deployment", provider: "" };
    const secret = { op: "update", urn: urn("kubernetes:core/v1:Secret", "mindroom-api-keys-42"), type: "kubernetes:core/v1:Secret", provider: "" };
    const stackUrn = "urn:pulumi:staging-42::mindroom-tenant::pulumi:pulumi:Stack::mindroom-tenant-staging-42";
    cli.upEvents = [
      { sequence: 0, timestamp: 1_780_000_000, preludeEvent: { config: { "mindroom:x": SECRET } } },
      { sequence: 1, timestamp: 1_780_000_001, resourcePreEvent: { metadata: { op: "same", urn: stackUrn, type: "pulumi:pulumi:Stack", provider: "" } } },
      { sequence: 2, timestamp: 1_780_000_002, resourcePreEvent: { metadata: { ...deployment, op: "refresh" } } },
      { sequence: 3, timestamp: 1_780_000_003, resourcePreEvent: { metadata: deployment } },
      { sequence: 4, timestamp: 1_780_000_004, resOutputsEvent: { metadata: deployment } },
      { sequence: 5, timestamp: 1_780_000_005, resourcePreEvent: { metadata: secret } },
      { sequence: 6, timestamp: 1_780_000_006, diagnosticEvent: { urn: secret.urn, message: `rejected ${SECRET}`, color: "never", severity: "error" } },
      { sequence: 7, timestamp: 1_780_000_007, resOpFailedEvent: { metadata: secret, status: 1, steps: 1 } },
      { sequence: 8, timestamp: 1_780_000_008, diagnosticEvent: { urn: stackUrn, message: "update failed", color: "never", severity: "error" } },
      { sequence: 9, timestamp: 1_780_000_009, stdoutEvent: { message: SECRET, color: "never" } },
      { sequence: 10, timestamp: 1_780_000_010, summaryEvent: { maybeCorrupt: false, durationSeconds: 9, resourceChanges: { create: 1, same: 1 }, policyPacks: {} } },
      { sequence: 11, timestamp: 1_780_000_011, cancelEvent: {} },
    ];
    const stacks = await make();
    const progress: ProgressEvent[] = [];
    await stacks.up(spec(), { onProgress: (e) => progress.push(e) });
    expect(cli.commands().find((c) => c.startsWith("up "))).to.match(/--event-log tcp:\/\/127\.0\.0\.1:\d+ /);
    expect(progress.map((p) => p.message)).to.deep.equal([
      "refreshing kubernetes:apps/v1:Deployment mindroom-42",
      "creating kubernetes:apps/v1:Deployment mindroom-42",
      "created kubernetes:apps/v1:Deployment mindroom-42",
      "updating kubernetes:core/v1:Secret mindroom-api-keys-42",
      "error reported for kubernetes:core/v1:Secret mindroom-api-keys-42",
      "failed kubernetes:core/v1:Secret mindroom-api-keys-42",
      "error reported for pulumi:pulumi:Stack mindroom-tenant-staging-42",
      "finished: 1 created, 1 unchanged",
    ]);
    expect(JSON.stringify(progress)).not.to.include(SECRET);
  });

  it("the CancelEvent that ends every event stream, a successful one too, gives no progress line (a real 3.248 up ended its progress with \"cancelled\")", async () => {
    const deployment = { op: "create", urn: "urn:pulumi:staging-42::mindroom-tenant::kubernetes:apps/v1:Deployment::instance-42-mindroom", type: "kubernetes:apps/v1:Deployment", provider: "" };
    cli.upEvents = [
      { sequence: 0, timestamp: 1_780_000_000, resourcePreEvent: { metadata: deployment } },
      { sequence: 1, timestamp: 1_780_000_001, resOutputsEvent: { metadata: deployment } },
      { sequence: 2, timestamp: 1_780_000_002, summaryEvent: { maybeCorrupt: false, durationSeconds: 2, resourceChanges: { create: 1 }, policyPacks: {} } },
      { sequence: 3, timestamp: 1_780_000_003, cancelEvent: {} },
    ];
    const stacks = await make();
    const progress: ProgressEvent[] = [];
    await stacks.up(spec(), { onProgress: (e) => progress.push(e) });
    expect(progress.map((p) => p.message)).to.deep.equal([
      "creating kubernetes:apps/v1:Deployment instance-42-mindroom",
      "created kubernetes:apps/v1:Deployment instance-42-mindroom",
      "finished: 1 created",
    ]);
  });

  it("CLI < 3.211 on a DIY backend records bookkeeping as plaintext config, and list() reads it back", async () => {
    cli = new FakePulumi("3.200.0");
    const stacks = await make();
    await stacks.up(spec());
    await stacks.setDesiredState("42", "stopped");
    expect(cli.commands().some((c) => c.startsWith("stack tag"))).to.equal(false);
    const setAll = cli.commands().find((c) => c.startsWith("config set-all"))!;
    expect(setAll).to.equal(
      "config set-all --stack staging-42 --plaintext mindroom:customer=42 --plaintext mindroom:account=acc-1 --plaintext mindroom:tier=pro --plaintext mindroom:desired-state=running",
    );
    const list = await stacks.list();
    expect(list).to.deep.equal([
      { instanceId: "42", stackName: "staging-42", desiredState: "stopped", tier: "pro", account: "acc-1", lastUpdate: "2026-11-28T10:00:00.000Z", resourceCount: 12 },
    ]);
  });

  it("a failing tag command fails that operation only: no permanent switch to config that would hide every tag from list()", async () => {
    const stacks = await make();
    await stacks.up(spec("7"));
    // What a DIY backend (CLI ≥ 3.211) reports when the bucket hiccups: an I/O error, not "unsupported".
    cli.fail("stack tag ls", cliError("error: failed to read stack tags file: blob (code=Unknown): RequestError: send request failed"), true);
    const err = await stacks.up(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineError);
    expect((err as Error).message).to.equal("Tenant stack update of instance 42 failed: failed to read stack tags file: blob (code=Unknown): RequestError: send request failed");
    cli.calls.length = 0;
    await stacks.up(spec());
    expect(cli.commands().filter((c) => c.startsWith("stack tag set"))).to.have.length(4);
    expect(cli.commands().some((c) => c.startsWith("config set-all"))).to.equal(false);
    expect((await stacks.list()).map((s) => [s.instanceId, s.desiredState])).to.deep.equal([
      ["7", "running"],
      ["42", "running"],
    ]);
  });

  it("list() keeps a stack whose tags cannot be read (a damaged checkpoint), marked unreadable, and still lists the others", async () => {
    const stacks = await make();
    await stacks.up(spec("7"));
    await stacks.up(spec("42"));
    cli.fail("stack tag ls --json --stack staging-7", cliError("error: failed to load checkpoint: EOF"));
    const list = await stacks.list();
    expect(list.map((s) => [s.instanceId, s.tier])).to.deep.equal([
      ["7", undefined],
      ["42", "pro"],
    ]);
    expect(list[0].unreadable).to.equal("Reading the tenant stack's tags of instance 7 failed: failed to load checkpoint: EOF");
    expect(list[1].unreadable).to.equal(undefined);
  });

  it("after a CLI upgrade to ≥ 3.211, list() still reads the bookkeeping an older CLI wrote as config", async () => {
    cli = new FakePulumi("3.200.0");
    await (await make()).up({ ...spec(), tags: { ...spec().tags, desiredState: "stopped" } });
    const stacksOfOldCli = cli.stacks;
    cli = new FakePulumi("3.220.0");
    for (const [name, stack] of stacksOfOldCli) cli.stacks.set(name, stack);
    const list = await (await make()).list();
    expect(list.map((s) => [s.instanceId, s.desiredState, s.tier, s.account])).to.deep.equal([["42", "stopped", "pro", "acc-1"]]);
  });

  it("setDesiredState and outputs never run `stack select` (they run beside a tenant's job, and select rewrites its current-stack record)", async () => {
    const stacks = await make();
    await stacks.up(spec());
    cli.calls.length = 0;
    await stacks.setDesiredState("42", "stopped");
    await stacks.outputs("42");
    expect(cli.commands()).to.deep.equal([
      "stack tag ls --json --stack staging-42",
      "stack tag set mindroom:desired-state stopped --stack staging-42",
      "stack output --json --stack staging-42",
      "stack output --json --show-secrets --stack staging-42",
    ]);
  });

  it("list() returns only this environment's tenant stacks, with their tags", async () => {
    const stacks = await make();
    await stacks.up(spec("42"));
    await stacks.up({ ...spec("7"), tags: { ...spec("7").tags, desiredState: "stopped", tier: "free" } });
    cli.stacks.set("production-42", { tags: {}, config: {}, outputs: {} });
    cli.stacks.set("staging-abc", { tags: {}, config: {}, outputs: {} });
    const list = await stacks.list();
    expect(list.map((s) => [s.instanceId, s.stackName, s.desiredState, s.tier])).to.deep.equal([
      ["42", "staging-42", "running", "pro"],
      ["7", "staging-7", "stopped", "free"],
    ]);
  });

  it("list() reads the tags of many stacks a few CLI processes at a time, not one after another, and keeps the listing's order", async () => {
    const stacks = await make();
    for (let id = 1; id <= 9; id++) cli.stacks.set(`staging-${id}`, { tags: { "mindroom:tier": `t${id}` }, config: {}, outputs: {} });
    let inFlight = 0;
    let peak = 0;
    cli.beforeAnswer = async (args) => {
      if (args[1] !== "tag") return;
      peak = Math.max(peak, ++inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
    };
    const list = await stacks.list();
    expect(list.map((s) => s.tier)).to.deep.equal(["t1", "t2", "t3", "t4", "t5", "t6", "t7", "t8", "t9"]);
    expect(peak).to.equal(4);
  });

  it("outputs() drops secret outputs", async () => {
    const stacks = await make();
    await stacks.up(spec());
    cli.stacks.get("staging-42")!.outputs = { customer: { value: "42" }, kubeconfig: { value: "apiVersion: v1", secret: true } };
    expect(await stacks.outputs("42")).to.deep.equal({ customer: "42" });
  });

  describe("destroy (Deviation 9)", () => {
    it("destroys then removes the stack and reports the kept volumes", async () => {
      const stacks = await make();
      await stacks.up(spec());
      cli.stacks.get("staging-42")!.outputs = { volumes: { value: ["mindroom-storage-42", "synapse-storage-42"] } };
      cli.calls.length = 0;
      const result = await stacks.destroy("42");
      const cmds = cli.commands();
      expect(cmds[0]).to.equal("stack select --stack staging-42");
      expect(cmds.find((c) => c.startsWith("destroy "))).to.match(/^destroy --yes --skip-preview --client=\S+ --exec-kind auto\.inline --stack staging-42$/);
      expect(cmds.indexOf("stack rm --yes staging-42")).to.be.greaterThan(cmds.findIndex((c) => c.startsWith("destroy ")));
      expect(result).to.deep.equal({ keptVolumes: ["mindroom-storage-42", "synapse-storage-42"] });
      expect(cli.stacks.has("staging-42")).to.equal(false);
    });

    it("without recorded volumes reports the tenant's PVC names; it never deletes them (the service does, with delete_data)", async () => {
      const stacks = await make();
      await stacks.up(spec());
      expect(await stacks.destroy("42")).to.deep.equal({ keptVolumes: ["mindroom-storage-42", "synapse-storage-42"] });
    });

    it("a missing stack is a no-op", async () => {
      const stacks = await make();
      expect(await stacks.destroy("9")).to.deep.equal({ keptVolumes: [] });
      expect(cli.commands()).to.deep.equal(["stack select --stack staging-9"]);
    });
  });

  it("recover(): cancel (failure tolerated) then refresh --clear-pending-creates", async () => {
    const stacks = await make();
    await stacks.up(spec());
    cli.calls.length = 0;
    cli.fail("cancel", cliError("error: no update in progress"), true);
    await stacks.recover("42");
    const cmds = cli.commands();
    expect(cmds[1]).to.equal("cancel --yes --stack staging-42");
    expect(cmds[2]).to.match(/^refresh --skip-preview --yes --clear-pending-creates --client=\S+ --exec-kind auto\.inline --stack staging-42$/);
  });

  it("stackName() is <environment>-<id> and rejects ids that are not positive integers", async () => {
    const stacks = await make();
    expect(stacks.stackName("42")).to.equal("staging-42");
    expect(() => stacks.stackName("4a")).to.throw(/not a positive integer/);
    const bad = await make({ environment: "Staging" });
    expect(() => bad.stackName("1")).to.throw(/environment must be a short lower-case DNS label/);
  });
});

describe("provisioner/stacks: finding the Pulumi CLI", () => {
  it("without a CLI on PATH, createTenantStacks rejects with one line naming the fix", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stacks-nocli-"));
    const path = process.env.PATH;
    try {
      // Spawning `pulumi` resolves through PATH; an empty PATH guarantees it is missing.
      process.env.PATH = dataDir;
      const err = await createTenantStacks({ environment: "staging", dataDir, env: {} }).catch((e: unknown) => e);
      expect(err).to.be.instanceOf(PulumiCliUnavailable);
      expect((err as Error).message).to.equal(CLI_NOT_FOUND);
      expect(CLI_NOT_FOUND).not.to.include("\n");
    } finally {
      process.env.PATH = path;
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("creates the data dir, state/, workspaces/ and pulumi-home/ 0700, and tightens an existing wider data dir and state/", async () => {
    const parent = mkdtempSync(join(tmpdir(), "stacks-modes-"));
    try {
      const fresh = join(parent, "fresh", "data");
      // As main.ts passes it: the config spells the default backend out.
      await createTenantStacks({ environment: "staging", dataDir: fresh, backendUrl: `file://${join(fresh, "state")}`, env: {}, kube: { mode: "in-cluster" }, pulumiCommand: new FakePulumi("3.220.0") });
      for (const dir of [fresh, join(fresh, "state"), join(fresh, "workspaces"), join(fresh, "pulumi-home")]) {
        expect(statSync(dir).mode & 0o777, dir).to.equal(0o700);
      }
      const wide = join(parent, "wide");
      mkdirSync(join(wide, "state"), { recursive: true, mode: 0o755 });
      chmodSync(wide, 0o755);
      chmodSync(join(wide, "state"), 0o755);
      await createTenantStacks({ environment: "staging", dataDir: wide, env: {}, kube: { mode: "in-cluster" }, pulumiCommand: new FakePulumi("3.220.0") });
      for (const dir of [wide, join(wide, "state")]) expect(statSync(dir).mode & 0o777, dir).to.equal(0o700);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });

  it("a CLI older than 3.181 (no inline destroy/refresh in the SDK) or of unknown version is refused at boot with one line", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stacks-oldcli-"));
    try {
      const boot = (cli: unknown) =>
        createTenantStacks({ environment: "staging", dataDir, env: {}, kube: { mode: "in-cluster" }, pulumiCommand: cli as FakePulumi }).catch((e: unknown) => e);
      const old = await boot(new FakePulumi("3.180.0"));
      expect(old).to.be.instanceOf(PulumiCliUnavailable);
      expect((old as Error).message).to.equal(
        "Pulumi CLI 3.180.0 is too old: the provisioner needs 3.181.0 or newer (destroy and refresh of inline programs); install a newer CLI",
      );
      const unknown = Object.assign(new FakePulumi(), { version: null });
      expect(((await boot(unknown)) as Error).message).to.equal(
        "Pulumi CLI version unknown (`pulumi version` did not print a semver): install a released CLI",
      );
      expect(await boot(new FakePulumi("3.181.0"))).not.to.be.instanceOf(Error);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it("a PULUMI_CLI_PATH that is not a CLI gives a one-line error", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stacks-badcli-"));
    const err = await createTenantStacks({ environment: "staging", dataDir, env: { PULUMI_CLI_PATH: "/nonexistent/pulumi" } }).catch((e: unknown) => e);
    expect((err as Error).message).to.equal(
      "PULUMI_CLI_PATH=/nonexistent/pulumi is not a Pulumi CLI: point it at <root>/bin/pulumi, its bin folder or <root>",
    );
    rmSync(dataDir, { recursive: true, force: true });
  });
});

describe("provisioner/stacks: redaction helpers", () => {
  it("secretNeedles collects values of secret-sounding keys only", async () => {
    const { secretNeedles, redact } = await import("../../../provisioner/stacks/errors");
    const needles = secretNeedles({
      customer: "42",
      openrouter_key: "sk-or-abcdef",
      matrixOidc: { clientSecret: "client-secret-1", issuer: "https://issuer.test" },
      instanceSecrets: { name: "mindroom-api-keys-42", hash: "abc123abc123" },
      matrixAutoJoinRoomKeys: ["analysis", "automation"],
      openai_key: "",
    });
    expect(needles).to.deep.equal(["sk-or-abcdef", "client-secret-1"]);
    expect(redact("Secret mindroom-api-keys-42 got sk-or-abcdef; url https://user:pw@host/x", needles)).to.equal(
      "Secret mindroom-api-keys-42 got [REDACTED]; url https://[REDACTED]@host/x",
    );
  });
});

describe("provisioner/stacks: backend URL", () => {
  it("defaults to file://<dataDir>/state and creates any absolute file:// directory; other URLs pass through", async () => {
    const { backendUrl } = await import("../../../provisioner/stacks/environment");
    const dir = mkdtempSync(join(tmpdir(), "backend-"));
    try {
      expect(backendUrl(dir)).to.equal(`file://${join(dir, "state")}`);
      expect(statSync(join(dir, "state")).isDirectory()).to.equal(true);
      expect(backendUrl(dir, `file://${join(dir, "other")}`)).to.equal(`file://${join(dir, "other")}`);
      expect(statSync(join(dir, "other")).isDirectory()).to.equal(true);
      expect(backendUrl(dir, "s3://bucket/prefix?region=eu-central-1")).to.equal("s3://bucket/prefix?region=eu-central-1");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
