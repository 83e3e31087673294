/**
 * Every rule over everything the three renderers emit for the values fixtures (the cases of
 * test/engine/render-apply.test.ts and pod-security.test.ts, rendered in-process): no violation,
 * except the one fixture that exists to exercise YAML 1.1 words and so puts the tenant's claims
 * on a storage class named "off".
 */
import { expect } from "chai";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import "../../../components/render-targets";
import { renderObjects, type RenderOptions } from "../../../infra/render";
import { loadValuesFiles, mergeValues, type Values } from "../../../infra/values/load";
import type { KubeObject } from "../../../infra/policy/kube";
import { violations, type Finding } from "../../../infra/policy/rules";

const FIXTURES = join(__dirname, "../../fixtures");

interface Case {
  target: "instance" | "platform" | "runtime";
  name: string;
  files: string[];
  values?: Values;
  options?: RenderOptions;
  /** The findings this case must produce (default none). */
  expected?: Omit<Finding, "message">[];
}

const fixture = (target: string, file: string) => join(FIXTURES, target, file);

/** Overlays are rendered on top of their base, never alone. */
const OVERLAYS: Record<string, string> = { "pro.yaml": "tenant.yaml", "upstream-secrets.yaml": "upstream-helm-values.yaml" };

const yaml11Claims = ["mindroom-storage-t1", "synapse-storage-t1"].map((n) => ({ rule: "tenant-storage-class", object: `PersistentVolumeClaim mindroom-instances/${n}` }));

function cases(): Case[] {
  const out: Case[] = [];
  for (const target of ["instance", "platform", "runtime"] as const) {
    for (const file of readdirSync(join(FIXTURES, target)).filter((f) => f.endsWith(".yaml") && !f.startsWith("invalid-")).sort()) {
      const files = OVERLAYS[file] ? [fixture(target, OVERLAYS[file]), fixture(target, file)] : [fixture(target, file)];
      out.push({
        target,
        name: files.map((f) => f.split("/").pop()).join(" + "),
        files,
        ...(target === "runtime" ? { options: { releaseName: "rt-prod", namespace: "mindroom-runtime" } } : {}),
        ...(file === "yaml11-words.yaml" ? { expected: yaml11Claims } : {}),
      });
    }
  }
  out.push(
    { target: "instance", name: "tenant.yaml in kubernetes worker mode", files: [fixture("instance", "tenant.yaml")], values: { workerBackend: "kubernetes", controlPlaneNodeName: "node-1" } },
    { target: "instance", name: "tenant.yaml with a Synapse image that starts non-root", files: [fixture("instance", "tenant.yaml")], values: { synapseImageRunsAsNonRoot: true } },
    { target: "runtime", name: "chart defaults (static_runner, postgres event cache)", files: [], options: { namespace: "mindroom-runtime" } },
    { target: "runtime", name: "kubernetes workers in their own namespace", files: [], values: { workers: { backend: "kubernetes", kubernetes: { namespace: "mindroom-workers" } } }, options: { namespace: "mindroom-runtime" } },
  );
  return out;
}

describe("policy pack over every rendered fixture", () => {
  it("covers every values fixture of the three renderers", () => {
    const covered = new Set(cases().flatMap((c) => c.files.map((f) => f.split("/").slice(-2).join("/"))));
    for (const target of ["instance", "platform", "runtime"]) {
      for (const f of readdirSync(join(FIXTURES, target)).filter((x) => x.endsWith(".yaml") && !x.startsWith("invalid-"))) expect(covered.has(`${target}/${f}`), `${target}/${f}`).to.equal(true);
    }
  });

  for (const c of cases()) {
    it(`${c.target} ${c.name}: ${c.expected ? "only the expected findings" : "no violation"}`, async () => {
      const values = mergeValues(loadValuesFiles(c.files), c.values ?? {});
      const objects = (await renderObjects(c.target, values, { showSecrets: true, ...c.options })) as KubeObject[];
      expect(objects.length).to.be.greaterThan(0);
      const found = violations(objects);
      expect(found.map(({ rule, object }) => ({ rule, object })), JSON.stringify(found, null, 2)).to.deep.equal(c.expected ?? []);
    });
  }

  it("yaml11-words.yaml passes once its class is allowed by the pack's config (policy config storageClasses)", async () => {
    const objects = (await renderObjects("instance", loadValuesFiles([fixture("instance", "yaml11-words.yaml")]), { showSecrets: true })) as KubeObject[];
    expect(violations(objects, { "tenant-storage-class": { storageClasses: ["hcloud-volumes", "off"] } })).to.deep.equal([]);
  });

  it("the rules see what they check: tenant workloads, claims, a NetworkPolicy and an Ingress are among the rendered objects", async () => {
    const objects = (await renderObjects("instance", loadValuesFiles([fixture("instance", "tenant.yaml")]), { showSecrets: true })) as KubeObject[];
    const kinds = new Set(objects.filter((o) => o.metadata?.namespace === "mindroom-instances").map((o) => o.kind));
    expect([...kinds]).to.include.members(["Deployment", "PersistentVolumeClaim", "NetworkPolicy", "Ingress", "Secret"]);
    // Drop the tenant's NetworkPolicy and both workloads are reported.
    const open = violations(objects.filter((o) => o.kind !== "NetworkPolicy"));
    expect(open.map((f) => `${f.rule} ${f.object}`)).to.deep.equal(["tenant-network-policy Deployment mindroom-instances/mindroom-42", "tenant-network-policy Deployment mindroom-instances/synapse-42"]);
  });
});
