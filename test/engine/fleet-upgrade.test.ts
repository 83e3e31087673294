/**
 * A fleet upgrade through the REAL provisioner over HTTP with the real Pulumi CLI and kubernetes
 * provider against the test control plane: two tenants, one stopped; `POST /system/upgrade` with a
 * new MindRoom image; the cluster then runs the new image in both, the stopped tenant at 0 replicas.
 * No kubelet runs, so the running tenant never becomes ready: its upgrade job reports exactly that
 * (the stack work is done), and the test asserts the report, never fakes readiness.
 */
import { expect } from "chai";
import { apiRequest, type ApiTarget } from "./support/api";
import { tenantNamespaceTarget } from "./support/tenant-namespace";
import { startEngineProvisioner, type EngineProvisioner } from "./support/provisioner";

const NS = "mindroom-instances";
/** Ids of this file's tenants start here: other engine tests share the control plane. */
const FIRST_ID = 7301;
const NEW_IMAGE = "ghcr.io/mindroom-ai/mindroom:engine-upgrade-test";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("engine: fleet upgrade through the real provisioner (HTTP → rollout → upgrade jobs → pulumi → kube-apiserver)", function () {
  let target: ApiTarget;
  let p: EngineProvisioner;
  const ids: string[] = [];

  const deployment = async (name: string): Promise<Json> => {
    const res = await apiRequest(target, "GET", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`);
    expect(res.status, `${name}: ${res.text}`).to.equal(200);
    return res.body;
  };
  const image = (d: Json) => (d.spec.template.spec.containers as { name: string; image: string }[]).find((c) => c.name === "mindroom")!.image;

  before(async function () {
    this.timeout(180_000);
    const ready = await tenantNamespaceTarget();
    const cluster = ready.cluster;
    target = ready.target;
    p = await startEngineProvisioner({
      kubeconfigPath: cluster.kubeconfigPath,
      env: { INSTANCE_STORAGE_CLASS_NAME: "engine-local", PROVISIONER_READINESS_TIMEOUT_SECONDS: "2", PROVISIONER_CONCURRENCY: "2" },
      lastInstanceId: FIRST_ID - 1,
    });
    for (const sub of ["3b1e5c3b-2d4f-4a6b-8c9d-0e1f2a3b4c01", "3b1e5c3b-2d4f-4a6b-8c9d-0e1f2a3b4c02"]) {
      const accepted = await p.request("POST", "/system/provision", { subscription_id: sub, tier: "free" });
      expect(accepted.status, accepted.text).to.equal(202);
      const job = (await p.settle(accepted.body.job_id as string, 170_000)).body;
      expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
      ids.push(String(job.instance_id));
    }
  });

  after(async function () {
    this.timeout(180_000);
    if (this.currentTest?.state === "failed" || !p) console.log(p?.logText().split("\n").slice(-40).join("\n"));
    for (const id of ids) {
      const res = await p?.request("DELETE", `/system/instances/${id}/uninstall?delete_data=true`);
      if (res?.body?.job_id) await p.settle(res.body.job_id as string, 170_000).catch(() => undefined);
      await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`);
    }
    await p?.stop();
  });

  it("upgrades every tenant to the new image; the stopped one stays at 0 replicas; the running one is reported not ready (no kubelet)", async function () {
    this.timeout(300_000);
    const [running, stopped] = ids;
    const stop = await p.request("POST", `/system/instances/${stopped}/stop`);
    expect(stop.status, stop.text).to.equal(200);
    const before = await deployment(`mindroom-${running}`);
    expect(image(before)).to.not.equal(NEW_IMAGE);

    const started = Date.now();
    const accepted = await p.request("POST", "/system/upgrade", { all: true, mindroom_image: NEW_IMAGE, max_failures: 10 });
    expect(accepted.status, accepted.text).to.equal(202);
    expect(accepted.body.instance_ids).to.include.members(ids);
    const rollout = (await p.settle(accepted.body.job_id as string, 280_000)).body;
    console.log(`      - rollout of ${ids.length} tenants: ${rollout.status} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(rollout.status, JSON.stringify(rollout)).to.equal("succeeded");
    const outcome = Object.fromEntries((rollout.result.instances as Json[]).map((o) => [o.instance_id, o]));
    expect(outcome[stopped].status, JSON.stringify(outcome[stopped])).to.equal("succeeded");
    expect(outcome[running].status).to.equal("failed");
    expect(outcome[running].error).to.match(new RegExp(`Instance ${running} was upgraded but is not ready after 2 s`));

    for (const id of ids) expect(image(await deployment(`mindroom-${id}`)), `mindroom-${id} image`).to.equal(NEW_IMAGE);
    const stoppedDeployments = [await deployment(`mindroom-${stopped}`), await deployment(`synapse-${stopped}`)];
    for (const d of stoppedDeployments) expect(d.spec.replicas, `${d.metadata.name} replicas`).to.equal(0);
    expect((await deployment(`mindroom-${running}`)).spec.replicas).to.equal(1);
    const view = await p.request("GET", `/system/instances/${stopped}`);
    expect(view.body).to.include({ status: "stopped", desired_state: "stopped" });
  });

  it("a preview afterwards is clean, and a re-provision keeps the upgraded image", async function () {
    this.timeout(300_000);
    const [running] = ids;
    const preview = await p.request("POST", `/system/instances/${running}/preview`, undefined, { Prefer: "wait=120" });
    expect(preview.status, preview.text).to.equal(200);
    expect(preview.body, preview.text).to.include({ drifted: false });
    const reprovision = await p.request("POST", "/system/provision", { instance_id: running });
    const job = (await p.settle(reprovision.body.job_id as string, 170_000)).body;
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    expect(image(await deployment(`mindroom-${running}`))).to.equal(NEW_IMAGE);
  });
});
