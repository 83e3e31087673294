/**
 * One tenant through the REAL provisioner over HTTP (`tsx provisioner/main.ts`), with the real
 * Pulumi CLI, language host and kubernetes provider against the test control plane: provision,
 * a no-op re-provision, stop/start/restart, uninstall keeping the data, re-provision adopting it,
 * uninstall with delete_data. No kubelet runs, so no pod ever becomes ready: the readiness waits
 * are short and the test asserts what the provisioner reports about that, never fakes readiness.
 */
import { expect } from "chai";
import { apiRequest, type ApiTarget } from "./support/api";
import { tenantNamespaceTarget } from "./support/tenant-namespace";
import { filesBelow, startEngineProvisioner, type EngineProvisioner, type Exchange } from "./support/provisioner";

const NS = "mindroom-instances";
const SUBSCRIPTION = "7a1e5c3b-2d4f-4a6b-8c9d-0e1f2a3b4c5d";
const STORAGE_CLASS = "engine-local";
/** Ids of this file's tenants start here: other engine tests share the control plane (and its namespace). */
const FIRST_ID = 7101;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** The tenant's objects by kind and name (upstream's names, components/instance/names.ts). */
function tenantObjects(id: string): Array<{ path: string; what: string }> {
  const core = `/api/v1/namespaces/${NS}`;
  const apps = `/apis/apps/v1/namespaces/${NS}`;
  const net = `/apis/networking.k8s.io/v1/namespaces/${NS}`;
  return [
    { path: `${apps}/deployments/mindroom-${id}`, what: `Deployment mindroom-${id}` },
    { path: `${apps}/deployments/synapse-${id}`, what: `Deployment synapse-${id}` },
    { path: `${core}/secrets/mindroom-api-keys-${id}`, what: `Secret mindroom-api-keys-${id}` },
    { path: `${core}/persistentvolumeclaims/mindroom-storage-${id}`, what: `PVC mindroom-storage-${id}` },
    { path: `${core}/persistentvolumeclaims/synapse-storage-${id}`, what: `PVC synapse-storage-${id}` },
    { path: `${core}/configmaps/mindroom-config-${id}`, what: `ConfigMap mindroom-config-${id}` },
    { path: `${core}/configmaps/synapse-config-${id}`, what: `ConfigMap synapse-config-${id}` },
    { path: `${core}/services/mindroom-${id}`, what: `Service mindroom-${id}` },
    { path: `${core}/services/synapse-${id}`, what: `Service synapse-${id}` },
    { path: `${net}/ingresses/${id}-ingress`, what: `Ingress ${id}-ingress` },
    { path: `${net}/networkpolicies/instance-traffic-controls-${id}`, what: `NetworkPolicy instance-traffic-controls-${id}` },
  ];
}

const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

