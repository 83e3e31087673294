import { expect } from "chai";
import { EngineError, type TenantSpec } from "../../../provisioner/ports";
import { ACCOUNT, call, gate, settle, startHarness, type Harness } from "./harness";

const NEW_IMAGE = "ghcr.io/mindroom-ai/mindroom:v9.9.9";
const subscription = (n: number) => `5f0c7a8e-1d2b-4c3d-8e9f-${String(n).padStart(12, "0")}`;

/** The values of the last `up` of a tenant. */
const lastUp = (h: Harness, id: string): TenantSpec => {
  const ups = h.stacks.calls.filter((c) => c.op === "up" && c.instanceId === id);
  return (ups[ups.length - 1] as { spec: TenantSpec }).spec;
};

describe("provisioner HTTP: fleet upgrade, preview, drift, re-provision keeps what the tenant has", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { PROVISIONER_CONCURRENCY: "2" } });
    h.mirror.accounts.set(ACCOUNT, "owner@example.com");
  });
  afterEach(() => h.close());

  const provision = async (n: number, body: Record<string, unknown> = {}) => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription(n), tier: "byok", ...body } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return String(res.body.customer_id);
  };

  const rollout = async (path: string, body: unknown) => {
    const res = await call(h, "POST", path, { body });
    expect(res.status, JSON.stringify(res.body)).to.equal(202);
    expect(res.headers.get("location")).to.equal(`/system/jobs/${res.body.job_id}`);
    const job = await settle(h, res.body.job_id as string, 10_000);
    return { accepted: res.body, job, result: job.result as Record<string, unknown> & { instances: Record<string, unknown>[] } };
  };

  describe("re-provision", () => {
    it("with only instance_id keeps the tier (volume size), the account (owner) and the subscription", async () => {
      const id = await provision(1, { tier: "enterprise", account_id: ACCOUNT });
      const res = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: Number(id) } });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      const spec = lastUp(h, id);
      expect(spec.tags.tier).to.equal("enterprise");
      expect(spec.values.storage).to.equal("25Gi");
      expect(spec.tags.account).to.equal(ACCOUNT);
      expect(spec.values.accountId).to.equal(ACCOUNT);
      expect(spec.values.authorizationGlobalUsers).to.have.length(1);
      expect(h.mirror.rows.get(id)).to.include({ tier: "enterprise", account_id: ACCOUNT, subscription_id: subscription(1) });
    });

    it("a tier or account in the request still wins; account_id null drops the owner as upstream", async () => {
      const id = await provision(2, { tier: "enterprise", account_id: ACCOUNT });
      await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: id, tier: "free", account_id: null } });
      const spec = lastUp(h, id);
      expect(spec.tags.tier).to.equal("free");
      expect(spec.values.accountId).to.equal("None");
      expect(spec.values).to.not.have.property("authorizationGlobalUsers");
    });

    it("legacy tier names map as upstream's migration did: starter → byok, professional → pro", async () => {
      const a = await provision(3, { tier: "starter" });
      expect(lastUp(h, a).tags.tier).to.equal("byok");
      // pro needs an OpenRouter key (not configured here): the row written before the 202 shows the mapping.
      const b = await call(h, "POST", "/system/provision", { body: { subscription_id: subscription(4), tier: "professional" } });
      expect(b.status).to.equal(202);
      expect(h.mirror.rows.get(String(b.body.customer_id))!.tier).to.equal("pro");
      await settle(h, b.body.job_id as string);
      const bad = await call(h, "POST", "/system/provision", { body: { subscription_id: subscription(5), tier: "gold" } });
      expect(bad.status).to.equal(422);
      expect(JSON.stringify(bad.body)).to.include("tier must be one of free, byok, hobby, pro, enterprise");
    });

    it("a retry by subscription after a restart finds its tenant from the stack's tag alone (no Supabase)", async () => {
      await h.close();
      const { FakeInstanceMirror } = await import("../../../provisioner/fakes/mirror");
      h = await startHarness({ mirror: new FakeInstanceMirror(false) });
      const id = await provision(7);
      expect(lastUp(h, id).tags.subscription).to.equal(subscription(7));
      await h.close({ keepData: true });
      h = await startHarness({ dataDir: h.dataDir, stacks: h.stacks, kube: h.kube, mirror: new FakeInstanceMirror(false) });
      const again = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription(7), tier: "byok" } });
      expect(again.status, JSON.stringify(again.body)).to.equal(200);
      expect(String(again.body.customer_id)).to.equal(id);
    });

    it("keeps the image an upgrade gave the tenant", async () => {
      const id = await provision(6);
      await rollout("/system/upgrade", { instance_ids: [id], mindroom_image: NEW_IMAGE });
      await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: id } });
      expect(lastUp(h, id).values.mindroom_image).to.equal(NEW_IMAGE);
    });
  });

  describe("POST /system/upgrade", () => {
    it("upgrades every selected tenant to a new image, one upgrade job each, and summarises", async () => {
      const ids = [await provision(10), await provision(11), await provision(12)];
      const { accepted, result, job } = await rollout("/system/upgrade", { all: true, mindroom_image: NEW_IMAGE });
      expect(accepted).to.include({ kind: "rollout", total: 3 });
      expect(accepted.instance_ids).to.deep.equal(ids);
      expect(result).to.include({ action: "upgrade", total: 3, succeeded: 3, failed: 0, skipped: 0, stopped_early: false });
      for (const id of ids) {
        expect(lastUp(h, id).values.mindroom_image).to.equal(NEW_IMAGE);
        expect(h.mirror.rows.get(id)!.status).to.equal("running");
      }
      const progress = (job.progress as { message: string }[]).map((p) => p.message);
      expect(progress).to.include(`3/3 upgraded: instance ${ids[2]}`);
      const children = await call(h, "GET", "/system/jobs?kind=upgrade");
      expect((children.body.jobs as unknown[]).length).to.equal(3);
    });

    it("with no change re-applies the tenants as they are", async () => {
      const id = await provision(13);
      const before = lastUp(h, id).values;
      const { result } = await rollout("/system/upgrade", { instance_ids: [id] });
      expect(result.succeeded).to.equal(1);
      const after = lastUp(h, id);
      expect(after).to.not.equal(undefined);
      expect(after.values.mindroom_image).to.equal(before.mindroom_image);
      expect(h.stacks.calls.filter((c) => c.op === "up" && c.instanceId === id)).to.have.length(2);
    });

    it("a stopped tenant stays stopped: rendered at 0 replicas, status stopped", async () => {
      const running = await provision(14);
      const stopped = await provision(15);
      expect((await call(h, "POST", `/system/instances/${stopped}/stop`)).status).to.equal(200);
      const { result } = await rollout("/system/upgrade", { all: true, mindroom_image: NEW_IMAGE });
      expect(result.succeeded).to.equal(2);
      expect(lastUp(h, stopped).values.stopped).to.equal(true);
      expect(lastUp(h, stopped).tags.desiredState).to.equal("stopped");
      expect(lastUp(h, running).values).to.not.have.property("stopped");
      expect(h.mirror.rows.get(stopped)!.status).to.equal("stopped");
      expect(h.kube.deployments.get(`mindroom-${stopped}`)!.replicas).to.equal(0);
      expect(h.kube.deployments.get(`mindroom-${running}`)!.replicas).to.equal(1);
      expect((await call(h, "GET", `/system/instances/${stopped}`)).body.desired_state).to.equal("stopped");
    });

    it("selects by tier and status", async () => {
      const pro = await provision(16, { tier: "enterprise" });
      await provision(17, { tier: "byok" });
      const res = await call(h, "POST", "/system/upgrade", { body: { all: true, tier: "enterprise", status: "running" } });
      expect(res.body.instance_ids).to.deep.equal([pro]);
      await settle(h, res.body.job_id as string);
    });

    it("stops starting tenants once the failure budget is spent; the rest are skipped", async () => {
      const ids = [await provision(20), await provision(21), await provision(22), await provision(23)];
      h.stacks.beforeUp = async (spec) => {
        if (spec.instanceId === ids[1]) throw new EngineError(`Tenant stack update of instance ${ids[1]} failed: image pull refused`);
      };
      const { result } = await rollout("/system/upgrade", { all: true, mindroom_image: NEW_IMAGE, concurrency: 1, max_failures: 1 });
      expect(result).to.include({ succeeded: 1, failed: 1, skipped: 2, stopped_early: true });
      expect(result.instances[1]).to.include({ instance_id: ids[1], status: "failed" });
      expect(String(result.instances[1].error)).to.include("image pull refused");
      expect(lastUp(h, ids[3]).values.mindroom_image).to.not.equal(NEW_IMAGE);
      expect(h.mirror.rows.get(ids[1])!.status).to.equal("error");
    });

    it("bounds children in flight by its concurrency", async () => {
      for (let n = 30; n < 34; n++) await provision(n);
      let inFlight = 0;
      let most = 0;
      h.stacks.beforeUp = async () => {
        most = Math.max(most, ++inFlight);
        await new Promise((r) => setTimeout(r, 30));
        inFlight--;
      };
      const { result } = await rollout("/system/upgrade", { all: true, concurrency: 1 });
      expect(result.succeeded).to.equal(4);
      expect(most).to.equal(1);
    });

    it("refuses bad requests before anything is queued, naming the field", async () => {
      const id = await provision(40);
      const cases: [unknown, number, string][] = [
        [{}, 422, "name the instances"],
        [{ all: true, instance_ids: [id] }, 422, "exclude each other"],
        [{ all: true, values: { openai_key: "sk-x" } }, 422, "openai_key is a secret"],
        [{ all: true, values: { mindroomResourcez: {} } }, 422, 'unknown key \\"mindroomResourcez\\"'],
        [{ all: true, mindroom_image: "not an image!" }, 422, "mindroom_image must be an image reference"],
        [{ all: true, concurrency: 0 }, 422, "concurrency"],
        [{ instance_ids: ["999"] }, 404, "Instances not provisioned: 999"],
        [{ all: true, tier: "pro" }, 404, "matches no provisioned instance"],
      ];
      for (const [body, status, text] of cases) {
        const res = await call(h, "POST", "/system/upgrade", { body });
        expect(res.status, JSON.stringify(body)).to.equal(status);
        expect(JSON.stringify(res.body), JSON.stringify(body)).to.include(text);
      }
      expect((await call(h, "GET", "/system/jobs?kind=rollout")).body.jobs).to.deep.equal([]);
    });

    it("resumes after a restart: waits for the children it started and starts the rest", async () => {
      const ids = [await provision(50), await provision(51), await provision(52)];
      const held = gate();
      h.stacks.beforeUp = () => held.promise;
      const res = await call(h, "POST", "/system/upgrade", { body: { all: true, mindroom_image: NEW_IMAGE, concurrency: 1 } });
      const rolloutId = res.body.job_id as string;
      for (let i = 0; i < 200 && !h.provisioner.runner.get(rolloutId)?.state; i++) await new Promise((r) => setTimeout(r, 10));
      await h.close({ keepData: true }); // the first child is mid-up, the rollout is running
      held.open();
      h = await startHarness({ dataDir: h.dataDir, mirror: h.mirror, stacks: h.stacks, kube: h.kube, env: { PROVISIONER_CONCURRENCY: "2" } });
      h.stacks.beforeUp = undefined;
      const job = await settle(h, rolloutId, 10_000);
      const result = job.result as Record<string, unknown>;
      expect(job.status).to.equal("succeeded");
      expect(result).to.include({ total: 3, succeeded: 3, failed: 0 });
      for (const id of ids) expect(lastUp(h, id).values.mindroom_image).to.equal(NEW_IMAGE);
      expect((job.progress as { message: string }[]).some((p) => p.message.startsWith("resumed: 1 started before the restart, 2 to go"))).to.equal(true);
    });
  });

  describe("preview and drift", () => {
    it("a tenant as deployed previews clean; an image change shows the Deployment update; nothing changes", async () => {
      const id = await provision(60);
      const mutations = h.stacks.mutations().length;
      const clean = await call(h, "POST", `/system/instances/${id}/preview`, { headers: { Prefer: "wait=5" } });
      expect(clean.status, JSON.stringify(clean.body)).to.equal(200);
      expect(clean.body, JSON.stringify(clean.body)).to.deep.include({ instance_id: id, drifted: false, resources: [] });
      const change = await call(h, "POST", `/system/instances/${id}/preview`, { body: { mindroom_image: NEW_IMAGE }, headers: { Prefer: "wait=5" } });
      expect(change.body.drifted).to.equal(true);
      expect(change.body.resources).to.deep.equal([{ type: "kubernetes:apps/v1:Deployment", name: `mindroom-${id}`, op: "update", diffs: ["mindroom_image"] }]);
      expect(h.stacks.mutations().length).to.equal(mutations);
      expect(lastUp(h, id).values.mindroom_image).to.not.equal(NEW_IMAGE);
    });

    it("the drift report lists drifted tenants and marks them; the next upgrade clears it", async () => {
      const ids = [await provision(61), await provision(62)];
      h.stacks.drifted.add(ids[1]);
      const { result } = await rollout("/system/drift", { all: true });
      expect(result).to.include({ action: "preview", total: 2, succeeded: 2, failed: 0 });
      expect(result.drifted).to.deep.equal([ids[1]]);
      expect((await call(h, "GET", `/system/instances/${ids[1]}`)).body.drift).to.equal("drifted");
      expect((await call(h, "GET", `/system/instances/${ids[0]}`)).body.drift).to.equal("clean");
      expect((await call(h, "POST", "/system/sync-instances")).body.drifted).to.deep.equal([ids[1]]);
      await rollout("/system/upgrade", { instance_ids: [ids[1]] });
      expect((await call(h, "POST", "/system/sync-instances")).body.drifted).to.deep.equal([]);
      expect((await rollout("/system/drift", { instance_ids: [ids[1]] })).result.drifted).to.deep.equal([]);
    });

    it("a preview of an unknown or uninstalled tenant is a 404; one failing preview does not stop the drift report", async () => {
      expect((await call(h, "POST", "/system/instances/77/preview")).status).to.equal(404);
      const ids = [await provision(63), await provision(64)];
      h.stacks.beforePreview = async (spec) => {
        if (spec.instanceId === ids[0]) throw new EngineError(`Tenant stack preview of instance ${ids[0]} failed: backend unreachable`);
      };
      const { result } = await rollout("/system/drift", { all: true });
      expect(result).to.include({ succeeded: 1, failed: 1, stopped_early: false });
      expect(String(result.instances[0].error)).to.include("backend unreachable");
    });
  });

  it("GET /system/jobs lists jobs newest first, filtered, and validates its query", async () => {
    const a = await provision(70);
    await provision(71);
    const all = await call(h, "GET", "/system/jobs");
    const jobs = all.body.jobs as { instance_id: string; kind: string }[];
    expect(jobs.map((j) => j.kind)).to.deep.equal(["provision", "provision"]);
    expect(jobs[1].instance_id).to.equal(a);
    expect(((await call(h, "GET", `/system/jobs?instance_id=${a}`)).body.jobs as unknown[]).length).to.equal(1);
    expect(((await call(h, "GET", "/system/jobs?limit=1")).body.jobs as unknown[]).length).to.equal(1);
    const bad = await call(h, "GET", "/system/jobs?kind=deploy");
    expect(bad.status).to.equal(422);
    expect(JSON.stringify(bad.body)).to.include("kind must be one of provision, uninstall, upgrade, preview, rollout");
  });
});
