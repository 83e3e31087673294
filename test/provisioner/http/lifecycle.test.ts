import { expect } from "chai";
import { FakeInstanceMirror } from "../../../provisioner/fakes/mirror";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";
import { EngineError } from "../../../provisioner/ports";
import { call, gate, settle, startHarness, SUB, type Harness } from "./harness";

describe("provisioner HTTP: start, stop, restart, uninstall, sync", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const provision = async () => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "byok" } });
    expect(res.status).to.equal(200);
    h.kube.calls.length = 0;
    return String(res.body.customer_id);
  };

  it("start scales synapse then mindroom to 1, records the desired state and the row", async () => {
    const id = await provision();
    h.kube.deployments.get(`mindroom-${id}`)!.replicas = 0;
    const res = await call(h, "POST", `/system/instances/${id}/start`);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ success: true, message: `Instance ${id} started successfully` });
    expect(h.kube.mutations()).to.deep.equal([`scale:synapse-${id}`, `scale:mindroom-${id}`]);
    expect(h.stacks.stacks.get(id)!.desiredState).to.equal("running");
    expect(h.mirror.rows.get(id)!.status).to.equal("running");
  });

  it("stop scales mindroom then synapse to 0; the row is stopped and the stack records it", async () => {
    const id = await provision();
    const res = await call(h, "POST", `/system/instances/${id}/stop`);
    expect(res.body).to.deep.equal({ success: true, message: `Instance ${id} stopped successfully` });
    expect(h.kube.mutations()).to.deep.equal([`scale:mindroom-${id}`, `scale:synapse-${id}`]);
    expect(h.kube.deployments.get(`mindroom-${id}`)!.replicas).to.equal(0);
    expect(h.stacks.stacks.get(id)!.desiredState).to.equal("stopped");
    expect(h.mirror.rows.get(id)!.status).to.equal("stopped");
  });

  it("restart rolls synapse then mindroom and writes no status", async () => {
    const id = await provision();
    const writes = h.mirror.writes.length;
    const res = await call(h, "POST", `/system/instances/${id}/restart`);
    expect(res.body).to.deep.equal({ success: true, message: `Instance ${id} restarted successfully` });
    expect(h.kube.mutations()).to.deep.equal([`restart:synapse-${id}`, `restart:mindroom-${id}`]);
    expect(h.mirror.writes.length).to.equal(writes);
  });

  it("answers 404 when the MindRoom Deployment is missing (any read failure counts as missing)", async () => {
    for (const verb of ["start", "stop", "restart"]) {
      const res = await call(h, "POST", `/system/instances/77/${verb}`);
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ detail: "Deployment deployment/mindroom-77 not found" });
    }
    h.kube.deployments.set("mindroom-78", { replicas: 1, rolledOut: true });
    h.kube.failOn.set("deploymentExists:mindroom-78", new Error("forbidden"));
    expect((await call(h, "POST", "/system/instances/78/start")).status).to.equal(404);
  });

  it("answers 503 with the fix, touching nothing, when the provisioner has no Kubernetes credentials at all", async () => {
    const id = await provision();
    await h.close();
    const reason = "Kubernetes API unavailable: no credentials; set KUBECONFIG or run in the cluster";
    h = await startHarness({ deps: { kubeUnavailable: reason } });
    for (const verb of ["start", "stop", "restart"]) {
      const res = await call(h, "POST", `/system/instances/${id}/${verb}`);
      expect(res.status).to.equal(503);
      expect(res.body).to.deep.equal({ detail: `Instance ${verb} is not available in this environment: ${reason}` });
    }
    expect(h.kube.calls).to.deep.equal([]);
    expect(h.mirror.writes).to.deep.equal([]);
    expect((await fetch(`${h.url}/readyz`)).status).to.equal(503);
  });

  it("stops at the first failing call with a 500 naming the Deployment, and leaves the row alone", async () => {
    const id = await provision();
    h.kube.failOn.set(`scale:mindroom-${id}`, new Error("connection refused"));
    const res = await call(h, "POST", `/system/instances/${id}/start`);
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal(`Failed to start instance: Kubernetes scale failed for deployment/mindroom-${id}: connection refused`);
    expect(h.kube.mutations()).to.deep.equal([`scale:synapse-${id}`, `scale:mindroom-${id}`]);
    h.kube.failOn.set(`scale:mindroom-${id}`, new Error("x"));
    const stop = await call(h, "POST", `/system/instances/${id}/stop`);
    expect(stop.status).to.equal(500);
    expect(h.kube.mutations().filter((c) => c === `scale:synapse-${id}`)).to.have.length(1);
  });

  it("rejects ids that are not DNS-safe positive integers with 422 before touching Kubernetes", async () => {
    for (const bad of ["abc", "0", "-1", "1.5", "01", "99999999999", "a_b", "1%2F2", "x%00"]) {
      const res = await call(h, "POST", `/system/instances/${bad}/start`);
      expect(res.status, bad).to.equal(422);
      const detail = res.body.detail as { loc: unknown[]; msg: string }[];
      expect(detail.map((d) => d.loc)).to.deep.equal([["path", "instance_id"]]);
      // One error that says what to send, not also the range check of a value that is no number at all.
      expect(detail[0].msg, bad).to.equal("instance_id must be a positive integer such as 42");
    }
    expect(h.kube.calls).to.deep.equal([]);
  });

  it("uninstall keeps both PVCs by default and reports them; the row becomes deprovisioned (Deviation 9)", async () => {
    const id = await provision();
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall`);
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ success: true, message: `Instance ${id} uninstalled successfully`, kept_volumes: [`mindroom-storage-${id}`, `synapse-storage-${id}`] });
    expect(h.stacks.calls.filter((c) => c.op === "destroy")).to.deep.equal([{ op: "destroy", instanceId: id }]);
    expect(h.kube.mutations().filter((m) => m.startsWith("deletePvc"))).to.deep.equal([]);
    expect(h.kube.pvcs.has(`mindroom-storage-${id}`)).to.equal(true);
    expect(h.kube.secrets.has(`mindroom-api-keys-${id}`)).to.equal(true);
    expect(h.mirror.rows.get(id)!.status).to.equal("deprovisioned");
  });

  it("a deprovisioned tenant claims no desired state (no `desired_state: running`), also after a restart", async () => {
    const id = await provision();
    expect((await call(h, "GET", `/system/instances/${id}`)).body.desired_state).to.equal("running");
    expect((await call(h, "DELETE", `/system/instances/${id}/uninstall`)).status).to.equal(200);
    const after = await call(h, "GET", `/system/instances/${id}`);
    expect(after.body.status).to.equal("deprovisioned");
    expect(after.body).to.not.have.property("desired_state");
    await h.close({ keepData: true });
    h = await startHarness({ dataDir: h.dataDir, stacks: h.stacks, kube: h.kube, mirror: h.mirror });
    const booted = await call(h, "GET", `/system/instances/${id}`);
    expect(booted.body.status).to.equal("deprovisioned");
    expect(booted.body).to.not.have.property("desired_state");
  });

  it("uninstall with delete_data=true removes the PVCs; a re-provision after a keeping uninstall reuses the Secret's key", async () => {
    const id = await provision();
    const key = h.kube.secrets.get(`mindroom-api-keys-${id}`)!.sandbox_proxy_token;
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall?delete_data=true`);
    expect(res.body.kept_volumes).to.deep.equal([]);
    expect(h.kube.pvcs.size).to.equal(0);
    const again = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: id } });
    expect(again.status).to.equal(200);
    expect(h.kube.secrets.get(`mindroom-api-keys-${id}`)!.sandbox_proxy_token).to.equal(key);
  });

  it("deletes the PVCs the destroy left when data deletion was asked for (the service is their one deleter)", async () => {
    const id = await provision();
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall?delete_data=1`);
    expect(res.body.kept_volumes).to.deep.equal([]);
    expect(h.kube.mutations()).to.include(`deletePvc:mindroom-storage-${id}`);
  });

  it("delete_data=true with a failing PVC delete names the PVC and the kubectl fix; the row is deprovisioned with the error", async () => {
    const id = await provision();
    h.kube.failOn.set(`deletePvc:mindroom-storage-${id}`, new Error("forbidden"));
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall?delete_data=true`);
    expect(res.status).to.equal(500);
    const detail = String(res.body.detail);
    expect(detail).to.not.include("unexpected error");
    expect(detail).to.not.include("\n");
    expect(detail).to.include(`mindroom-storage-${id}`);
    expect(detail).to.not.include(`synapse-storage-${id}`);
    expect(detail).to.include(`kubectl -n mindroom-instances delete pvc mindroom-storage-${id}`);
    expect(h.kube.pvcs.has(`synapse-storage-${id}`)).to.equal(false);
    expect(h.mirror.rows.get(id)).to.include({ status: "deprovisioned", last_error: detail });
  });

  it("uninstall of an instance without stack is idempotent (200) and invents no row", async () => {
    const res = await call(h, "DELETE", "/system/instances/555/uninstall");
    expect(res.status).to.equal(200);
    expect(res.body.success).to.equal(true);
    expect(h.mirror.writes).to.deep.equal([]);
  });

  it("uninstall failing in the engine → 500 with the short reason; bad delete_data → 422", async () => {
    const id = await provision();
    h.stacks.beforeDestroy = async () => {
      throw new EngineError("destroy failed: resource still in use");
    };
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall`);
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal("Failed to uninstall instance: destroy failed: resource still in use");
    const bad = await call(h, "DELETE", `/system/instances/${id}/uninstall?delete_data=maybe`);
    expect(bad.status).to.equal(422);
    expect((bad.body.detail as { loc: unknown[] }[])[0].loc).to.deep.equal(["query", "delete_data"]);
  });

  it("uninstall still running after the wait bound answers 202 with Location; the job finishes later", async () => {
    const id = await provision();
    const g = gate();
    h.stacks.beforeDestroy = () => g.promise;
    const res = await call(h, "DELETE", `/system/instances/${id}/uninstall`, { headers: { Prefer: "wait=0" } });
    expect(res.status).to.equal(202);
    const jobId = res.body.job_id as string;
    expect(res.headers.get("location")).to.equal(`/system/jobs/${jobId}`);
    g.open();
    const job = await settle(h, jobId);
    expect(job.status).to.equal("succeeded");
    expect((await call(h, "GET", `/system/jobs/${jobId}`)).body).to.include({ kind: "uninstall", status: "succeeded" });
  });

  it("sync reconciles rows with the Deployments by upstream rules and adds rows for stacks the mirror lacks", async () => {
    const id = await provision(); // stack + row, running
    h.mirror.rows.set("123", { instance_id: 123, status: "running" });
    h.mirror.rows.set("456", { instance_id: 456, status: "stopped" });
    h.mirror.rows.set("789", { instance_id: 789, status: "running" });
    h.mirror.rows.set("790", { instance_id: 790, status: "deprovisioned" });
    h.kube.deployments.set("mindroom-123", { replicas: 1, rolledOut: true });
    h.kube.deployments.set("mindroom-456", { replicas: 1, rolledOut: true });
    h.mirror.rows.delete(id); // the mirror lost this row
    const res = await call(h, "POST", "/system/sync-instances");
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      total: 5,
      synced: 3,
      errors: 0,
      updates: [
        { instance_id: 456, old_status: "stopped", new_status: "running", reason: "status_mismatch" },
        { instance_id: 789, old_status: "running", new_status: "error", reason: "deployment_not_found" },
        { instance_id: Number(id), old_status: "missing", new_status: "running", reason: "missing_row" },
      ],
      drifted: [],
    });
    // The corrections of the walk are one durable batch (the missing row is recorded on its own).
    expect(h.mirror.batches.map((b) => b.map((r) => r.instance_id))).to.deep.equal([[456, 789]]);
    expect(h.mirror.rows.get("789")).to.include({ status: "error" });
    expect(h.mirror.rows.get("789")!.kubernetes_synced_at).to.be.a("string");
    expect(h.mirror.rows.get(id)).to.include({ status: "running", stack_name: `instance-${id}`, subscription_id: SUB });
  });

  it("sync does not write a row it cannot insert: a stack with no row and an unknown subscription is reported, not mirrored", async () => {
    await h.close();
    const stacks = new FakeTenantStacks();
    stacks.stacks.set("77", { spec: { instanceId: "77", values: {}, tags: { customer: "77", account: "", tier: "free", desiredState: "running" } }, desiredState: "running", resourceCount: 12, lastUpdate: "" });
    h = await startHarness({ stacks });
    h.kube.deployments.set("mindroom-77", { replicas: 1, rolledOut: true });
    const res = await call(h, "POST", "/system/sync-instances");
    expect(res.body).to.deep.equal({
      total: 1,
      synced: 0,
      errors: 1,
      updates: [{ instance_id: 77, old_status: "missing", new_status: "missing", reason: "missing_row_subscription_unknown" }],
      drifted: [],
    });
    expect(h.mirror.writes).to.deep.equal([]);
  });

  it("sync without Supabase answers 200 from the stacks and the Deployments, updating the in-memory status only", async () => {
    await h.close();
    h = await startHarness({ mirror: new FakeInstanceMirror(false) });
    const a = await provision();
    const b = String((await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", tier: "byok" } })).body.customer_id);
    const c = String((await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: "7f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", tier: "byok" } })).body.customer_id);
    h.kube.deployments.get(`mindroom-${a}`)!.replicas = 0;
    h.kube.deployments.delete(`mindroom-${b}`);
    const res = await call(h, "POST", "/system/sync-instances");
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({
      total: 3,
      synced: 2,
      errors: 0,
      updates: [
        { instance_id: Number(a), old_status: "running", new_status: "stopped", reason: "status_mismatch" },
        { instance_id: Number(b), old_status: "running", new_status: "error", reason: "deployment_not_found" },
      ],
      drifted: [],
    });
    expect(c).to.not.equal(a);
    expect(h.mirror.writes).to.deep.equal([]);
    expect((await call(h, "POST", "/system/sync-instances")).body).to.include({ total: 3, synced: 0, errors: 0 });
  });

  it("sync: empty table → zeros; a row without key → an error; a failing Deployment list → 500 changing nothing (Deviation); failing select → 500", async () => {
    expect((await call(h, "POST", "/system/sync-instances")).body).to.deep.equal({ total: 0, synced: 0, errors: 0, updates: [], drifted: [] });
    h.mirror.rows.set("", { instance_id: "", status: "running" });
    h.mirror.rows.set("5", { instance_id: 5, status: "running" });
    h.kube.deployments.set("mindroom-5", { replicas: 1, rolledOut: true });
    expect((await call(h, "POST", "/system/sync-instances")).body).to.include({ total: 2, synced: 0, errors: 1 });
    h.mirror.rows.set("6", { instance_id: 6, status: "running" });
    h.kube.failOn.set("mindroomReplicas:*", new Error("boom"));
    const failed = await call(h, "POST", "/system/sync-instances");
    expect(failed.status).to.equal(500);
    expect(failed.body).to.deep.equal({ detail: "Failed to sync instances: cannot list the tenant Deployments (boom); nothing was changed" });
    expect(h.mirror.rows.get("6")!.status).to.equal("running");
    h.kube.failOn.delete("mindroomReplicas:*");
    h.mirror.readError = new Error("connection refused");
    const res = await call(h, "POST", "/system/sync-instances");
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ detail: "Failed to sync instances: connection refused" });
  });
});
