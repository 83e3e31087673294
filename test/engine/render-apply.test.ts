/**
 * Every object the three renderers emit, for every values fixture the render tests use, applied
 * to a real kube-apiserver with server-side apply (not dry-run; fieldValidation=Strict) and read
 * back. An object the server rejects fails the test with its message: that is a finding.
 */
import { expect } from "chai";
import type { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { applyAll, id, read, render, type Obj } from "./support/apply";
import { sharedCluster } from "./support/cluster";
import { prepare } from "./support/prepare";

const FIXTURES = join(__dirname, "../fixtures");
const MANAGER = "mindroom-engine-render-apply";

interface Case {
  target: "instance" | "platform" | "runtime";
  name: string;
  files: string[];
  /** Extra values (written to a file after `files`): a distinct tenant per case. */
  values?: Record<string, unknown>;
  args?: string[];
}

const instance = (f: string) => join(FIXTURES, "instance", f);

const CASES: Case[] = [
  { target: "instance", name: "tenant.yaml", files: [instance("tenant.yaml")], values: { customer: 9101 } },
  { target: "instance", name: "tenant.yaml + pro.yaml", files: [instance("tenant.yaml"), instance("pro.yaml")], values: { customer: 9102 } },
  { target: "instance", name: "upstream-helm-values.yaml (existing Secret)", files: [instance("upstream-helm-values.yaml")], values: { customer: 9103 } },
  { target: "instance", name: "upstream-helm-values.yaml + upstream-secrets.yaml (stack-owned Secret)", files: [instance("upstream-helm-values.yaml"), instance("upstream-secrets.yaml")], values: { customer: 9104 } },
  { target: "instance", name: "yaml11-words.yaml (kubernetes worker mode)", files: [instance("yaml11-words.yaml")], values: { customer: "t9105" } },
  { target: "instance", name: "tenant.yaml in kubernetes worker mode", files: [instance("tenant.yaml")], values: { customer: 9106, workerBackend: "kubernetes", controlPlaneNodeName: "node-1" } },
  { target: "platform", name: "production.yaml (provisioner, monitoring, OIDC on)", files: [join(FIXTURES, "platform/production.yaml")] },
  { target: "runtime", name: "production-values.yaml (kubernetes workers, external config)", files: [join(FIXTURES, "runtime/production-values.yaml")], args: ["--release-name", "rt-prod", "-n", "engine-runtime-prod"] },
  { target: "runtime", name: "chart defaults (static_runner, postgres event cache)", files: [], values: {}, args: ["-n", "engine-runtime-defaults"] },
  { target: "runtime", name: "kubernetes workers in their own namespace", files: [], values: { workers: { backend: "kubernetes", kubernetes: { namespace: "engine-runtime-workers" } } }, args: ["-n", "engine-runtime-split"] },
];

const ownsFields = (o: Obj) =>
  Object.keys(o).some((k) => !["apiVersion", "kind", "metadata"].includes(k)) || Object.keys(o.metadata).some((k) => !["name", "namespace"].includes(k));

describe("engine: rendered objects server-side applied to kube-apiserver", () => {
  let kc: KubeConfig;
  let dir: string;

  before(async () => {
    kc = (await sharedCluster()).kubeConfig();
    dir = mkdtempSync(join(tmpdir(), "render-apply-"));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  CASES.forEach((c, i) => {
    it(`${c.target} ${c.name}: every object applies and reads back with its name, namespace and labels`, async () => {
      const files = [...c.files];
      if (c.values) {
        files.push(join(dir, `case-${i}.yaml`));
        writeFileSync(files[files.length - 1], JSON.stringify(c.values));
      }
      const objects = await render(c.target, files, c.args);
      expect(objects.length, "rendered objects").to.be.greaterThan(0);
      for (const note of await prepare(kc, objects)) console.log(`      - ${note}`);

      const rejected = await applyAll(kc, objects, MANAGER);
      expect(rejected, "objects the API server rejected").to.deep.equal([]);

      for (const o of objects) {
        const live: Obj = await read(kc, o);
        expect(live.metadata.name, id(o)).to.equal(o.metadata.name);
        expect(live.metadata.namespace, id(o)).to.equal(o.metadata.namespace);
        expect(live.metadata.labels ?? {}, `${id(o)} labels`).to.include(o.metadata.labels ?? {});
        expect(live.metadata.annotations ?? {}, `${id(o)} annotations`).to.include(o.metadata.annotations ?? {});
        // The server records a manager only for the fields it owns; a bare object (name only) owns none.
        if (!ownsFields(o)) continue;
        const managers = ((live.metadata as { managedFields?: { manager: string }[] }).managedFields ?? []).map((m) => m.manager);
        expect(managers, `${id(o)} field managers`).to.include(MANAGER);
      }
      console.log(`      - ${objects.length} objects applied: ${[...new Set(objects.map((o) => o.kind))].join(", ")}`);
    });
  });

  it("control: the same apply path rejects an unknown field and a wrong type (the checks above are real)", async () => {
    await prepare(kc, [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "engine-apply-control" } }]);
    const bad: Obj[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "unknown-field", namespace: "engine-apply-control" }, data: { a: "b" }, dta: { a: "b" } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "wrong-type", namespace: "engine-apply-control" }, spec: { ports: [{ port: "http" }] } },
    ];
    const rejected = await applyAll(kc, bad, MANAGER);
    expect(rejected).to.have.length(2);
    // kube-apiserver 1.36 answers these SSA schema errors with HTTP 500 ("failed to create typed patch object").
    expect(rejected[0]).to.match(/^ConfigMap engine-apply-control\/unknown-field: HTTP \d+: .*\.dta: field not declared in schema$/);
    expect(rejected[1]).to.match(/^Service engine-apply-control\/wrong-type: HTTP \d+: .*\.port: expected numeric \(int or float\), got string$/);
  });
});
