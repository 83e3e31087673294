/**
 * The approved egress proxy's and Agent Vault's objects (test/fixtures/runtime/egress-vault-values.yaml)
 * on a real kube-apiserver: server-side apply with strict field validation, read back. Then the
 * reason the component replaces its Jobs instead of patching them: the API server refuses a
 * changed pod template on an existing Job.
 */
import { expect } from "chai";
import type { KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apply, applyAll, id, read, reason, removeAll, render, type Obj } from "./support/apply";
import { sharedCluster } from "./support/cluster";
import { prepare } from "./support/prepare";

const FIXTURE = join(__dirname, "../fixtures/runtime/egress-vault-values.yaml");
const MANAGER = "mindroom-engine-egress-vault";

describe("engine: approvedEgress and Agent Vault objects server-side applied to kube-apiserver", () => {
  let kc: KubeConfig;
  let dir: string;
  const applied: Obj[] = [];

  before(async () => {
    kc = (await sharedCluster()).kubeConfig();
    dir = mkdtempSync(join(tmpdir(), "egress-vault-"));
  });
  after(async () => {
    await removeAll(kc, applied.reverse());
    rmSync(dir, { recursive: true, force: true });
  });

  for (const [title, values, namespace] of [
    ["workers in the release namespace", {}, "engine-runtime-egress-vault"],
    ["workers in their own namespace", { workers: { kubernetes: { namespace: "engine-runtime-egress-vault-w" } } }, "engine-runtime-egress-vault-r"],
  ] as const) {
    it(`${title}: every object applies and reads back`, async () => {
      const extra = join(dir, `${namespace}.yaml`);
      writeFileSync(extra, JSON.stringify(values));
      const objects = await render("runtime", [FIXTURE, extra], ["-n", namespace]);
      const kinds = new Set(objects.map((o) => o.kind));
      for (const kind of ["Job", "Role", "RoleBinding", "NetworkPolicy", "PersistentVolumeClaim", "Deployment", "Service", "ConfigMap", "ServiceAccount"]) expect([...kinds]).to.include(kind);
      for (const note of await prepare(kc, objects)) console.log(`      - ${note}`);
      const rejected = await applyAll(kc, objects, MANAGER);
      applied.push(...objects);
      expect(rejected, "objects the API server rejected").to.deep.equal([]);
      for (const o of objects) {
        const live = await read(kc, o);
        expect(live.metadata.namespace, id(o)).to.equal(o.metadata.namespace);
        expect(live.metadata.labels ?? {}, `${id(o)} labels`).to.include(o.metadata.labels ?? {});
      }
      if ("workers" in values) {
        const role = objects.find((o) => o.kind === "Role" && o.metadata.name === "mindroom-runtime-egress-proxy")!;
        expect(role.metadata.namespace).to.equal("engine-runtime-egress-vault-w");
      }
      console.log(`      - ${objects.length} objects applied: ${[...kinds].join(", ")}`);
    });
  }

  it("a Job's pod template cannot be changed in place (hence replaceOnChanges + deleteBeforeReplace), while its TTL can", async () => {
    const objects = await render("runtime", [FIXTURE], ["-n", "engine-runtime-egress-vault"]);
    const job = objects.find((o) => o.kind === "Job" && o.metadata.name === "agent-vault-bootstrap")!;
    await prepare(kc, [job]);
    await apply(kc, job, MANAGER);
    const changed = structuredClone(job);
    changed.spec.template.spec.initContainers[0].env[1].value = "other.example.com";
    const refusal = await apply(kc, changed, MANAGER).then(
      () => "",
      (err: unknown) => reason(err),
    );
    expect(refusal).to.match(/field is immutable/);
    const ttl = structuredClone(job);
    ttl.spec.ttlSecondsAfterFinished = 3600;
    await apply(kc, ttl, MANAGER);
    expect((await read(kc, job)).spec.ttlSecondsAfterFinished).to.equal(3600);
  });
});
