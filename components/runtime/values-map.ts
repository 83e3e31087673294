/**
 * The runtime's bindings of the shared vocabulary (infra/values/fields.ts): its strict map, whose
 * unknown-key message points at the runtime's values docs; the pull policy where empty means "the
 * runtime image's policy"; and the inline secret, set in the runtime stack with `--secret --path`.
 */
import { nullableSecret, nullableString, pullPolicyEnum, strictMap } from "../../infra/values/fields";
import type { z } from "zod";

/** Where the unknown-key message sends the operator: the runtime chart's values, upstream's keys. */
export const RUNTIME_VALUES_DOC = "docs/runtime.md#values";

/** A runtime values map: exactly the chart's keys, a misspelt one named with the closest known key. */
export function obj<S extends z.ZodRawShape>(shape: S) {
  return strictMap(shape, RUNTIME_VALUES_DOC);
}

/** A pull policy, or empty for the runtime image's policy (workers, content bundles). */
export const emptyOrPullPolicy = nullableString.pipe(pullPolicyEnum("the runtime image's policy"));

/** The chart's inline secrets (`workers.sandbox.proxyToken.value`, `eventCache.postgres.auth.password`). */
export const inlineSecret = nullableSecret("in stack config set it with `pulumi config set --secret --path`");
