/**
 * The pack as a Pulumi CLI runs it, short of the CLI: the Node.js policy host starts
 * `node @pulumi/pulumi/cmd/run-policy-pack <engine> <pack dir>` in the pack's folder, which loads
 * package.json's main (main.js → index.ts through tsx) and serves the Analyzer gRPC service. This
 * test starts exactly that and calls the service as the engine does: GetAnalyzerInfo, Analyze,
 * AnalyzeStack.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { AnalyzerClient } from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import type { PluginInfo } from "@pulumi/pulumi/proto/plugin_pb";
import { AnalyzeRequest, AnalyzeStackRequest, AnalyzerResource, AnalyzerResourceOptions, EnforcementLevel, type AnalyzeResponse, type AnalyzerInfo } from "@pulumi/pulumi/proto/analyzer_pb";
import { parse } from "yaml";
import type { Obj } from "../../../infra/policy/kube";
import { deployment, ingress, networkPolicy, rule } from "./fixtures";

const ROOT = join(__dirname, "../../..");
const PACK = join(ROOT, "infra/policy");

const call = <T>(fn: (cb: (err: grpc.ServiceError | null, res: T) => void) => void) =>
  new Promise<T>((resolve, reject) => fn((err, res) => (err ? reject(err) : resolve(res))));

const request = (type: string, props: Obj) => new AnalyzeRequest().setType(type).setUrn(`urn:pulumi:local::mindroom::${type}::x`).setName("x").setOptions(new AnalyzerResourceOptions()).setProperties(Struct.fromJavaScript(props));
const diagnostics = (res: AnalyzeResponse) =>
  res.getDiagnosticsList().map((d) => ({ policy: d.getPolicyname(), level: d.getEnforcementlevel(), message: d.getMessage(), urn: d.getUrn() }));

describe("policy pack served by @pulumi/pulumi's run-policy-pack (the Node.js policy host's command)", function () {
  this.timeout(60_000);
  let child: ChildProcess;
  let client: AnalyzerClient;
  let stderr = "";

  before(async () => {
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [PACK] });
    // The engine address is only used for logging: nothing listens there.
    child = spawn(process.execPath, [runner, "127.0.0.1:1", "."], { cwd: PACK, stdio: ["ignore", "pipe", "pipe"] });
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout!.once("data", (d) => resolve(String(d).trim()));
      child.once("exit", (code) => reject(new Error(`run-policy-pack exited ${code}: ${stderr}`)));
    });
    expect(port, stderr).to.match(/^\d+$/);
    client = new AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  });
  after(() => {
    client?.close();
    child?.kill();
  });

  it("is a Node.js policy project whose main is the pack (PulumiPolicy.yaml, package.json with a version)", () => {
    expect(parse(readFileSync(join(PACK, "PulumiPolicy.yaml"), "utf8"))).to.include({ runtime: "nodejs" });
    const pkg = JSON.parse(readFileSync(join(PACK, "package.json"), "utf8")) as { main: string; version: string; dependencies?: unknown };
    expect(pkg.main).to.equal("main.js");
    expect(pkg.version).to.match(/^\d+\.\d+\.\d+$/);
    expect(pkg, "the pack uses the repo's node_modules").to.not.have.property("dependencies");
  });

  it("GetPluginInfo answers the SDK's version (the engine's first call; fails if the SDK's protobuf classes load twice)", async () => {
    const info = await call<PluginInfo>((cb) => client.getPluginInfo(new Empty(), cb));
    expect(info.getVersion()).to.match(/^\d+\.\d+\.\d+/);
  });

  it("GetAnalyzerInfo: pack mindroom, nine policies, all mandatory; tenant-storage-class takes config", async () => {
    const info = await call<AnalyzerInfo>((cb) => client.getAnalyzerInfo(new Empty(), cb));
    expect(info.getName()).to.equal("mindroom");
    const list = info.getPoliciesList();
    expect(list.map((p) => p.getName())).to.have.members(["pod-security-baseline", "pod-security-restricted", "no-secret-literals", "tenant-customer-label", "tenant-storage-class", "tenant-no-default-token", "ingress-tls", "tenant-network-policy", "platform-network-policy"]);
    for (const p of list) expect(p.getEnforcementlevel(), p.getName()).to.equal(EnforcementLevel.MANDATORY);
    expect(info.getSupportsconfig()).to.equal(true);
  });

  it("Analyze: a privileged Deployment with a secret literal gets mandatory violations; a compliant one none", async () => {
    const bad = deployment();
    bad.spec.template.spec.containers[0].securityContext.privileged = true;
    bad.spec.template.spec.containers[0].env.push({ name: "STRIPE_SECRET_KEY", value: "sk_live_x" });
    const res = await call<AnalyzeResponse>((cb) => client.analyze(request("kubernetes:apps/v1:Deployment", bad), cb));
    const found = diagnostics(res);
    expect(found.map((d) => d.policy).sort()).to.deep.equal(["no-secret-literals", "pod-security-baseline"]);
    for (const d of found) expect(d.level).to.equal(EnforcementLevel.MANDATORY);
    expect(found.find((d) => d.policy === "pod-security-baseline")?.message).to.contain('container "app" must not set securityContext.privileged=true');

    const ok = await call<AnalyzeResponse>((cb) => client.analyze(request("kubernetes:apps/v1:Deployment", deployment()), cb));
    expect(diagnostics(ok)).to.deep.equal([]);
  });

  it("Analyze: an Ingress without TLS is a mandatory violation", async () => {
    const res = await call<AnalyzeResponse>((cb) => client.analyze(request("kubernetes:networking.k8s.io/v1:Ingress", ingress({ rules: [rule("42.mindroom.chat")] })), cb));
    expect(diagnostics(res).map((d) => [d.policy, d.level])).to.deep.equal([["ingress-tls", EnforcementLevel.MANDATORY]]);
  });

  it("Analyze: an input unknown during preview makes the policy advisory for that resource, not a failure", async () => {
    const d = deployment();
    d.spec.template.spec.hostNetwork = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";
    const found = diagnostics(await call<AnalyzeResponse>((cb) => client.analyze(request("kubernetes:apps/v1:Deployment", d), cb)));
    const baseline = found.filter((x) => x.policy === "pod-security-baseline");
    expect(baseline.map((x) => x.level)).to.deep.equal([EnforcementLevel.ADVISORY]);
    expect(baseline[0].message).to.match(/can't run policy 'pod-security-baseline' .* during preview/);
  });

  it("AnalyzeStack: a tenant Deployment without a NetworkPolicy fails on its URN; with the tenant's policy it passes", async () => {
    const res = (type: string, props: Obj, urn: string) => new AnalyzerResource().setType(type).setUrn(urn).setName(urn).setOptions(new AnalyzerResourceOptions()).setProperties(Struct.fromJavaScript(props));
    const workload = res("kubernetes:apps/v1:Deployment", deployment(), "urn:pulumi:t::mindroom-tenant::kubernetes:apps/v1:Deployment::web");
    const open = await call<AnalyzeResponse>((cb) => client.analyzeStack(new AnalyzeStackRequest().setResourcesList([workload]), cb));
    expect(diagnostics(open).map((d) => [d.policy, d.level, d.urn])).to.deep.equal([["tenant-network-policy", EnforcementLevel.MANDATORY, workload.getUrn()]]);
    const np = res("kubernetes:networking.k8s.io/v1:NetworkPolicy", networkPolicy(), "urn:np");
    const closed = await call<AnalyzeResponse>((cb) => client.analyzeStack(new AnalyzeStackRequest().setResourcesList([workload, np]), cb));
    expect(diagnostics(closed)).to.deep.equal([]);
  });
});
