/** Shared by the runtime component tests: render under mocks and pick objects apart. */
import { expect } from "chai";
import { kubeObjects, type KubeObject } from "../../../infra/render/manifests";
import { recordProgram, type Registration } from "../../../infra/render/record";
import { MindroomRuntime, type MindroomRuntimeArgs } from "../../../components/runtime";
import { mergeValues } from "../../../infra/values/load";

export type Obj = KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
export type EnvVar = { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } };

/** The checklist's baseline: everything default except the light sqlite event journal. */
export const SQLITE = { eventCache: { backend: "sqlite" } };
export const KUBE = { workers: { backend: "kubernetes" } };

export interface Rendered {
  regs: Registration[];
  /** Objects with secrets revealed. */
  objects: Obj[];
  /** Objects as `npm run render` prints them (secrets redacted). */
  redacted: Obj[];
}

export async function render(values: Record<string, unknown>, opts: { name?: string; releaseName?: string; namespace?: string } = {}): Promise<Rendered> {
  const args = { ...values, releaseName: opts.releaseName, namespace: opts.namespace } as MindroomRuntimeArgs;
  const regs = await recordProgram(() => new MindroomRuntime(opts.name ?? "mindroom-runtime", args));
  return { regs, objects: kubeObjects(regs, true) as Obj[], redacted: kubeObjects(regs, false) as Obj[] };
}

/** `render` with the sqlite baseline merged under `values`. */
export function renderSqlite(values: Record<string, unknown> = {}, opts: Parameters<typeof render>[1] = {}): Promise<Rendered> {
  return render(mergeValues(SQLITE, values), opts);
}

export function find(objects: Obj[], kind: string, name: string): Obj {
  const found = objects.find((o) => o.kind === kind && o.metadata?.name === name);
  expect(found, `${kind} ${name} among ${objects.map((o) => `${o.kind}/${o.metadata?.name}`).join(", ")}`).to.not.equal(undefined);
  return found as Obj;
}

export function ofKind(objects: Obj[], kind: string): Obj[] {
  return objects.filter((o) => o.kind === kind);
}

export function container(deployment: Obj, name: string): Obj {
  const c = (deployment.spec.template.spec.containers as Obj[]).find((x) => x.name === name);
  expect(c, `container ${name}`).to.not.equal(undefined);
  return c as Obj;
}

export function containerNames(deployment: Obj): string[] {
  return (deployment.spec.template.spec.containers as Obj[]).map((c) => c.name as string);
}

export function env(c: Obj): EnvVar[] {
  return (c.env ?? []) as EnvVar[];
}

export function envValue(c: Obj, name: string): string | undefined {
  return env(c).find((e) => e.name === name)?.value;
}

export function envNames(c: Obj): string[] {
  return env(c).map((e) => e.name);
}

export function secretRef(c: Obj, name: string): { name: string; key: string } | undefined {
  return env(c).find((e) => e.name === name)?.valueFrom?.secretKeyRef;
}

/** The runtime Deployment and its `mindroom` container. */
export function runtime(r: Rendered, fullname = "mindroom-runtime"): { deployment: Obj; mindroom: Obj } {
  const deployment = find(r.objects, "Deployment", fullname);
  return { deployment, mindroom: container(deployment, "mindroom") };
}
