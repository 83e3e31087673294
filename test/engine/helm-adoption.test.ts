/**
 * A Helm-era tenant taken over by the REAL provisioner (docs/migration-from-helm.md, step 3):
 * the tenant's objects are rendered (`npm run render -- instance --show-secrets`) with the values
 * the provisioner will use, created the way Helm 3 creates them (a plain client create, field
 * manager `helm`, operation Update) with Helm's labels and annotations, next to the release record
 * Secret Helm keeps. Then `POST /system/provision {"instance_id": …}` through the provisioner
 * (real CLI and kubernetes provider) must adopt every object in place (same uid), keep the PVCs
 * and the Secret's values, remove only that release's records, and succeed.
 * The tenant is known to the provisioner only from its Supabase row (a local fake PostgREST).
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { derivationRoot, deriveInstanceSecret } from "../../infra/derived-secrets";
import { rolloutHash } from "../../provisioner/service/rollout-hash";
import { FakePostgrest } from "../provisioner/mirror/fake-postgrest";
import { apiRequest, type ApiTarget } from "./support/api";
import { tenantNamespaceTarget } from "./support/tenant-namespace";
import { id as objId, render, type Obj } from "./support/apply";
import { ENGINE_API_KEY, ENGINE_ROOT_SECRET, filesBelow, startEngineProvisioner, type EngineProvisioner } from "./support/provisioner";

const NS = "mindroom-instances";
const HID = 8421;
const OTHER = 8422;
const RELEASE = `instance-${HID}`;
const SUBSCRIPTION = "3c9b1f6e-8a2d-4e5f-9b0c-1d2e3f4a5b6c";
const SERVICE_KEY = "engine-helm-service-role-key-Wq5Er8Ty";
const STORAGE_CLASS = "engine-local";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

/** REST path of an object (collection when `name` is omitted). */
function pathOf(o: Pick<Obj, "apiVersion" | "kind">, name?: string): string {
  const plural: Record<string, string> = {
    Deployment: "deployments", Secret: "secrets", PersistentVolumeClaim: "persistentvolumeclaims", ConfigMap: "configmaps",
    Service: "services", Ingress: "ingresses", NetworkPolicy: "networkpolicies", ServiceAccount: "serviceaccounts", Role: "roles", RoleBinding: "rolebindings",
  };
  const kind = plural[o.kind];
  if (!kind) throw new Error(`no REST path for ${o.kind}`);
  const base = o.apiVersion === "v1" ? "/api/v1" : `/apis/${o.apiVersion}`;
  return `${base}/namespaces/${NS}/${kind}${name ? `/${name}` : ""}`;
}

const helmRecord = (release: string, type: string, version = 1) => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: `sh.helm.release.v1.${release}.v${version}`, namespace: NS, labels: { owner: "helm", name: release, status: "deployed", version: String(version) } },
  type,
  data: { release: Buffer.from(`H4sI-engine-test-release-${release}-v${version}`).toString("base64") },
});

