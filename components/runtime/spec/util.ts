/** Small helpers shared by the object specs. */
import type { Labels } from "../names";

/**
 * Raw chart pass-through (affinity, EnvVar lists, ...) is typed `Record<string, unknown>` by the
 * values schema; the Kubernetes API server validates it, as it did for Helm.
 */
export function cast<T>(value: unknown): T {
  return value as T;
}

/** A map or list, or undefined when empty, so the field is left out as the chart's `with` does. */
export function nonEmpty<T extends object>(value: T): T | undefined {
  return (Array.isArray(value) ? value.length : Object.keys(value).length) > 0 ? value : undefined;
}

/** Object metadata: explicit name and namespace (names are a contract), labels, optional annotations. */
export function meta(name: string, namespace: string, labels: Labels, annotations: Record<string, string> = {}) {
  return { name, namespace, labels, annotations: nonEmpty(annotations) };
}
