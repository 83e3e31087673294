/**
 * Renders MindroomInstance under the mock runtime for the tests. Every render validates every
 * object against the Kubernetes schemas (redacted and revealed), so no mode escapes validation.
 */
import * as k8s from "@pulumi/kubernetes";
import { recordProgram, type RecordOptions, type Registration } from "../../../infra/render/record";
import { kubeObjects, type KubeObject } from "../../../infra/render/manifests";
import { validateKubeObjects } from "../../support/kube-schema";
import { MindroomInstance, type MindroomInstanceArgs } from "../../../components/instance";
import { parseInstanceValues } from "../../../components/instance/values";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Obj = { apiVersion: string; kind: string; metadata: any; [field: string]: any };

export interface Rendered {
  regs: Registration[];
  /** Secrets revealed. */
  objects: Obj[];
  /** Secrets redacted, as `render` prints by default. */
  redacted: Obj[];
  get(kind: string, name: string): Obj;
  find(kind: string, name: string): Obj | undefined;
  reg(kind: string, name: string): Registration;
}

export async function renderArgs(args: MindroomInstanceArgs, options: RecordOptions = {}): Promise<Rendered> {
  const regs = await recordProgram(() => {
    const provider = new k8s.Provider("test-provider", { namespace: "elsewhere" });
    new MindroomInstance("tenant", args, { providers: [provider] });
  }, options);
  const objects = kubeObjects(regs, true) as Obj[];
  const redacted = kubeObjects(regs, false) as Obj[];
  validateKubeObjects(objects as KubeObject[]);
  validateKubeObjects(redacted as KubeObject[]);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  return {
    regs,
    objects,
    redacted,
    find,
    get(kind, name) {
      const o = find(kind, name);
      if (!o) throw new Error(`no ${kind} ${name}; have ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(", ")}`);
      return o;
    },
    reg(kind, name) {
      const r = regs.find((x) => x.type.endsWith(`:${kind}`) && (x.inputs.metadata as { name?: string } | undefined)?.name === name);
      if (!r) throw new Error(`no registration ${kind} ${name}`);
      return r;
    },
  };
}

export const renderValues = (values: Record<string, unknown>, options: RecordOptions = {}) => renderArgs(parseInstanceValues(values), options);

/** Worker mode that passes validation on Hetzner (RWO + node pin) or with RWX. */
export const K8S_RWX = { workerBackend: "kubernetes", storageAccessMode: "ReadWriteMany" } as const;

export const podSpec = (d: Obj) => d.spec.template.spec;
export const container = (d: Obj, name: string) => {
  const all = [...(podSpec(d).containers ?? []), ...(podSpec(d).initContainers ?? [])];
  const c = all.find((x: { name: string }) => x.name === name);
  if (!c) throw new Error(`no container ${name}`);
  return c;
};
export const envOf = (c: { env?: { name: string; value?: string; valueFrom?: unknown }[] }) =>
  Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
export const mindroomEnv = (r: Rendered, customer = "demo") => envOf(container(r.get("Deployment", `mindroom-${customer}`), "mindroom"));

/** What `run` logs through `pulumi.log.warn` (the mock runtime prints it with console.warn), and its result. */
export async function withWarnings<T>(run: () => Promise<T>): Promise<{ warnings: string[]; result: T }> {
  const warnings: string[] = [];
  const original = console.warn;
  console.warn = (msg: string) => void warnings.push(String(msg));
  try {
    return { warnings, result: await run() };
  } finally {
    console.warn = original;
  }
}