describe("engine: one tenant through the real provisioner (HTTP → Automation API → pulumi → kube-apiserver)", function () {
  let target: ApiTarget;
  let p: EngineProvisioner;
  let id = "";
  let secretData: Record<string, string> = {};
  const pvcUids: Record<string, string> = {};
  const timings: Record<string, number> = {};

  const get = async (path: string): Promise<Json> => {
    const res = await apiRequest(target, "GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body?.message ?? res.text}`);
    return res.body;
  };
  const exists = async (path: string) => (await apiRequest(target, "GET", path)).status === 200;
  const snapshot = async () => Object.fromEntries(await Promise.all(tenantObjects(id).map(async (o) => [o.what, (await get(o.path)).metadata] as const)));

  /** A job request answered 202, then polled until it finished; returns the finished job. */
  const runJob = async (label: string, send: () => Promise<Exchange>): Promise<Json> => {
    const started = Date.now();
    const accepted = await send();
    expect(accepted.status, `${label}: ${accepted.text}`).to.be.oneOf([200, 202]);
    const jobId = accepted.body.job_id ?? /\/system\/jobs\/(.+)$/.exec(accepted.headers.location ?? "")?.[1];
    expect(jobId, `${label}: job id in ${accepted.text}`).to.be.a("string");
    const job = (await p.settle(jobId)).body;
    timings[label] = Date.now() - started;
    console.log(`      - ${label}: ${job.status} in ${secs(timings[label])}; ${(job.progress as { message: string }[]).filter((e) => e.message.startsWith("finished")).map((e) => e.message).join("; ")}`);
    return job;
  };

  before(async function () {
    this.timeout(180_000);
    const ready = await tenantNamespaceTarget();
    const cluster = ready.cluster;
    target = ready.target;
    const started = Date.now();
    p = await startEngineProvisioner({ kubeconfigPath: cluster.kubeconfigPath, env: { INSTANCE_STORAGE_CLASS_NAME: STORAGE_CLASS }, lastInstanceId: FIRST_ID - 1 });
    timings.boot = Date.now() - started;
    console.log(`      - provisioner booted in ${secs(timings.boot)} (pid ${p.pid()}, data dir ${p.dataDir})`);
  });

  after(async function () {
    this.timeout(60_000);
    if (this.currentTest?.state === "failed" || !p) console.log(p?.logText().split("\n").slice(-40).join("\n"));
    console.log(`      - timings: ${Object.entries(timings).map(([k, v]) => `${k} ${secs(v)}`).join(", ")}`);
    await p?.stop();
    // The tenant Secret outlives every uninstall (spec §7.4); leave the shared namespace clean.
    if (id) await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`);
  });

  it("provision: the job succeeds and the tenant's objects exist with upstream's names, labels, env and storage class", async () => {
    const job = await runJob("provision", () => p.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "free" }));
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    id = String(job.instance_id);
    expect(id, "the first id above the seeded high-water mark").to.equal(String(FIRST_ID));
    expect(job.result).to.include({ customer_id: Number(id), success: true, frontend_url: `https://${id}.mindroom.test` });
    // No kubelet: the pods never become ready, and the job says the instance is still getting ready.
    expect(job.result.message).to.equal("Provisioning started; instance is getting ready");
    const messages = (job.progress as { message: string }[]).map((e) => e.message);
    expect(messages).to.include("finished: 15 created");
    expect(messages, "the engine's end-of-stream CancelEvent is not a cancellation").not.to.include("cancelled");

    for (const o of tenantObjects(id)) expect(await exists(o.path), o.what).to.equal(true);
    const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;
    const mindroom = await get(`${apps}/mindroom-${id}`);
    const synapse = await get(`${apps}/synapse-${id}`);
    for (const [d, app] of [[mindroom, "mindroom"], [synapse, "synapse"]] as const) {
      expect(d.metadata.labels, `${d.metadata.name} labels`).to.include({ app, customer: id });
      expect(d.spec.replicas, `${d.metadata.name} replicas`).to.equal(1);
      expect(d.spec.selector.matchLabels).to.deep.equal({ app, customer: id });
      expect(d.metadata.annotations, `${d.metadata.name} annotations`).to.include({ "pulumi.com/skipAwait": "true" });
      const managers = (d.metadata.managedFields as { manager: string; operation: string }[]).map((m) => `${m.manager}/${m.operation}`);
      expect(managers.some((m) => m.endsWith("/Apply")), `${d.metadata.name} is server-side applied (${managers})`).to.equal(true);
    }
    const env = mindroom.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: Json }[];
    expect(env.length, "mindroom env").to.be.greaterThan(5);
    // Secret values reach the container through secretKeyRefs only, never as literal values.
    const fromSecret = env.filter((e) => e.valueFrom?.secretKeyRef);
    expect(fromSecret.length, "env from the tenant Secret").to.be.greaterThan(0);
    for (const e of fromSecret) expect(e.valueFrom.secretKeyRef.name, e.name).to.equal(`mindroom-api-keys-${id}`);

    const secret = await get(`/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`);
    secretData = secret.data;
    expect(Object.keys(secretData).length, `Secret keys ${Object.keys(secretData)}`).to.be.at.least(8);
    expect(secretData, "Secret keys").to.include.keys("matrix_registration_shared_secret", "sandbox_proxy_token");

    for (const name of [`mindroom-storage-${id}`, `synapse-storage-${id}`]) {
      const pvc = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`);
      expect(pvc.spec.storageClassName, `${name} storage class (INSTANCE_STORAGE_CLASS_NAME)`).to.equal(STORAGE_CLASS);
      expect(pvc.metadata.labels ?? {}, `${name} labels`).to.include({ customer: id });
      pvcUids[name] = pvc.metadata.uid;
    }
    const ingress = await get(`/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses/${id}-ingress`);
    const hosts = (ingress.spec.rules as { host: string }[]).map((r) => r.host);
    expect(hosts).to.include.members([`${id}.mindroom.test`, `${id}.api.mindroom.test`, `${id}.matrix.mindroom.test`]);

    const view = await p.request("GET", `/system/instances/${id}`);
    expect(view.status, view.text).to.equal(200);
    expect(view.body).to.include({ stack_name: `engine-${id}` });
    console.log(`      - instance view after provision: status ${view.body.status}, desired ${view.body.desired_state}`);
    // The background readiness wait (1 s here) runs out: no pod ever rolls out, so never `running`.
    await new Promise((r) => setTimeout(r, 3_000));
    const later = await p.request("GET", `/system/instances/${id}`);
    console.log(`      - instance view after the background readiness wait: status ${later.body.status}, last_error ${JSON.stringify(later.body.last_error ?? null)}`);
    // Spec §6.12: a background wait that runs out writes nothing, so the row stays `provisioning`.
    expect(later.body.status, "no pod ran, so the tenant is not reported running").to.equal("provisioning");
  });

  it("a restarted provisioner (same data dir) knows the tenant from its stack", async () => {
    const started = Date.now();
    await p.restart();
    timings.restart = Date.now() - started;
    const view = await p.request("GET", `/system/instances/${id}`);
    expect(view.status, view.text).to.equal(200);
    expect(view.body).to.include({ stack_name: `engine-${id}` });
  });

  it("re-provision of the same tenant changes nothing: the engine reports every resource unchanged and no object's resourceVersion moved", async () => {
    const before = await snapshot();
    const job = await runJob("re-provision (no-op)", () => p.request("POST", "/system/provision", { instance_id: Number(id), tier: "free" }));
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    const messages = (job.progress as { message: string }[]).map((e) => e.message);
    expect(messages.filter((m) => m.startsWith("finished"))).to.deep.equal(["finished: 15 unchanged"]);
    expect(messages.filter((m) => /^(updat|creat|delet|replac)/.test(m)), "resource operations").to.deep.equal([]);
    const after = await snapshot();
    for (const [what, meta] of Object.entries(after)) {
      expect(meta.uid, `${what} uid`).to.equal(before[what].uid);
      expect(meta.resourceVersion, `${what} resourceVersion`).to.equal(before[what].resourceVersion);
    }
  });

  it("stop, start and restart through the API scale both Deployments and stamp the restart annotation", async () => {
    const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;
    const replicas = async () => [(await get(`${apps}/mindroom-${id}`)).spec.replicas, (await get(`${apps}/synapse-${id}`)).spec.replicas];

    const stop = await p.request("POST", `/system/instances/${id}/stop`);
    expect(stop.status, stop.text).to.equal(200);
    expect(stop.body.success).to.equal(true);
    expect(await replicas()).to.deep.equal([0, 0]);
    expect((await p.request("GET", `/system/instances/${id}`)).body.status).to.equal("stopped");

    const start = await p.request("POST", `/system/instances/${id}/start`);
    expect(start.status, start.text).to.equal(200);
    expect(await replicas()).to.deep.equal([1, 1]);

    const restart = await p.request("POST", `/system/instances/${id}/restart`);
    expect(restart.status, restart.text).to.equal(200);
    for (const name of [`mindroom-${id}`, `synapse-${id}`]) {
      const d = await get(`${apps}/${name}`);
      const stamp = d.spec.template.metadata.annotations?.["kubectl.kubernetes.io/restartedAt"];
      expect(stamp, `${name} restartedAt`).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      expect(Date.now() - Date.parse(stamp), `${name} restartedAt is recent`).to.be.lessThan(120_000);
    }
  });

  it("stop, then re-provision: the job succeeds and wins replicas back to 1 (refresh sees the drift)", async () => {
    const stop = await p.request("POST", `/system/instances/${id}/stop`);
    expect(stop.status, stop.text).to.equal(200);
    const job = await runJob("re-provision after stop", () => p.request("POST", "/system/provision", { instance_id: Number(id), tier: "free" }));
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;
    for (const name of [`mindroom-${id}`, `synapse-${id}`]) expect((await get(`${apps}/${name}`)).spec.replicas, `${name} replicas`).to.equal(1);
  });

  it("uninstall keeps both PVCs and the Secret and answers kept_volumes; the workloads are gone", async () => {
    const started = Date.now();
    const res = await p.request("DELETE", `/system/instances/${id}/uninstall`);
    timings.uninstall = Date.now() - started;
    console.log(`      - uninstall: HTTP ${res.status} in ${secs(timings.uninstall)}`);
    expect(res.status, res.text).to.equal(200);
    expect(res.body.success).to.equal(true);
    expect(res.body.kept_volumes).to.deep.equal([`mindroom-storage-${id}`, `synapse-storage-${id}`]);
    const objects = tenantObjects(id);
    for (const o of objects) {
      const kept = o.what.startsWith("PVC ") || o.what.startsWith("Secret ");
      expect(await exists(o.path), `${o.what} ${kept ? "kept" : "deleted"}`).to.equal(kept);
    }
    for (const [name, uid] of Object.entries(pvcUids)) expect((await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`)).metadata.uid).to.equal(uid);
    expect((await get(`/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`)).data).to.deep.equal(secretData);
    expect((await p.request("GET", `/system/instances/${id}`)).body.status).to.equal("deprovisioned");
  });

  it("re-provision after the data-keeping uninstall adopts the kept PVCs (same uid) and Secret (same data)", async () => {
    const job = await runJob("re-provision (adopt kept data)", () => p.request("POST", "/system/provision", { instance_id: Number(id), tier: "free" }));
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    for (const [name, uid] of Object.entries(pvcUids)) {
      const pvc = await get(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`);
      expect(pvc.metadata.uid, `${name} adopted, not recreated`).to.equal(uid);
      expect(pvc.spec.storageClassName).to.equal(STORAGE_CLASS);
    }
    expect((await get(`/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`)).data, "Secret data").to.deep.equal(secretData);
    for (const o of tenantObjects(id)) expect(await exists(o.path), o.what).to.equal(true);
  });

  it("uninstall with delete_data=true removes the PVCs as well; the tenant Secret stays (spec §7.4)", async () => {
    const started = Date.now();
    const res = await p.request("DELETE", `/system/instances/${id}/uninstall?delete_data=true`);
    timings["uninstall delete_data"] = Date.now() - started;
    expect(res.status, res.text).to.equal(200);
    expect(res.body.kept_volumes).to.deep.equal([]);
    for (const name of Object.keys(pvcUids)) {
      const deadline = Date.now() + 30_000;
      while ((await exists(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await exists(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`), `${name} deleted`).to.equal(false);
    }
    for (const o of tenantObjects(id).filter((o) => !o.what.startsWith("Secret "))) expect(await exists(o.path), o.what).to.equal(false);
    // Spec §7.4 and docs/provisioner.md: the tenant Secret stays, as upstream, with delete_data too.
    expect((await get(`/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`)).data, "tenant Secret kept").to.deep.equal(secretData);
  });

  it("no tenant secret value appears in the data dir (outside encrypted state), the provisioner's log or any HTTP answer", async () => {
    const values = Object.entries(secretData)
      .map(([key, b64]) => [key, Buffer.from(b64, "base64").toString("utf8")] as const)
      .filter(([, v]) => v.length >= 12);
    expect(values.length, "secret values long enough to search for").to.be.greaterThan(2);
    const files = filesBelow(p.dataDir);
    expect(files.some((f) => f.path.includes("/state/")), "the file backend's state is in the data dir").to.equal(true);
    const places = [
      ...files.map((f) => ({ where: f.path, text: f.text })),
      { where: "provisioner log", text: p.logText() },
      ...p.exchanges.map((e) => ({ where: `${e.method} ${e.path} → ${e.status}`, text: e.text + JSON.stringify(e.headers) })),
    ];
    const leaks = values.flatMap(([key, v]) =>
      places.filter((pl) => pl.text.includes(v) || pl.text.includes(Buffer.from(v).toString("base64"))).map((pl) => `${key} in ${pl.where}`),
    );
    expect(leaks).to.deep.equal([]);
  });
});
