/**
 * `TenantStacks.preview` and the `settings` output on a real tenant stack: the adapter
 * (`createTenantStacks`) in this process with the real Pulumi CLI and kubernetes provider of
 * tools/engine against the test control plane. Preview right after up, preview of a new image,
 * drift made through the Kubernetes API behind the stack's back, and the settings round trip.
 * Every preview is checked to change nothing: neither an object's resourceVersion nor a byte of
 * the backend.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StackNotFound, type PreviewResult, type ProgressEvent, type TenantSettings, type TenantSpec, type TenantStacks } from "../../provisioner/ports";
import { createTenantStacks } from "../../provisioner/stacks";
import { apiRequest, type ApiTarget } from "./support/api";
import { backendFiles } from "./support/backend-files";
import { tenantNamespaceTarget } from "./support/tenant-namespace";
import { engineBinDir } from "./support/engine";

const NS = "mindroom-instances";
/** Other engine test files share the control plane and its namespace: ids of their own. */
const ID = "7401";
const MISSING_ID = "7402";
const IMAGE_V2 = "ghcr.io/mindroom-ai/mindroom:preview-v2";
const DRIFTED_IMAGE = "registry.example.org/someone-else/mindroom:hotfix";
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

function spec(settings?: TenantSettings): TenantSpec {
  const image = settings?.mindroomImage;
  return {
    instanceId: ID,
    values: {
      customer: ID,
      baseDomain: "mindroom.test",
      instanceSecrets: { create: true, name: `mindroom-api-keys-${ID}` },
      openai_key: "sk-engine-preview-openai-0123456789",
      // Without it the chart generates registration secrets per run, and every preview shows them changing.
      matrixRegistrationSharedSecret: "engine-preview-registration-secret",
      ...(image ? { mindroom_image: image } : {}),
    },
    tags: { customer: ID, account: "acc-preview", tier: "free", desiredState: "running" },
    settings,
  };
}

const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

