import { expect } from "chai";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createTenantKube, InvalidSecretData, KubeApiError, decodeStrict } from "../../../provisioner/kube";
import type { TenantKube } from "../../../provisioner/ports";

interface Seen {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType?: string;
  authorization?: string;
  body: unknown;
}

type Route = (req: Seen) => { status: number; body: unknown } | undefined;

const NS = "/namespaces/mindroom-instances";
const notFound = (kind: string, name: string) => ({
  status: 404,
  body: { kind: "Status", apiVersion: "v1", status: "Failure", message: `${kind} "${name}" not found`, reason: "NotFound", code: 404 },
});

describe("provisioner/kube: TenantKube against a fake Kubernetes API", () => {
  let server: Server;
  let seen: Seen[];
  let routes: Route[];
  let kube: TenantKube;

  before(async () => {
    server = createServer(async (req: IncomingMessage, res) => {
      let raw = "";
      for await (const chunk of req) raw += chunk;
      const url = new URL(req.url ?? "/", "http://x");
      const entry: Seen = {
        method: req.method ?? "",
        path: url.pathname,
        query: url.searchParams,
        contentType: req.headers["content-type"],
        authorization: req.headers.authorization,
        body: raw ? JSON.parse(raw) : undefined,
      };
      seen.push(entry);
      const answer = routes.map((r) => r(entry)).find(Boolean) ?? { status: 500, body: { message: "unexpected request" } };
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(JSON.stringify(answer.body));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    const kubeconfig = [
      "apiVersion: v1",
      "kind: Config",
      "clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:" + port + "', insecure-skip-tls-verify: true}}]",
      "users: [{name: u, user: {token: test-token}}]",
      "contexts: [{name: c, context: {cluster: fake, user: u}}]",
      "current-context: c",
      "",
    ].join("\n");
    kube = createTenantKube({ kubeconfig });
  });
  after(() => new Promise<void>((r) => server.close(() => r())));
  beforeEach(() => {
    seen = [];
    routes = [];
  });

  const deployment = (name: string, spec: object, status: object, generation = 2) => ({
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: "mindroom-instances", generation },
    spec: { selector: { matchLabels: { app: name } }, template: {}, ...spec },
    status,
  });

  it("scale patches the scale subresource with a merge patch, authenticated", async () => {
    routes.push((r) => (r.path.endsWith("/deployments/mindroom-42/scale") ? { status: 200, body: { kind: "Scale", spec: { replicas: 0 } } } : undefined));
    await kube.scale("mindroom-42", 0);
    expect(seen).to.have.length(1);
    expect(seen[0].method).to.equal("PATCH");
    expect(seen[0].path).to.equal(`/apis/apps/v1${NS}/deployments/mindroom-42/scale`);
    expect(seen[0].contentType).to.equal("application/merge-patch+json");
    expect(seen[0].authorization).to.equal("Bearer test-token");
    expect(seen[0].query.get("fieldManager")).to.equal("mindroom-provisioner");
    expect(seen[0].body).to.deep.equal({ spec: { replicas: 0 } });
  });

  it("restart sets kubectl.kubernetes.io/restartedAt on the pod template with a strategic merge patch", async () => {
    routes.push((r) => (r.path.endsWith("/deployments/synapse-42") ? { status: 200, body: deployment("synapse-42", {}, {}) } : undefined));
    const before = Date.now();
    await kube.restart("synapse-42");
    expect(seen[0].method).to.equal("PATCH");
    expect(seen[0].path).to.equal(`/apis/apps/v1${NS}/deployments/synapse-42`);
    expect(seen[0].contentType).to.equal("application/strategic-merge-patch+json");
    const at = (seen[0].body as { spec: { template: { metadata: { annotations: Record<string, string> } } } }).spec.template.metadata.annotations[
      "kubectl.kubernetes.io/restartedAt"
    ];
    expect(at).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(Date.parse(at)).to.be.within(before - 2000, Date.now() + 1000);
  });

  it("scale/restart failures are one-line KubeApiErrors with the API server's message", async () => {
    routes.push(() => ({ status: 403, body: { kind: "Status", message: 'deployments.apps "mindroom-42" is forbidden: no RBAC', code: 403 } }));
    const err = (await kube.scale("mindroom-42", 1).catch((e: unknown) => e)) as KubeApiError;
    expect(err).to.be.instanceOf(KubeApiError);
    expect(err.status).to.equal(403);
    expect(err.message).to.equal('scaling deployment/mindroom-42 failed: HTTP 403: deployments.apps "mindroom-42" is forbidden: no RBAC');
  });

  it("deploymentExists / replicas: present, missing (404) and failing reads", async () => {
    routes.push((r) => (r.path.endsWith("/deployments/mindroom-1") ? { status: 200, body: deployment("mindroom-1", { replicas: 0 }, {}) } : undefined));
    routes.push((r) => (r.path.endsWith("/deployments/mindroom-2") ? notFound("deployments.apps", "mindroom-2") : undefined));
    routes.push((r) => (r.path.endsWith("/deployments/mindroom-3") ? { status: 500, body: { message: "etcd timeout" } } : undefined));
    expect(await kube.deploymentExists("mindroom-1")).to.equal(true);
    expect(await kube.deploymentExists("mindroom-2")).to.equal(false);
    expect(await kube.deploymentExists("mindroom-3")).to.equal(false);
    expect(await kube.replicas("mindroom-1")).to.equal(0);
    expect(await kube.replicas("mindroom-2")).to.equal(null);
    const err = (await kube.replicas("mindroom-3").catch((e: unknown) => e)) as Error;
    expect(err.message).to.equal("reading deployment/mindroom-3 failed: HTTP 500: etcd timeout");
    expect(seen.every((s) => s.method === "GET" && s.path.startsWith(`/apis/apps/v1${NS}/deployments/`))).to.equal(true);
  });

  it("isRolledOut follows kubectl rollout status (spec §6.12)", async () => {
    const cases: Array<[string, object, object, number, boolean]> = [
      ["ready", { replicas: 1 }, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, 2, true],
      ["stale-generation", { replicas: 1 }, { observedGeneration: 1, replicas: 1, updatedReplicas: 1, availableReplicas: 1 }, 2, false],
      ["not-updated", { replicas: 1 }, { observedGeneration: 2, replicas: 1, updatedReplicas: 0, availableReplicas: 1 }, 2, false],
      ["old-pods-left", { replicas: 1 }, { observedGeneration: 2, replicas: 2, updatedReplicas: 1, availableReplicas: 2 }, 2, false],
      ["unavailable", { replicas: 1 }, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, availableReplicas: 0 }, 2, false],
      ["stopped", { replicas: 0 }, { observedGeneration: 2 }, 2, true],
    ];
    for (const [name, spec, status, generation] of cases) {
      routes.push((r) => (r.path.endsWith(`/deployments/${name}`) ? { status: 200, body: deployment(name, spec, status, generation) } : undefined));
    }
    routes.push((r) => (r.path.endsWith("/deployments/missing") ? notFound("deployments.apps", "missing") : undefined));
    for (const [name, , , , expected] of cases) expect(await kube.isRolledOut(name), name).to.equal(expected);
    expect(await kube.isRolledOut("missing")).to.equal(false);
  });

  it("readSecret decodes strictly; missing → null; non-base64 or non-UTF-8 → InvalidSecretData naming the key only", async () => {
    const b64 = (s: string | Buffer) => Buffer.from(s).toString("base64");
    routes.push((r) =>
      r.path === `/api/v1${NS}/secrets/mindroom-api-keys-42`
        ? { status: 200, body: { kind: "Secret", data: { credentials_encryption_key: b64(" key-ü "), openai_key: "" } } }
        : undefined,
    );
    routes.push((r) => (r.path.endsWith("/secrets/mindroom-api-keys-43") ? notFound("secrets", "mindroom-api-keys-43") : undefined));
    routes.push((r) =>
      r.path.endsWith("/secrets/bad-b64") ? { status: 200, body: { kind: "Secret", data: { k: "c2VjcmV0LXZhbHVl*" } } } : undefined,
    );
    routes.push((r) =>
      r.path.endsWith("/secrets/bad-utf8") ? { status: 200, body: { kind: "Secret", data: { k: b64(Buffer.from([0xff, 0xfe])) } } } : undefined,
    );
    expect(await kube.readSecret("mindroom-api-keys-42")).to.deep.equal({ credentials_encryption_key: " key-ü ", openai_key: "" });
    expect(await kube.readSecret("mindroom-api-keys-43")).to.equal(null);
    for (const name of ["bad-b64", "bad-utf8"]) {
      const err = (await kube.readSecret(name).catch((e: unknown) => e)) as Error;
      expect(err).to.be.instanceOf(InvalidSecretData);
      expect(err.message).to.equal(`Secret ${name} has an invalid k value (not base64-encoded UTF-8)`);
    }
    expect(decodeStrict("YWJj")).to.equal("abc");
    expect(decodeStrict("YWJ")).to.equal(undefined);
    expect(decodeStrict("YW Jj")).to.equal(undefined);
    expect(decodeStrict("YWJj-_==")).to.equal(undefined);
  });

  it("pvcStorageClass reads spec.storageClassName; missing PVC → null", async () => {
    routes.push((r) =>
      r.path === `/api/v1${NS}/persistentvolumeclaims/mindroom-storage-42`
        ? { status: 200, body: { kind: "PersistentVolumeClaim", spec: { storageClassName: "local-path" } } }
        : undefined,
    );
    routes.push((r) => (r.path.endsWith("/synapse-storage-42") ? notFound("persistentvolumeclaims", "synapse-storage-42") : undefined));
    expect(await kube.pvcStorageClass("mindroom-storage-42")).to.equal("local-path");
    expect(await kube.pvcStorageClass("synapse-storage-42")).to.equal(null);
  });

  it("deletePvc sends DELETE and treats a missing PVC as done", async () => {
    routes.push((r) =>
      r.method === "DELETE" && r.path.endsWith("/mindroom-storage-42") ? { status: 200, body: { kind: "PersistentVolumeClaim", metadata: { name: "mindroom-storage-42" } } } : undefined,
    );
    routes.push((r) => (r.method === "DELETE" && r.path.endsWith("/synapse-storage-42") ? notFound("persistentvolumeclaims", "synapse-storage-42") : undefined));
    await kube.deletePvc("mindroom-storage-42");
    await kube.deletePvc("synapse-storage-42");
    expect(seen.map((s) => `${s.method} ${s.path}`)).to.deep.equal([
      `DELETE /api/v1${NS}/persistentvolumeclaims/mindroom-storage-42`,
      `DELETE /api/v1${NS}/persistentvolumeclaims/synapse-storage-42`,
    ]);
  });

  describe("deleteHelmReleaseRecords (spec §6.11)", () => {
    const release = "instance-42";
    const record = (v: number) => `sh.helm.release.v1.${release}.v${v}`;
    type Stored = { type: string; labels: Record<string, string>; uid: string };
    let store: Map<string, Stored>;
    let failDelete: Set<string>;
    /** Names another actor deletes between our list and our delete. */
    let vanish: Set<string>;

    // A Secret API that honours the labelSelector but ignores the fieldSelector, so the adapter's
    // own type check is what keeps a look-alike with Helm's labels alive.
    beforeEach(() => {
      failDelete = new Set();
      vanish = new Set();
      store = new Map<string, Stored>([
        [record(1), { type: "helm.sh/release.v1", labels: { owner: "helm", name: release, status: "superseded", version: "1" }, uid: "u1" }],
        [record(2), { type: "helm.sh/release.v1", labels: { owner: "helm", name: release, status: "deployed", version: "2" }, uid: "u2" }],
        ["instance-42-lookalike", { type: "Opaque", labels: { owner: "helm", name: release }, uid: "u3" }],
        ["sh.helm.release.v1.instance-420.v1", { type: "helm.sh/release.v1", labels: { owner: "helm", name: "instance-420", version: "1" }, uid: "u4" }],
        ["mindroom-api-keys-42", { type: "Opaque", labels: { customer: "42" }, uid: "u5" }],
      ]);
      const secrets = `/api/v1${NS}/secrets`;
      routes.push((r) => {
        if (r.method !== "GET" || r.path !== secrets) return undefined;
        const wanted = (r.query.get("labelSelector") ?? "").split(",").map((kv) => kv.split("="));
        const items = [...store]
          .filter(([, s]) => wanted.every(([k, v]) => s.labels[k] === v))
          .map(([name, s]) => ({ metadata: { name, namespace: "mindroom-instances", labels: s.labels, uid: s.uid }, type: s.type, data: { release: "SDRzSQ==" } }));
        return { status: 200, body: { kind: "SecretList", apiVersion: "v1", metadata: {}, items } };
      });
      routes.push((r) => {
        if (r.method !== "DELETE" || !r.path.startsWith(`${secrets}/`)) return undefined;
        const name = r.path.slice(secrets.length + 1);
        if (failDelete.has(name)) return { status: 403, body: { kind: "Status", message: `secrets "${name}" is forbidden`, code: 403 } };
        if (vanish.has(name)) store.delete(name);
        if (!store.delete(name)) return notFound("secrets", name);
        return { status: 200, body: { kind: "Status", apiVersion: "v1", status: "Success", metadata: {} } };
      });
    });

    it("lists by Helm's labels and type, deletes only helm.sh/release.v1 records (uid precondition), returns their names", async () => {
      expect(await kube.deleteHelmReleaseRecords(release)).to.deep.equal([record(1), record(2)]);
      expect(`${seen[0].method} ${seen[0].path}`).to.equal(`GET /api/v1${NS}/secrets`);
      expect(seen[0].query.get("labelSelector")).to.equal("owner=helm,name=instance-42");
      expect(seen[0].query.get("fieldSelector")).to.equal("type=helm.sh/release.v1");
      expect(seen.slice(1).map((s) => `${s.method} ${s.path}`)).to.deep.equal([
        `DELETE /api/v1${NS}/secrets/${record(1)}`,
        `DELETE /api/v1${NS}/secrets/${record(2)}`,
      ]);
      expect(seen.slice(1).map((s) => (s.body as { preconditions?: { uid?: string } } | undefined)?.preconditions?.uid)).to.deep.equal(["u1", "u2"]);
      expect([...store.keys()].sort()).to.deep.equal(["instance-42-lookalike", "mindroom-api-keys-42", "sh.helm.release.v1.instance-420.v1"]);
    });

    it("no records → [] without any DELETE; a record deleted meanwhile (404) is skipped, not reported", async () => {
      expect(await kube.deleteHelmReleaseRecords("instance-7")).to.deep.equal([]);
      expect(seen.map((s) => s.method)).to.deep.equal(["GET"]);
      vanish.add(record(1));
      expect(await kube.deleteHelmReleaseRecords(release)).to.deep.equal([record(2)]);
      expect(store.has(record(1)) || store.has(record(2))).to.equal(false);
    });

    it("a failing delete or list is a one-line KubeApiError naming the record or the release", async () => {
      failDelete.add(record(2));
      const err = (await kube.deleteHelmReleaseRecords(release).catch((e: unknown) => e)) as KubeApiError;
      expect(err).to.be.instanceOf(KubeApiError);
      expect(err.status).to.equal(403);
      expect(err.message).to.equal(`deleting secret/${record(2)} failed: HTTP 403: secrets "${record(2)}" is forbidden`);
      routes.unshift((r) => (r.method === "GET" ? { status: 403, body: { kind: "Status", message: "secrets is forbidden: no list", code: 403 } } : undefined));
      const listErr = (await kube.deleteHelmReleaseRecords(release).catch((e: unknown) => e)) as KubeApiError;
      expect(listErr.message).to.equal("listing Helm release records of instance-42 failed: HTTP 403: secrets is forbidden: no list");
    });
  });
});
