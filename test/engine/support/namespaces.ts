/**
 * Stands in for kube-controller-manager's namespace controller, which this control plane does not
 * run: a deleted namespace keeps its `kubernetes` finalizer (spec.finalizers) until something
 * deletes what is left in it and calls /finalize, so without this `pulumi destroy` of a Namespace
 * waits out the provider's 10-minute delete timeout. Same steps as the controller: delete the
 * namespace's content, then drop the finalizer once every list is empty.
 */
import { apiRequest, type ApiTarget } from "./api";

interface Resource {
  base: string;
  name: string;
  verbs: string[];
}

async function namespacedResources(target: ApiTarget): Promise<Resource[]> {
  const groups = (await apiRequest(target, "GET", "/apis")).body.groups as { preferredVersion: { groupVersion: string } }[];
  const bases = ["/api/v1", ...groups.map((g) => `/apis/${g.preferredVersion.groupVersion}`)];
  const lists = await Promise.all(bases.map(async (base) => ({ base, res: await apiRequest(target, "GET", base) })));
  return lists.flatMap(({ base, res }) =>
    ((res.body?.resources ?? []) as { name: string; namespaced: boolean; verbs: string[] }[])
      .filter((r) => r.namespaced && !r.name.includes("/") && r.verbs.includes("list") && r.verbs.includes("delete"))
      .map((r) => ({ base, name: r.name, verbs: r.verbs })),
  );
}

/** One pass over a terminating namespace; true once it was finalized. */
async function finalizeNamespace(target: ApiTarget, ns: { metadata: { name: string }; spec: { finalizers: string[] } }): Promise<boolean> {
  const name = ns.metadata.name;
  let remaining = 0;
  for (const r of await namespacedResources(target)) {
    const path = `${r.base}/namespaces/${name}/${r.name}`;
    const items = ((await apiRequest(target, "GET", path)).body?.items ?? []) as { metadata: { name: string } }[];
    if (items.length === 0) continue;
    remaining += items.length;
    if (r.verbs.includes("deletecollection")) await apiRequest(target, "DELETE", path);
    else await Promise.all(items.map((i) => apiRequest(target, "DELETE", `${path}/${i.metadata.name}`)));
  }
  if (remaining > 0) return false;
  const body = { apiVersion: "v1", kind: "Namespace", ...ns, spec: { ...ns.spec, finalizers: ns.spec.finalizers.filter((f) => f !== "kubernetes") } };
  const res = await apiRequest(target, "PUT", `/api/v1/namespaces/${name}/finalize`, body);
  return res.status === 200;
}

export interface NamespaceFinalizer {
  stop(): Promise<void>;
}

export function startNamespaceFinalizer(target: ApiTarget, intervalMs = 300): NamespaceFinalizer {
  let stopped = false;
  let round: Promise<void> = Promise.resolve();
  const pass = async () => {
    const list = await apiRequest(target, "GET", "/api/v1/namespaces");
    const deleted = ((list.body?.items ?? []) as { metadata: { name: string; deletionTimestamp?: string; finalizers?: string[] }; spec: { finalizers?: string[] } }[]).filter(
      (n) => n.metadata.deletionTimestamp,
    );
    for (const ns of deleted.filter((n) => (n.spec.finalizers ?? []).includes("kubernetes"))) {
      await finalizeNamespace(target, { ...ns, spec: { finalizers: ns.spec.finalizers ?? [] } });
    }
    // A Foreground delete (the kubernetes provider's default) also puts `foregroundDeletion` in
    // metadata.finalizers, even with the apiserver's GC flag off (the namespace store adds it
    // itself); the garbage collector would drop it once the namespace is empty. Do the same.
    for (const ns of deleted.filter((n) => (n.spec.finalizers ?? []).length === 0 && (n.metadata.finalizers ?? []).includes("foregroundDeletion"))) {
      const finalizers = (ns.metadata.finalizers ?? []).filter((f) => f !== "foregroundDeletion");
      await apiRequest(target, "PATCH", `/api/v1/namespaces/${ns.metadata.name}`, { metadata: { finalizers } }, "application/merge-patch+json");
    }
  };
  const tick = () => {
    if (stopped) return;
    round = pass()
      .catch(() => undefined) // the server may be stopping; the next pass retries
      .then(() => {
        if (!stopped) setTimeout(tick, intervalMs).unref();
      });
  };
  tick();
  return {
    async stop() {
      stopped = true;
      await round;
    },
  };
}