describe("engine: TenantStacks.preview and the settings output on a real tenant stack", function () {
  let target: ApiTarget;
  let dataDir: string;
  let stacks: TenantStacks;
  const timings: Record<string, number> = {};

  const get = async (path: string): Promise<Json> => {
    const res = await apiRequest(target, "GET", path);
    if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status} ${res.text}`);
    return res.body;
  };
  /** resourceVersion of every object in the namespace that belongs to this tenant. */
  const versions = async (): Promise<Record<string, string>> => {
    const out: Record<string, string> = {};
    for (const path of [DEPLOYMENTS, `/api/v1/namespaces/${NS}/services`, `/api/v1/namespaces/${NS}/configmaps`, `/api/v1/namespaces/${NS}/secrets`, `/api/v1/namespaces/${NS}/persistentvolumeclaims`, `/apis/networking.k8s.io/v1/namespaces/${NS}/ingresses`, `/apis/networking.k8s.io/v1/namespaces/${NS}/networkpolicies`]) {
      for (const item of (await get(path)).items as Json[]) {
        if (item.metadata.name.includes(ID)) out[`${item.kind ?? path.split("/").pop()} ${item.metadata.name}`] = item.metadata.resourceVersion;
      }
    }
    return out;
  };
  const mindroomImage = async () => ((await get(`${DEPLOYMENTS}/mindroom-${ID}`)).spec.template.spec.containers as Json[]).find((c) => c.name === "mindroom").image as string;
  const state = () => backendFiles(join(dataDir, "state"));

  /** A preview that must change nothing in the cluster or the backend; its wall time is recorded. */
  const preview = async (label: string, s: TenantSpec, progress?: ProgressEvent[]): Promise<PreviewResult> => {
    const objects = await versions();
    const backend = state();
    const started = Date.now();
    const result = await stacks.preview(s, progress ? { onProgress: (e) => progress.push(e) } : {});
    timings[label] = Date.now() - started;
    console.log(`      - ${label}: ${secs(timings[label])}; ${JSON.stringify(result)}`);
    expect(await versions(), `${label}: resourceVersions`).to.deep.equal(objects);
    expect(state(), `${label}: backend files`).to.deep.equal(backend);
    return result;
  };

  before(async function () {
    this.timeout(180_000);
    const ready = await tenantNamespaceTarget();
    const cluster = ready.cluster;
    target = ready.target;
    dataDir = mkdtempSync(join(tmpdir(), "engine-preview-"));
    stacks = await createTenantStacks({
      environment: "engine",
      dataDir,
      pulumiCliPath: engineBinDir(),
      env: {},
      kube: { mode: "kubeconfig", kubeconfig: cluster.kubeconfig },
    });
    const started = Date.now();
    const up = await stacks.up(spec());
    timings.up = Date.now() - started;
    expect(up.changes).to.deep.equal({ create: 15 });
  });

  after(async function () {
    this.timeout(120_000);
    console.log(`      - timings: ${Object.entries(timings).map(([k, v]) => `${k} ${secs(v)}`).join(", ")}`);
    if (!stacks) return;
    await stacks.destroy(ID).catch((err: unknown) => console.log(`      - destroy: ${String(err)}`));
    // Both PVCs (retainOnDelete) and the tenant Secret outlive the destroy; leave the shared namespace clean.
    for (const path of [`persistentvolumeclaims/mindroom-storage-${ID}`, `persistentvolumeclaims/synapse-storage-${ID}`, `secrets/mindroom-api-keys-${ID}`]) {
      await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/${path}`);
    }
    rmSync(dataDir, { recursive: true, force: true });
  });

  it("right after up: no changes (every step `same`, the stack and provider counted too), progress ends with `finished preview: 15 unchanged`", async () => {
    const progress: ProgressEvent[] = [];
    const result = await preview("preview after up", spec(), progress);
    expect(result).to.deep.equal({ changes: { same: 15 }, resources: [] });
    const messages = progress.map((e) => e.message);
    expect(messages[messages.length - 1]).to.equal("finished preview: 15 unchanged");
    expect(messages, "the refresh reads every object first").to.include(`refreshing kubernetes:apps/v1:Deployment instance-${ID}-mindroom`);
    expect(messages.filter((m) => m.startsWith("would ")), "no step would change anything").to.deep.equal([]);
  });

  it("a new mindroom image: the Deployment mindroom-<id> would update its spec, nothing else; the cluster and the backend are untouched", async () => {
    const before = await mindroomImage();
    const progress: ProgressEvent[] = [];
    const result = await preview("preview of a new image", spec({ mindroomImage: IMAGE_V2 }), progress);
    expect(result).to.deep.equal({
      changes: { same: 14, update: 1 },
      resources: [{ type: "kubernetes:apps/v1:Deployment", name: `mindroom-${ID}`, op: "update", diffs: ["spec"] }],
    });
    expect(progress.map((e) => e.message)).to.include.members([`would update kubernetes:apps/v1:Deployment instance-${ID}-mindroom`, "finished preview: 14 unchanged, 1 to update"]);
    expect(await mindroomImage()).to.equal(before);
    // The preview persisted nothing, so the old values still preview clean.
    expect(await preview("preview after the image preview", spec())).to.deep.equal({ changes: { same: 15 }, resources: [] });
  });

  it("drift: the Deployment's image changed through the Kubernetes API (field manager kubectl-edit); the adapter's patch force (PULUMI_K8S_ENABLE_PATCH_FORCE for every tenant CLI) lets the dry-run apply through, the refresh sees the drift and the Deployment would update its spec; the drift stays in place", async () => {
    const patch = await apiRequest(
      target,
      "PATCH",
      `${DEPLOYMENTS}/mindroom-${ID}?fieldManager=kubectl-edit`,
      { spec: { template: { spec: { containers: [{ name: "mindroom", image: DRIFTED_IMAGE }] } } } },
      "application/strategic-merge-patch+json",
    );
    expect(patch.status, patch.text).to.equal(200);
    expect(await mindroomImage()).to.equal(DRIFTED_IMAGE);
    const result = await preview("preview of drift", spec());
    expect(result).to.deep.equal({
      changes: { same: 14, update: 1 },
      resources: [{ type: "kubernetes:apps/v1:Deployment", name: `mindroom-${ID}`, op: "update", diffs: ["spec"] }],
    });
    expect(await mindroomImage()).to.equal(DRIFTED_IMAGE);
  });

  it("after the drift, a re-provision (up --refresh) wins the image back, and the next preview is clean", async () => {
    const up = await stacks.up(spec());
    expect(up.changes).to.deep.equal({ same: 14, update: 1 });
    expect(await mindroomImage()).to.not.equal(DRIFTED_IMAGE);
    expect(await preview("preview after the re-provision", spec())).to.deep.equal({ changes: { same: 15 }, resources: [] });
  });

  it("settings round-trip: up exports them as the plain output `settings`, outputs() reads them back, a preview with them is clean", async () => {
    const settings: TenantSettings = { mindroomImage: IMAGE_V2, values: { storageSize: "20Gi" }, credentialsEncryption: true };
    const up = await stacks.up(spec(settings));
    expect(up.changes).to.deep.equal({ same: 14, update: 1 });
    expect(up.outputs.settings).to.deep.equal(settings);
    expect((await stacks.outputs(ID)).settings).to.deep.equal(settings);
    expect(await mindroomImage()).to.equal(IMAGE_V2);
    expect(await preview("preview with settings", spec(settings))).to.deep.equal({ changes: { same: 15 }, resources: [] });
  });

  it("a tenant without a stack: StackNotFound, and the preview created no stack", async () => {
    const err = await stacks.preview({ ...spec(), instanceId: MISSING_ID, values: { ...spec().values, customer: MISSING_ID } }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(StackNotFound);
    expect((await stacks.list()).map((s) => s.instanceId)).to.deep.equal([ID]);
  });
});
