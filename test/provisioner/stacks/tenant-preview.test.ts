/**
 * `TenantStacks.preview` and the `settings` output over the fake CLI. The preview's engine events
 * are fixtures/preview-events.json: the event stream of a real 3.248 CLI and kubernetes provider
 * (`preview --refresh` of a 14-resource tenant stack against kube-apiserver, see
 * test/engine/tenant-preview.test.ts), its diagnostics and most of each step's state left out, the
 * tenant renamed to 42 and the stack to staging-42.
 */
import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pino from "pino";
import { Writable } from "node:stream";
import { EngineError, StackNotFound, type ProgressEvent, type TenantSpec, type TenantStacks } from "../../../provisioner/ports";
import { createTenantStacks, type TenantStacksOptions } from "../../../provisioner/stacks";
import { resourceChange } from "../../../provisioner/stacks/tenant-stacks";
import { progressLine } from "../../../provisioner/stacks/events";
import { ValuesError } from "../../../infra/values/errors";
import type { EngineEvent } from "@pulumi/pulumi/automation";
import { cliError, FakePulumi } from "./fake-cli";

const SECRET = "sk-or-v1-very-secret-openrouter-key-0123456789";
const FIXTURES = JSON.parse(readFileSync(join(__dirname, "fixtures", "preview-events.json"), "utf8")) as Record<"previewWithNewImage" | "previewAfterDrift", EngineEvent[]>;

function spec(id = "42"): TenantSpec {
  return {
    instanceId: id,
    values: { customer: id, baseDomain: "mindroom.test", openrouter_key: SECRET, mindroom_image: "ghcr.io/mindroom-ai/mindroom:v2" },
    tags: { customer: id, account: "acc-1", tier: "pro", desiredState: "running" },
    settings: { mindroomImage: "ghcr.io/mindroom-ai/mindroom:v2" },
  };
}

function capture(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const stream = new Writable({ write: (c, _e, cb) => (chunks.push(String(c)), cb()) });
  return { logger: pino({ level: "debug" }, stream), text: () => chunks.join("") };
}

