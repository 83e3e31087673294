/**
 * Values of the upstream "runtime" chart (`cluster/k8s/runtime`, chart `mindroom-runtime` 0.1.0),
 * core surface: the same keys and defaults, so an existing values file keeps working.
 *
 * Parsing follows Helm: the operator's values are deep-merged over {@link RUNTIME_DEFAULTS} (maps
 * merge key by key, lists and scalars replace, `null` clears a default), then zod checks types and
 * every upstream validation. Each failure is one line naming the value and the fix.
 */
import { parseOrThrow, ValuesError } from "../../infra/values/errors";
import { mergeValues } from "../../infra/values/load";
import type { MindroomRuntimeArgs } from "./args";
import { RUNTIME_DEFAULTS } from "./defaults";
import { runtimeValuesSchema, type RuntimeValues } from "./schema";
import { validateAgentVaultRelease } from "./schema-agent-vault";

/** Release identity, as `helm install <name> --namespace <ns>` gives it. */
export interface RuntimeRelease {
  /** Release name R (default `mindroom-runtime`, as the chart README installs it). */
  name?: string;
  /** Release namespace RNS (default `mindroom`, as the chart README installs it). */
  namespace?: string;
}

export const DEFAULT_RELEASE_NAME = "mindroom-runtime";
export const DEFAULT_NAMESPACE = "mindroom";

/** The release name and namespace name every object (spec §1), so they must be DNS labels. */
export function validateRelease(release: string, namespace: string): void {
  for (const [key, value] of [["releaseName", release], ["namespace", namespace]] as const) {
    if (!/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(value)) {
      throw new ValuesError(`${key}: "${value}" must be a DNS label (lower-case letters, digits and '-', at most 63 characters); it names the runtime's objects`);
    }
  }
}

/**
 * Merges `raw` over the chart defaults and validates it. Throws a {@link ValuesError}
 * (`<prefix><path>: <what is wrong and how to fix it>`) on the first problem.
 */
export function validateRuntimeValues(raw: unknown, prefix = ""): RuntimeValues {
  if (raw !== undefined && raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
    throw new ValuesError(`${prefix || "values"}: must be a map of runtime chart values`);
  }
  const merged = mergeValues(RUNTIME_DEFAULTS, (raw ?? {}) as Record<string, unknown>);
  dropNullKeys(
    merged,
    ["podSecurityContext"],
    ["securityContext"],
    ["eventCache", "postgres", "podSecurityContext"],
    ["eventCache", "postgres", "securityContext"],
    // Upstream's root defaults for the state init container: `runAsNonRoot: null` and the like remove one.
    ["stateStorage", "initPermissions", "securityContext"],
  );
  return parseOrThrow(runtimeValuesSchema, merged, prefix);
}

/**
 * Helm deletes a key that a values file sets to `null`, at any depth; so `seccompProfile: null`
 * under `podSecurityContext` removes that default (docs/runtime.md, Pod Security) instead of
 * sending a null to the API server. Done for the security contexts, whose defaults are the project's.
 */
function dropNullKeys(values: Record<string, unknown>, ...paths: string[][]): void {
  for (const path of paths) {
    let node: unknown = values;
    for (const part of path) node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
    if (!node || typeof node !== "object" || Array.isArray(node)) continue;
    const map = node as Record<string, unknown>;
    for (const key of Object.keys(map)) if (map[key] === null) delete map[key];
  }
}

/**
 * Chart values (keys verbatim, upstream defaults) to {@link MindroomRuntimeArgs}. The release name
 * defaults to `mindroom-runtime` and the namespace to `mindroom`, as the chart README installs it.
 * `prefix` is put in front of the value path in errors (e.g. `mindroom-runtime:values.`).
 */
export function parseRuntimeValues(raw: Record<string, unknown>, release: RuntimeRelease = {}, prefix = ""): MindroomRuntimeArgs {
  const values = validateRuntimeValues(raw, prefix);
  const releaseName = release.name || DEFAULT_RELEASE_NAME;
  const namespace = release.namespace || DEFAULT_NAMESPACE;
  validateRelease(releaseName, namespace);
  validateAgentVaultRelease(values, namespace, prefix); // agentVault: the squid-first rule needs the namespace
  const args = { ...values, releaseName, namespace };
  PARSED.set(args, values);
  return args;
}

/**
 * Args that parseRuntimeValues returned, with their parsed values. The component takes these as
 * they are: merging the chart defaults over them a second time would bring back a default that a
 * `null` removed (`podSecurityContext.seccompProfile: null`, for one). Any other args object,
 * including a copy, is merged and validated as usual.
 */
const PARSED = new WeakMap<object, RuntimeValues>();

export function parsedValuesOf(args: object): RuntimeValues | undefined {
  return PARSED.get(args);
}
