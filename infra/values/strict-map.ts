/**
 * The map builder every component's values schema is made of: unknown keys are an error naming
 * the key and the closest known one, because Helm silently ignores a misspelt key, which turns a
 * typo such as `mindroom_imgae` into a tenant running the wrong image.
 */
import { z } from "zod";

/** How a value that failed a type check reads in a message: `null`, `a list`, `string`, `number`, …. */
export function kindOf(input: unknown): string {
  return input === null ? "null" : Array.isArray(input) ? "a list" : typeof input;
}

/** Levenshtein distance, case-insensitive, for the did-you-mean hint. */
export function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** The known key close enough to `key` to be its likely spelling, if any. */
export function closestKey(key: string, known: string[]): string | undefined {
  const best = known.map((k) => [k, editDistance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
  return best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? best[0] : undefined;
}

/**
 * A YAML map with exactly the keys of `shape`. An unknown key fails with
 * `unknown key "<key>"; did you mean "<known>"? (every key: <docs>)` (or `; remove it` when no
 * known key is close); a value that is no map fails with `expected a map, got <kind>`. A missing
 * required map keeps zod's own issue, so a caller that explains absence (stacks/config.ts says
 * "required; add it to the stack file") still can. `docs`
 * points at the component's list of values keys, in upstream's spelling, e.g.
 * `docs/instance.md#values-keys`.
 */
export function strictMap<S extends z.ZodRawShape>(shape: S, docs: string) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const key = issue.keys[0];
        const close = closestKey(key, known);
        return `unknown key "${key}"; ${close ? `did you mean "${close}"?` : "remove it"} (every key: ${docs})`;
      }
      return issue.input === undefined ? undefined : `expected a map, got ${kindOf(issue.input)}`;
    },
  });
}
