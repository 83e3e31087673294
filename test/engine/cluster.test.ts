/**
 * The test control plane itself: loopback only, RBAC enforced, and deletes that finish without a
 * kube-controller-manager (the kubernetes provider deletes with propagationPolicy Foreground and
 * waits until the object is gone; namespaces wait for the namespace controller's /finalize).
 */
import { expect } from "chai";
import { CoreV1Api, KubernetesObjectApi } from "@kubernetes/client-node";
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { apply, applyAll, read, reason, statusOf, type Obj } from "./support/apply";
import { apiRequest } from "./support/api";
import { sharedCluster, type Cluster } from "./support/cluster";

const MANAGER = "mindroom-engine-cluster-test";

/** Local addresses of the TCP sockets process `pid` listens on (from /proc). */
function listening(pid: number): string[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      const m = /^socket:\[(\d+)\]$/.exec((() => { try { return readlinkSync(`/proc/${pid}/fd/${fd}`); } catch { return ""; } })());
      return m ? [m[1]] : [];
    }),
  );
  return ["tcp", "tcp6"].flatMap((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, "utf8").trim().split("\n").slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((f) => f[3] === "0A" && inodes.has(f[9]))
      .map((f) => f[1]),
  );
}

async function gone(obj: Obj, cluster: Cluster, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const status = await read(cluster.kubeConfig(), obj).then(() => 200, statusOf);
    if (status === 404) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

describe("engine: the test control plane", () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await sharedCluster();
  });

  it("etcd and kube-apiserver listen on 127.0.0.1 only", () => {
    for (const [name, pid] of Object.entries(cluster.pids)) {
      const addrs = listening(pid);
      expect(addrs.length, `${name} listening sockets`).to.be.greaterThan(0);
      for (const a of addrs) expect(a, `${name} listens on ${a}`).to.match(/^(0100007F|0000000000000000FFFF00000100007F):[0-9A-F]{4}$/);
    }
  });

  it("RBAC is enforced: an unknown token is 401, a ServiceAccount without grants is 403", async () => {
    const anon = await apiRequest({ server: cluster.server, ca: cluster.ca, token: "not-a-token" }, "GET", "/api/v1/secrets");
    expect(anon.status).to.equal(401);
    const ns = "engine-cluster-rbac";
    await apply(cluster.kubeConfig(), { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } }, MANAGER);
    await apply(cluster.kubeConfig(), { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "nobody", namespace: ns } }, MANAGER);
    const core = cluster.kubeConfig(await cluster.serviceAccountToken(ns, "nobody")).makeApiClient(CoreV1Api);
    const err = await core.listNamespacedSecret({ namespace: ns }).then(() => undefined, (e: unknown) => e);
    expect(statusOf(err), reason(err)).to.equal(403);
  });

  it("foreground deletes finish (no GC finalizer, no pvc-protection) and a namespace with content is finalized", async () => {
    const ns = "engine-cluster-delete";
    const objects: Obj[] = [
      { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } },
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: ns }, data: { a: "b" } },
      { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "pvc", namespace: ns }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } },
      {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "d", namespace: ns },
        spec: { selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" } }, spec: { containers: [{ name: "c", image: "busybox" }] } } },
      },
    ];
    expect(await applyAll(cluster.kubeConfig(), objects, MANAGER)).to.deep.equal([]);
    const api = KubernetesObjectApi.makeApiClient(cluster.kubeConfig());
    for (const o of objects.slice(2)) {
      await api.delete(o, undefined, undefined, undefined, undefined, "Foreground");
      expect(await gone(o, cluster, 5_000), `${o.kind} gone after a foreground delete`).to.equal(true);
    }
    // The ConfigMap is left inside: the namespace finalizer deletes it, then finalizes the namespace.
    await api.delete(objects[0]);
    expect(await gone(objects[0], cluster, 20_000), `namespace ${ns} finalized`).to.equal(true);
  });

  it("a namespace deleted in the foreground, as the kubernetes provider deletes it, goes away too", async () => {
    const ns = { apiVersion: "v1", kind: "Namespace", metadata: { name: "engine-cluster-foreground" } };
    expect(await applyAll(cluster.kubeConfig(), [ns], MANAGER)).to.deep.equal([]);
    await KubernetesObjectApi.makeApiClient(cluster.kubeConfig()).delete(ns, undefined, undefined, undefined, undefined, "Foreground");
    expect(await gone(ns, cluster, 20_000), "namespace gone after a foreground delete").to.equal(true);
  });
});
