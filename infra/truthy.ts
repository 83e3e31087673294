/**
 * The charts' truthy test (spec instance.md notation): the lower-cased string form of the value is
 * one of `1`, `true`, `yes`, `on`. Booleans, numbers and strings all pass through `String()`, as
 * Helm's `toString` does, so `true`, `"True"` and `1` are truthy and `"false"`, `""` and absent are not.
 */
export function truthy(value: unknown): boolean {
  return ["1", "true", "yes", "on"].includes(String(value ?? "").toLowerCase());
}
