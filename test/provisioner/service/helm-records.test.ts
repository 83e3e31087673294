import { expect } from "chai";
import { KubeApiError } from "../../../provisioner/kube";
import { EngineError } from "../../../provisioner/ports";
import { call, settle, startHarness, SUB, type Harness } from "../http/harness";

/** Spec §6.11: once a re-provision's `up` has adopted a Helm-era tenant, its Helm release records go. */
describe("provisioner service: Helm release records after adoption (§6.11)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  /** A tenant the Helm system installed: mirror row, live Secret and PVCs, and its release records. */
  const helmEraTenant = (id: string, revisions = 2) => {
    h.mirror.rows.set(id, { instance_id: Number(id), status: "running", subscription_id: SUB });
    h.kube.secrets.set(`mindroom-api-keys-${id}`, { sandbox_proxy_token: "legacy-token", credentials_encryption_key: "" });
    h.kube.pvcs.set(`mindroom-storage-${id}`, "local-path");
    return h.kube.addHelmRelease(`instance-${id}`, revisions);
  };
  const provision = async (id: string) => {
    const res = await call(h, "POST", "/system/provision", { body: { instance_id: Number(id) } });
    expect(res.status).to.equal(202);
    return settle(h, res.body.job_id as string);
  };
  const messages = (job: Record<string, unknown>) => (job.progress as { message: string }[]).map((p) => p.message);

  it("removes the records only after a successful up, reports them on the job and in an info log, keeps others' records", async () => {
    const records = helmEraTenant("500");
    const others = h.kube.addHelmRelease("instance-5000");
    let atUp: string[] = [];
    h.stacks.beforeUp = async () => {
      atUp = h.kube.helmRecords();
    };
    const job = await provision("500");
    expect(job.status).to.equal("succeeded");
    expect(atUp, "records still there while the stack is updated").to.include.members(records);
    expect(h.kube.helmRecords()).to.deep.equal(others);
    expect(messages(job)).to.include(`removed Helm release records ${records.join(", ")}`);
    const info = h.log.lines.find((l) => l.level === "info" && l.msg.startsWith("Removed Helm release records"));
    expect(info?.msg).to.equal(`Removed Helm release records ${records.join(", ")}: helm no longer manages instance 500`);
    expect(info?.obj).to.deep.include({ instance_id: "500", release: "instance-500", records });
    // Adopted, not recreated: the live token and storage class were kept.
    expect(h.kube.secrets.get("mindroom-api-keys-500")!.sandbox_proxy_token).to.equal("legacy-token");
    expect(h.kube.pvcs.get("mindroom-storage-500")).to.equal("local-path");
    expect(h.mirror.rows.get("500")!.status).to.equal("running");
  });

  it("a failing up leaves the records (Helm still owns the tenant) and never tries to delete them", async () => {
    const records = helmEraTenant("501");
    h.stacks.beforeUp = async () => {
      throw new EngineError("update failed: 1 resource errored");
    };
    const job = await provision("501");
    expect(job.status).to.equal("failed");
    expect(h.kube.helmRecords()).to.deep.equal(records);
    expect(h.kube.calls.filter((c) => c.startsWith("deleteHelmReleaseRecords"))).to.deep.equal([]);
    expect(h.mirror.rows.get("501")!.status).to.equal("error");
  });

  it("a failing delete keeps the job succeeded, with a warning log and a progress event giving the command to run by hand", async () => {
    const records = helmEraTenant("502");
    h.kube.failOn.set("deleteHelmReleaseRecords:instance-502", new KubeApiError('deleting secret/sh.helm.release.v1.instance-502.v1 failed: HTTP 403: secrets is forbidden', 403));
    const job = await provision("502");
    expect(job.status).to.equal("succeeded");
    expect((job.result as { success: boolean }).success).to.equal(true);
    expect(h.kube.helmRecords()).to.deep.equal(records);
    const command = "kubectl -n mindroom-instances delete secret -l owner=helm,name=instance-502 --field-selector type=helm.sh/release.v1";
    const event = messages(job).find((m) => m.startsWith("Helm release records of instance-502 not removed"));
    expect(event).to.equal(`Helm release records of instance-502 not removed; run by hand: ${command} (deleting secret/sh.helm.release.v1.instance-502.v1 failed: HTTP 403: secrets is forbidden)`);
    const warn = h.log.lines.find((l) => l.level === "warn" && l.msg.includes("Helm release records"));
    expect(warn?.msg).to.equal(`Could not remove the Helm release records of instance-502; run by hand: ${command}`);
    expect(h.mirror.rows.get("502")).to.include({ status: "running", last_error: null });
  });

  it("a tenant without Helm records (new, or already migrated) gets no Helm event or log", async () => {
    const res = await call(h, "POST", "/system/provision", { body: { subscription_id: SUB } });
    const job = await settle(h, res.body.job_id as string);
    expect(job.status).to.equal("succeeded");
    expect(h.kube.calls).to.include("deleteHelmReleaseRecords:instance-1");
    expect(messages(job).join("\n")).to.not.contain("Helm");
    expect(h.log.text()).to.not.contain("Helm release records");
  });
});
