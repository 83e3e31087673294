/** The spec's truthy test (platform.md notation): lower-cased string form in `1`, `true`, `yes`, `on`. */
export function truthy(value: unknown): boolean {
  return ["1", "true", "yes", "on"].includes(String(value).toLowerCase());
}
