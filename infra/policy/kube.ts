/**
 * Plain Kubernetes objects for the policy checks: the same shape whether it comes from the
 * renderer (`infra/render`) or from a policy pack's `args.props` (the kubernetes provider's inputs
 * are the object itself: apiVersion, kind, metadata, spec). No Pulumi import here, so the checks
 * stay pure functions the tests call directly.
 */

/* eslint-disable @typescript-eslint/no-explicit-any -- Kubernetes objects of every kind, read defensively. */
export type Obj = Record<string, any>;

export interface KubeObject extends Obj {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } & Obj;
}

/** A check over one object: each string is one violation, worded for the operator. */
export type ObjectCheck = (obj: KubeObject) => string[];

/** `Deployment mindroom-instances/mindroom-42`, for messages that name the object. */
export function ref(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return `${obj.kind ?? "?"} ${ns ? `${ns}/` : ""}${obj.metadata?.name ?? "(unnamed)"}`;
}

/** The labels of an object, `{}` when it has none. */
export const labelsOf = (obj: Obj | undefined): Record<string, string> => (obj?.metadata?.labels ?? {}) as Record<string, string>;

/** The pod template of a workload (or a Pod itself): its metadata and spec, or undefined for other kinds. */
export function podTemplateOf(obj: KubeObject): { metadata: Obj; spec: Obj } | undefined {
  let template: Obj | undefined;
  switch (obj.kind) {
    case "Pod":
      template = obj;
      break;
    case "Deployment":
    case "StatefulSet":
    case "DaemonSet":
    case "ReplicaSet":
    case "ReplicationController":
    case "Job":
      template = obj.spec?.template;
      break;
    case "CronJob":
      template = obj.spec?.jobTemplate?.spec?.template;
      break;
    case "PodTemplate":
      template = obj.template;
      break;
    default:
      return undefined;
  }
  if (!template?.spec) return undefined;
  return { metadata: template.metadata ?? {}, spec: template.spec };
}

export type Section = "containers" | "initContainers" | "ephemeralContainers";

/** One container of a pod spec and the list it sits in. The container is the object itself, not a copy: a
 * policy's inputs are a proxy that throws on an unknown value, and copying would read every field. */
export interface ContainerAt {
  c: Obj;
  section: Section;
}

/** Every container of a pod spec: init, regular and ephemeral. */
export function containersOf(spec: Obj): ContainerAt[] {
  const out: ContainerAt[] = [];
  for (const section of ["initContainers", "containers", "ephemeralContainers"] as const) {
    for (const c of (spec[section] ?? []) as Obj[]) out.push({ c, section });
  }
  return out;
}

/** `container "mindroom"` or `init container "wait-for-synapse"`. */
export function containerRef({ c, section }: ContainerAt): string {
  const prefix = section === "initContainers" ? "init container" : section === "ephemeralContainers" ? "ephemeral container" : "container";
  return `${prefix} "${c.name ?? "?"}"`;
}

/**
 * A policy resource's type token and inputs as a Kubernetes object: `kubernetes:apps/v1:Deployment`
 * → `apps/v1` `Deployment`, `kubernetes:core/v1:Pod` → `v1` `Pod`. Undefined for anything that is
 * not a plain Kubernetes object: other providers, Helm releases and charts (`kubernetes:helm.sh/…`,
 * opaque to a policy; the objects of `yaml/v2` and `helm/v4` components arrive as their own
 * resources), the `*Patch` and `*List` types (partial objects) and the provider itself.
 */
export function kubeObjectFromResource(type: string, props: Obj): KubeObject | undefined {
  const m = /^kubernetes:([^:]+)\/([^:/]+):([A-Za-z0-9]+)$/.exec(type);
  if (!m) return undefined;
  const [, group, version, kind] = m;
  if (group === "helm.sh" || group === "yaml" || group === "kustomize" || kind.endsWith("Patch") || kind.endsWith("List")) return undefined;
  if (typeof props.kind === "string" && typeof props.apiVersion === "string") return props as KubeObject;
  return { ...props, apiVersion: group === "core" ? version : `${group}/${version}`, kind };
}