describe("provisioner/stacks: preview and the settings output (fake CLI)", function () {
  this.timeout(20_000);
  let dataDir: string;
  let cli: FakePulumi;
  let programCalls: Array<Record<string, unknown>>;

  const make = (extra: Partial<TenantStacksOptions> = {}): Promise<TenantStacks> =>
    createTenantStacks({
      environment: "staging",
      dataDir,
      pulumiCommand: cli,
      env: {},
      kube: { mode: "in-cluster" },
      program: (values) => {
        programCalls.push(values);
        return async () => ({ customer: String(values.customer) });
      },
      ...extra,
    });

  beforeEach(() => {
    dataDir = mkdtempSync(join(tmpdir(), "stacks-preview-"));
    cli = new FakePulumi("3.248.0");
    cli.stacks.set("staging-42", { tags: {}, config: {}, outputs: {} });
    programCalls = [];
  });
  afterEach(() => rmSync(dataDir, { recursive: true, force: true }));

  it("selects the existing stack and runs `preview --refresh` of the inline program: no init, no tags, no up, no --diff", async () => {
    cli.previewEvents = FIXTURES.previewWithNewImage;
    const stacks = await make();
    await stacks.preview(spec());
    const cmds = cli.commands();
    expect(cmds[0]).to.equal("stack select --stack staging-42");
    expect(cmds[1]).to.match(/^preview --refresh --client=127\.0\.0\.1:\d+ --exec-kind auto\.inline --event-log tcp:\/\/127\.0\.0\.1:\d+ --stack staging-42$/);
    expect(cmds).to.have.length(2);
    expect(cmds[1]).not.to.include("--diff");
    expect(cmds[1]).not.to.include("--expect-no-changes");
    for (const call of cli.calls) expect(call.cwd).to.equal(join(dataDir, "workspaces", "staging-42"));
    expect(programCalls).to.deep.equal([spec().values]);
  });

  it("summarises a real CLI's events: the summary's counts, and only the changed resources by object name and top-level diff", async () => {
    cli.previewEvents = FIXTURES.previewWithNewImage;
    const stacks = await make();
    const result = await stacks.preview(spec());
    expect(result).to.deep.equal({
      changes: { same: 13, update: 1 },
      resources: [{ type: "kubernetes:apps/v1:Deployment", name: "mindroom-42", op: "update", diffs: ["spec"] }],
    });
  });

  it("drift (a live object changed behind the stack's back) is an update with the diff the real CLI reported", async () => {
    cli.previewEvents = FIXTURES.previewAfterDrift;
    const stacks = await make();
    const result = await stacks.preview(spec());
    expect(result.changes).to.deep.equal({ same: 13, update: 1 });
    expect(result.resources).to.deep.equal([{ type: "kubernetes:apps/v1:Deployment", name: "mindroom-42", op: "update", diffs: ["spec"] }]);
  });

  it("no changes: every step `same` gives an empty resource list", async () => {
    cli.previewEvents = FIXTURES.previewWithNewImage.map((e) => {
      const copy = JSON.parse(JSON.stringify(e)) as EngineEvent;
      if (copy.resourcePreEvent?.metadata.op === "update") {
        copy.resourcePreEvent.metadata.op = "same";
        delete copy.resourcePreEvent.metadata.detailedDiff;
      }
      if (copy.summaryEvent) copy.summaryEvent.resourceChanges = { same: 14 };
      return copy;
    });
    const stacks = await make();
    expect(await stacks.preview(spec())).to.deep.equal({ changes: { same: 14 }, resources: [] });
  });

  it("forwards progress in the conditional: refresh reads, `would update …`, `finished preview: …`; never `updated`", async () => {
    cli.previewEvents = FIXTURES.previewWithNewImage;
    const stacks = await make();
    const progress: ProgressEvent[] = [];
    await stacks.preview(spec(), { onProgress: (e) => progress.push(e) });
    const messages = progress.map((e) => e.message);
    expect(messages).to.include("would update kubernetes:apps/v1:Deployment instance-42-mindroom");
    expect(messages).to.include("refreshing kubernetes:apps/v1:Deployment instance-42-mindroom");
    expect(messages[messages.length - 1]).to.equal("finished preview: 13 unchanged, 1 to update");
    expect(messages.filter((m) => /^(updat|creat|delet|replac)/.test(m))).to.deep.equal([]);
    expect(messages).not.to.include("cancelled");
  });

  it("a missing stack is StackNotFound, and no stack is created for a preview", async () => {
    cli.stacks.clear();
    const stacks = await make();
    const err = await stacks.preview(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StackNotFound);
    expect(cli.commands()).to.deep.equal(["stack select --stack staging-42"]);
    expect(cli.stacks.size).to.equal(0);
  });

  it("a ValuesError surfaces before any CLI process starts", async () => {
    const stacks = await make({
      program: () => {
        throw new ValuesError("values.customer: must be a positive integer");
      },
    });
    const err = await stacks.preview(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ValuesError);
    expect(cli.calls).to.have.length(0);
  });

  it("an engine failure is one redacted EngineError line (\"Tenant stack preview of instance 42 failed: …\"); the secret reaches neither argv nor the log", async () => {
    const log = capture();
    const stderr = `error: kubernetes:apps/v1:Deployment (instance-42-mindroom): preview failed: value ${SECRET} rejected\n`;
    cli.fail("preview ", cliError(stderr, 1));
    const stacks = await make({ logger: log.logger });
    const err = await stacks.preview(spec()).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(EngineError);
    expect((err as Error).message).to.match(/^Tenant stack preview of instance 42 failed: /);
    expect((err as Error).message).not.to.include(SECRET);
    expect(log.text()).to.include("Tenant stack preview failed");
    expect(log.text()).not.to.include(SECRET);
    for (const call of cli.calls) expect([...call.args, ...Object.values(call.env)].join("\n")).not.to.include(SECRET);
  });
});

