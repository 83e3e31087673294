/**
 * The runtime's two bindings of the shared vocabulary (infra/values/fields.ts): its strict map,
 * whose unknown-key message points at the runtime's values docs, and the pull policy where empty
 * means "the runtime image's policy".
 */
import { nullableString, pullPolicyEnum, strictMap } from "../../infra/values/fields";
import type { z } from "zod";

/** Where the unknown-key message sends the operator: the runtime chart's values, upstream's keys. */
export const RUNTIME_VALUES_DOC = "docs/runtime.md#values";

/** A runtime values map: exactly the chart's keys, a misspelt one named with the closest known key. */
export function obj<S extends z.ZodRawShape>(shape: S) {
  return strictMap(shape, RUNTIME_VALUES_DOC);
}

/** A pull policy, or empty for the runtime image's policy (workers, content bundles). */
export const emptyOrPullPolicy = nullableString.pipe(pullPolicyEnum("the runtime image's policy"));
