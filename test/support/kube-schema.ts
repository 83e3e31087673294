/**
 * Validates rendered objects against the Kubernetes OpenAPI schemas shipped by `kubernetes-models`.
 * An object whose kind has no schema there fails too, unless the caller lists it as a CRD it
 * accepts, so a typo in apiVersion or kind cannot slip through unvalidated.
 */
import type { KubeObject } from "../../infra/render/manifests";

type ModelClass = new (data: unknown) => { validate(): void };

function modelFor(apiVersion: string, kind: string): ModelClass | undefined {
  const group = apiVersion.includes("/") ? apiVersion : `${apiVersion}`;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(`kubernetes-models/${group}/${kind}`) as Record<string, ModelClass>;
    return mod[kind];
  } catch {
    return undefined;
  }
}

/** Throws with the object's kind/name and the schema message when `obj` is not schema-valid. */
export function validateKubeObject(obj: KubeObject, allowedCustomKinds: string[] = []): void {
  const Model = modelFor(obj.apiVersion, obj.kind);
  const id = `${obj.apiVersion} ${obj.kind} ${obj.metadata?.namespace ?? ""}/${obj.metadata?.name ?? "?"}`;
  if (!Model) {
    if (allowedCustomKinds.includes(`${obj.apiVersion}/${obj.kind}`)) return;
    throw new Error(`${id}: no Kubernetes schema for this apiVersion/kind`);
  }
  try {
    new Model(obj).validate();
  } catch (err) {
    throw new Error(`${id}: ${(err as Error).message}`);
  }
}

export function validateKubeObjects(objects: KubeObject[], allowedCustomKinds: string[] = []): void {
  for (const obj of objects) validateKubeObject(obj, allowedCustomKinds);
}
