/**
 * Helm's `toJson` (Go's encoding/json): compact, map keys sorted, and `<`, `>`, `&`, U+2028/2029
 * escaped. The runtime compares worker pod templates by these strings, so they must be stable.
 */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

export function goJson(value: unknown): string {
  return JSON.stringify(sortKeys(value))
    .replace(/</g, "\\u003c")
    .replace(/>/g, "\\u003e")
    .replace(/&/g, "\\u0026")
    .replace(/\u2028/g, "\\u2028")
    .replace(/\u2029/g, "\\u2029");
}
