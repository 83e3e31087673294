/** What a rendered stream needs on the cluster before it applies: minimal CRDs and namespaces. */
import type { KubeConfig } from "@kubernetes/client-node";
import { apply, id, read, type Obj } from "./apply";
import { customKindOf, minimalCrd } from "./crds";

/** Field manager of the set-up objects (namespaces another stack owns, minimal CRDs). */
export const SETUP_MANAGER = "mindroom-engine-test-setup";

async function established(kc: KubeConfig, crd: Obj): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const live = await read(kc, crd);
    const conditions = (live.status?.conditions ?? []) as { type: string; status: string }[];
    if (conditions.some((c) => c.type === "Established" && c.status === "True")) return;
    if (Date.now() > deadline) throw new Error(`${id(crd)} not Established after 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Applies a minimal CRD for every custom kind in `objects` and creates each namespace the
 * objects live in that the stream does not itself contain. Returns one line per thing done, for
 * the test output.
 */
export async function prepare(kc: KubeConfig, objects: Obj[]): Promise<string[]> {
  const notes: string[] = [];
  const kinds = new Map(objects.flatMap((o) => { const c = customKindOf(o); return c ? [[c.kind, c] as const] : []; }));
  for (const c of kinds.values()) {
    const crd = minimalCrd(c);
    await apply(kc, crd, SETUP_MANAGER);
    await established(kc, crd);
    const names = objects.filter((o) => customKindOf(o) === c).map(id);
    notes.push(`${c.kind}: applied against a minimal open-schema CRD, its spec is not validated (${c.reason}): ${names.join(", ")}`);
  }
  const rendered = new Set(objects.filter((o) => o.apiVersion === "v1" && o.kind === "Namespace").map((o) => o.metadata.name));
  const needed = [...new Set(objects.map((o) => o.metadata.namespace).filter((n): n is string => !!n && !rendered.has(n)))];
  for (const name of needed) {
    await apply(kc, { apiVersion: "v1", kind: "Namespace", metadata: { name } }, SETUP_MANAGER);
    notes.push(`namespace ${name}: created first (not in this stream; another stack or the operator owns it)`);
  }
  return notes;
}