describe("provisioner/stacks: the settings output", () => {
  it("the program up and preview run returns the factory's outputs plus `settings` (plain; `{}` when the spec has none)", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "stacks-settings-"));
    try {
      const stacks = await createTenantStacks({
        environment: "staging",
        dataDir,
        pulumiCommand: new FakePulumi("3.248.0"),
        env: {},
        kube: { mode: "in-cluster" },
        program: () => async () => ({ customer: "42", settings: "overridden" }),
      });
      // The wrap is private; the fake CLI never runs an inline program, the engine test runs it for real.
      const programOf = (s: TenantSpec) => (stacks as unknown as { tenantProgram(s: TenantSpec): () => Promise<Record<string, unknown>> }).tenantProgram(s);
      expect(await programOf(spec())()).to.deep.equal({ customer: "42", settings: { mindroomImage: "ghcr.io/mindroom-ai/mindroom:v2" } });
      expect(await programOf({ ...spec(), settings: undefined })()).to.deep.equal({ customer: "42", settings: {} });
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("provisioner/stacks: resourceChange and preview progress lines", () => {
  const pre = (op: string, type: string, extra: Record<string, unknown> = {}): EngineEvent =>
    ({ sequence: 1, timestamp: 1, resourcePreEvent: { metadata: { op, type, urn: `urn:pulumi:staging-42::mindroom-tenant::x$${type}::logical-name`, provider: "", ...extra } } }) as unknown as EngineEvent;

  it("skips same/read/refresh/discard steps and the stack; keeps create/update/delete/replace steps", () => {
    for (const op of ["same", "read", "refresh", "discard"]) expect(resourceChange(pre(op, "kubernetes:core/v1:Service")), op).to.equal(undefined);
    expect(resourceChange(pre("update", "pulumi:pulumi:Stack"))).to.equal(undefined);
    for (const op of ["create", "update", "delete", "replace", "create-replacement", "delete-replaced"]) {
      expect(resourceChange(pre(op, "kubernetes:core/v1:Service"))?.op, op).to.equal(op);
    }
  });

  it("names a Kubernetes object by metadata.name (new state, else old: a delete), anything else by the URN's last segment", () => {
    const state = (name: string) => ({ inputs: { metadata: { name } }, outputs: {} });
    expect(resourceChange(pre("update", "kubernetes:core/v1:Service", { new: state("mindroom-42") }))?.name).to.equal("mindroom-42");
    expect(resourceChange(pre("delete", "kubernetes:core/v1:Service", { old: state("gone-42") }))?.name).to.equal("gone-42");
    expect(resourceChange(pre("update", "kubernetes:core/v1:Service"))?.name).to.equal("logical-name");
    expect(resourceChange(pre("update", "kubernetes:core/v1:Secret", { new: state("[secret]") }))?.name).to.equal("logical-name");
    expect(resourceChange(pre("create", "pulumi:providers:kubernetes", { new: state("x") }))?.name).to.equal("logical-name");
  });

  it("diffs are the sorted top-level properties of diffs and detailedDiff; none when the engine reports none", () => {
    const change = resourceChange(pre("update", "kubernetes:core/v1:ConfigMap", {
      diffs: ["metadata"],
      detailedDiff: { 'data["homeserver.yaml"]': { kind: "update" }, "spec.template.spec.containers[0].image": { kind: "update" }, "metadata.labels.app": { kind: "add" } },
    }));
    expect(change?.diffs).to.deep.equal(["data", "metadata", "spec"]);
    expect(resourceChange(pre("create", "kubernetes:core/v1:ConfigMap"))).not.to.have.property("diffs");
  });

  it("preview progress lines speak in the conditional; an up's lines are unchanged", () => {
    const summary = { sequence: 1, timestamp: 1, summaryEvent: { resourceChanges: { same: 11, update: 2, create: 1 } } } as unknown as EngineEvent;
    expect(progressLine(summary, true)).to.equal("finished preview: 11 unchanged, 2 to update, 1 to create");
    expect(progressLine(summary)).to.equal("finished: 11 unchanged, 2 updated, 1 created");
    expect(progressLine(pre("create", "kubernetes:core/v1:Service"), true)).to.equal("would create kubernetes:core/v1:Service logical-name");
    expect(progressLine(pre("refresh", "kubernetes:core/v1:Service"), true)).to.equal("refreshing kubernetes:core/v1:Service logical-name");
    expect(progressLine(pre("same", "kubernetes:core/v1:Service"), true)).to.equal(undefined);
    const outputs = { sequence: 1, timestamp: 1, resOutputsEvent: { metadata: { op: "update", type: "kubernetes:core/v1:Service", urn: "urn:pulumi:s::p::kubernetes:core/v1:Service::n" } } } as unknown as EngineEvent;
    expect(progressLine(outputs, true)).to.equal(undefined);
    expect(progressLine(outputs)).to.equal("updated kubernetes:core/v1:Service n");
  });
});
