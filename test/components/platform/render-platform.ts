/** Test helpers: run the real `Platform` under the mock runtime and look objects up by kind and name. */
import { kubeObjects, type KubeObject } from "../../../infra/render/manifests";
import { recordProgram, type Registration } from "../../../infra/render/record";
import { Platform } from "../../../components/platform/platform";
import { parsePlatformValues } from "../../../components/platform/values";
import type { PlatformArgs } from "../../../components/platform/args";

/** The prometheus-operator kinds the platform may render; every other kind must have a Kubernetes schema. */
export const MONITORING_KINDS = ["monitoring.coreos.com/v1/ServiceMonitor", "monitoring.coreos.com/v1/PrometheusRule"];

/** Rendered manifests are untyped JSON; tests navigate them freely. */
export type Loose = any; // eslint-disable-line @typescript-eslint/no-explicit-any
export type Obj = Record<string, Loose>;

export interface Rendered {
  regs: Registration[];
  objects: KubeObject[];
  /** The object of `kind` named `name` (and in `namespace` when given); throws when absent. */
  get(kind: string, name: string, namespace?: string): Obj;
  find(kind: string, name: string): Obj | undefined;
  /** The registration behind an object (raw inputs, secrets still wrapped). */
  reg(kind: string, name: string): Registration;
}

/** Parses synchronously (so invalid values throw from the call itself), then renders. */
export function renderPlatform(values: Record<string, unknown> = {}, showSecrets = false): Promise<Rendered> {
  return renderArgs(parsePlatformValues(values), showSecrets);
}

export async function renderArgs(args: PlatformArgs, showSecrets = false): Promise<Rendered> {
  const regs = await recordProgram(() => new Platform("platform", args));
  const objects = kubeObjects(regs, showSecrets);
  const find = (kind: string, name: string, namespace?: string) =>
    objects.find((o) => o.kind === kind && o.metadata?.name === name && (namespace === undefined || o.metadata?.namespace === namespace)) as Obj | undefined;
  return {
    regs,
    objects,
    find,
    get(kind, name, namespace) {
      const o = find(kind, name, namespace);
      if (!o) throw new Error(`no ${kind} ${name}${namespace ? ` in ${namespace}` : ""}; have: ${objects.map((x) => `${x.kind}/${x.metadata?.name}`).join(", ")}`);
      return o;
    },
    reg(kind, name) {
      const r = regs.find((x) => x.inputs.kind === kind && (x.inputs.metadata as { name?: string } | undefined)?.name === name);
      if (!r) throw new Error(`no registration of ${kind} ${name}`);
      return r;
    },
  };
}

export type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };

/** RBAC semantics for one request: some rule matches group, resource, verb and (if restricted) the object name. */
export function allows(rules: Rule[], group: string, resource: string, verb: string, resourceName?: string): boolean {
  return rules.some(
    (r) =>
      r.apiGroups.includes(group) &&
      r.resources.includes(resource) &&
      r.verbs.includes(verb) &&
      (r.resourceNames === undefined || r.resourceNames.length === 0 || (resourceName !== undefined && r.resourceNames.includes(resourceName))),
  );
}

/** True when every request `inner` allows is also allowed by `outer` (the escalation check for creating `inner`). */
export function covers(outer: Rule[], inner: Rule[]): boolean {
  return inner.every((r) =>
    r.apiGroups.every((g) => r.resources.every((res) => r.verbs.every((v) => (r.resourceNames?.length ? r.resourceNames.every((n) => allows(outer, g, res, v, n)) : allows(outer, g, res, v))))),
  );
}