describe("engine: a Helm-era tenant adopted by the real provisioner (docs/migration-from-helm.md step 3)", function () {
  let target: ApiTarget;
  let p: EngineProvisioner;
  let postgrest: FakePostgrest;
  let dir: string;
  let objects: Obj[] = [];
  const created = new Map<string, Json>();
  let secretBefore: Record<string, string> = {};

  const apiGet = async (path: string): Promise<Json> => {
    const res = await apiRequest(target, "GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.body?.message ?? res.text}`);
    return res.body;
  };
  const exists = async (path: string) => (await apiRequest(target, "GET", path)).status === 200;

  before(async function () {
    this.timeout(240_000);
    const ready = await tenantNamespaceTarget();
    const cluster = ready.cluster;
    target = ready.target;
    dir = mkdtempSync(join(tmpdir(), "helm-adoption-"));

    // The Helm era's Secret values: what the provisioner keeps (sandbox token, credentials key:
    // read from the live Secret) and what it derives from the same platform secret (registration).
    const secrets: Record<string, string> = {
      openai_key: "", anthropic_key: "", google_key: "", deepseek_key: "", openrouter_key: "",
      supabase_service_key: SERVICE_KEY,
      sandbox_proxy_token: "helm-era-sandbox-token-Jk3Lm9Np2Qr5St8V",
      credentials_encryption_key: "helm-era-credentials-key-Ab4Cd7Ef0Gh3Ij6K",
      matrix_oidc_client_secret: "",
      matrix_registration_shared_secret: deriveInstanceSecret(derivationRoot(ENGINE_ROOT_SECRET, ENGINE_API_KEY), "matrix-registration", String(HID)),
    };
    postgrest = new FakePostgrest();
    postgrest.serviceKey = SERVICE_KEY;
    await postgrest.start();
    postgrest.rows.set(String(HID), { id: "0b8f2c1e-4d6a-4b7c-9e3f-5a1b2c3d4e5f", instance_id: HID, status: "running", subscription_id: SUBSCRIPTION, tier: "free", account_id: null });

    // Rendered with the provisioner's values (provisioner/service/tenant-values.ts, tier free).
    const values = {
      customer: HID,
      baseDomain: "mindroom.test",
      accountId: "None",
      supabaseUrl: postgrest.url,
      storageClassName: STORAGE_CLASS,
      instanceSecrets: { create: true, name: `mindroom-api-keys-${HID}`, hash: rolloutHash(secrets) },
      matrixOidc: { clientSecret: "" },
      openai_key: "", anthropic_key: "", google_key: "", deepseek_key: "", openrouter_key: "",
      supabaseServiceKey: secrets.supabase_service_key,
      sandbox_proxy_token: secrets.sandbox_proxy_token,
      credentials_encryption_key: secrets.credentials_encryption_key,
      matrixRegistrationSharedSecret: secrets.matrix_registration_shared_secret,
    };
    writeFileSync(join(dir, "values.yaml"), JSON.stringify(values));
    objects = await render("instance", [join(dir, "values.yaml")]);
    expect(objects.length).to.be.greaterThan(8);

    // Helm 3's install: a plain create per object (manager `helm`, operation Update), with its labels and annotations.
    for (const o of objects) {
      const helmed: Obj = {
        ...o,
        metadata: {
          ...o.metadata,
          labels: { ...(o.metadata.labels ?? {}), "app.kubernetes.io/managed-by": "Helm" },
          annotations: { ...(o.metadata.annotations ?? {}), "meta.helm.sh/release-name": RELEASE, "meta.helm.sh/release-namespace": NS },
        },
      };
      const res = await apiRequest(target, "POST", `${pathOf(o)}?fieldManager=helm`, helmed);
      expect(res.status, `create ${objId(o)}: ${res.body?.message ?? res.text}`).to.equal(201);
    }
    for (const record of [helmRecord(RELEASE, "helm.sh/release.v1", 1), helmRecord(RELEASE, "helm.sh/release.v1", 2), helmRecord(`instance-${OTHER}`, "helm.sh/release.v1")]) {
      const res = await apiRequest(target, "POST", pathOf(record), record);
      expect(res.status, res.text).to.equal(201);
    }
    // Same labels, another type: not a release record, must survive.
    const lookalike = { ...helmRecord(RELEASE, "Opaque", 9), metadata: { ...helmRecord(RELEASE, "Opaque", 9).metadata, name: `not-a-record-${HID}` } };
    expect((await apiRequest(target, "POST", pathOf(lookalike), lookalike)).status).to.equal(201);

    for (const o of objects) created.set(objId(o), await apiGet(pathOf(o, o.metadata.name)));
    secretBefore = created.get(`Secret ${NS}/mindroom-api-keys-${HID}`).data;

    p = await startEngineProvisioner({
      kubeconfigPath: cluster.kubeconfigPath,
      env: { SUPABASE_URL: postgrest.url, SUPABASE_SERVICE_KEY: SERVICE_KEY, INSTANCE_STORAGE_CLASS_NAME: "configured-class-not-used-for-existing-tenants" },
    });
  });

  after(async function () {
    this.timeout(120_000);
    if (p && this.currentTest?.state === "failed") console.log(p.logText().split("\n").slice(-40).join("\n"));
    await p?.stop();
    await postgrest?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
    // Leave the shared namespace as other engine tests expect it.
    for (const o of objects) await apiRequest(target, "DELETE", pathOf(o, o.metadata.name));
    for (const name of [`sh.helm.release.v1.instance-${OTHER}.v1`, `not-a-record-${HID}`, `sh.helm.release.v1.${RELEASE}.v1`, `sh.helm.release.v1.${RELEASE}.v2`]) {
      await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/secrets/${name}`);
    }
  });

  it("re-provisioning the Helm tenant succeeds, adopts every object in place and removes only its release records", async () => {
    const started = Date.now();
    const accepted = await p.request("POST", "/system/provision", { instance_id: HID, tier: "free" });
    expect(accepted.status, accepted.text).to.equal(202);
    const job = (await p.settle(accepted.body.job_id)).body;
    const took = Date.now() - started;
    const messages = (job.progress as { message: string }[]).map((e) => e.message);
    console.log(`      - adopting provision: ${job.status} in ${(took / 1000).toFixed(1)} s; ${messages.filter((m) => /^finished|Helm/.test(m)).join("; ")}`);
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    expect(messages.some((m) => /^(replac|creating replacement|deleting replaced|delet)/.test(m)), `no replace or delete: ${messages}`).to.equal(false);
    expect(messages.some((m) => m.startsWith("removed Helm release records") && m.includes(`sh.helm.release.v1.${RELEASE}.v1`) && m.includes(`sh.helm.release.v1.${RELEASE}.v2`)), `records progress line in ${messages}`).to.equal(true);

    // Same object, never replaced: every rendered object keeps its uid; the stack now manages it.
    for (const o of objects) {
      const live = await apiGet(pathOf(o, o.metadata.name));
      const was = created.get(objId(o));
      expect(live.metadata.uid, `${objId(o)} uid`).to.equal(was.metadata.uid);
      expect(live.metadata.creationTimestamp, `${objId(o)} creationTimestamp`).to.equal(was.metadata.creationTimestamp);
    }
    for (const name of [`mindroom-storage-${HID}`, `synapse-storage-${HID}`]) {
      const pvc = await apiGet(`/api/v1/namespaces/${NS}/persistentvolumeclaims/${name}`);
      // Spec §6.6: an existing tenant keeps its live class, the configured one is for new tenants.
      expect(pvc.spec.storageClassName, `${name} class`).to.equal(STORAGE_CLASS);
    }
    expect((await apiGet(`/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${HID}`)).data, "tenant Secret values kept").to.deep.equal(secretBefore);

    // The records of this release are gone; the other release's record and the look-alike stay.
    const left = await apiGet(`/api/v1/namespaces/${NS}/secrets?labelSelector=${encodeURIComponent(`owner=helm,name=${RELEASE}`)}`);
    expect((left.items as Json[]).map((s) => `${s.metadata.name} (${s.type})`)).to.deep.equal([`not-a-record-${HID} (Opaque)`]);
    expect(await exists(`/api/v1/namespaces/${NS}/secrets/sh.helm.release.v1.instance-${OTHER}.v1`), "another release's record").to.equal(true);

    const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;
    for (const name of [`mindroom-${HID}`, `synapse-${HID}`]) {
      const d = await apiGet(`${apps}/${name}`);
      expect(d.spec.replicas, `${name} replicas`).to.equal(1);
      const managers = (d.metadata.managedFields as { manager: string; operation: string }[]).map((m) => `${m.manager}/${m.operation}`);
      expect(managers.some((m) => m.endsWith("/Apply")), `${name} managers ${managers}`).to.equal(true);
      console.log(`      - ${name} field managers after adoption: ${managers.join(", ")}`);
    }
    const view = await p.request("GET", `/system/instances/${HID}`);
    expect(view.status, view.text).to.equal(200);
    expect(view.body).to.include({ stack_name: `engine-${HID}` });
  });

  it("a second re-provision of the adopted tenant is a no-op (no resourceVersion moves)", async () => {
    const versions = async () => Object.fromEntries(await Promise.all(objects.map(async (o) => [objId(o), (await apiGet(pathOf(o, o.metadata.name))).metadata.resourceVersion] as const)));
    const was = await versions();
    const accepted = await p.request("POST", "/system/provision", { instance_id: HID, tier: "free" });
    const job = (await p.settle(accepted.body.job_id)).body;
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    const finished = (job.progress as { message: string }[]).map((e) => e.message).filter((m) => m.startsWith("finished"));
    console.log(`      - second re-provision: ${finished.join("; ")}`);
    expect(await versions()).to.deep.equal(was);
  });

  it("stop, then re-provision of the adopted tenant wins replicas back (fields Helm once owned, now the provisioner's scale)", async () => {
    const apps = `/apis/apps/v1/namespaces/${NS}/deployments`;
    const stop = await p.request("POST", `/system/instances/${HID}/stop`);
    expect(stop.status, stop.text).to.equal(200);
    for (const name of [`mindroom-${HID}`, `synapse-${HID}`]) expect((await apiGet(`${apps}/${name}`)).spec.replicas, `${name} stopped`).to.equal(0);
    const accepted = await p.request("POST", "/system/provision", { instance_id: HID, tier: "free" });
    const job = (await p.settle(accepted.body.job_id)).body;
    expect(job.status, JSON.stringify(job.error ?? job)).to.equal("succeeded");
    for (const name of [`mindroom-${HID}`, `synapse-${HID}`]) {
      const d = await apiGet(`${apps}/${name}`);
      expect(d.spec.replicas, `${name} replicas`).to.equal(1);
      expect(d.metadata.uid, `${name} uid`).to.equal(created.get(`Deployment ${NS}/${name}`).metadata.uid);
    }
  });

  it("the Helm-era secret values appear nowhere in the provisioner's data dir (outside encrypted state), log or HTTP answers", () => {
    const values = Object.entries(secretBefore).map(([key, b64]) => [key, Buffer.from(b64, "base64").toString("utf8")] as const).filter(([, v]) => v.length >= 12);
    expect(values.map(([k]) => k)).to.include.members(["sandbox_proxy_token", "credentials_encryption_key", "matrix_registration_shared_secret"]);
    const places = [
      ...filesBelow(p.dataDir).map((f) => ({ where: f.path, text: f.text })),
      { where: "provisioner log", text: p.logText() },
      ...p.exchanges.map((e) => ({ where: `${e.method} ${e.path} → ${e.status}`, text: e.text + JSON.stringify(e.headers) })),
    ];
    const leaks = values.flatMap(([key, v]) => places.filter((pl) => pl.text.includes(v) || pl.text.includes(Buffer.from(v).toString("base64"))).map((pl) => `${key} in ${pl.where}`));
    expect(leaks).to.deep.equal([]);
  });
});
