/**
 * Loads Helm-style values files: YAML maps merged left to right, as `helm -f a.yaml -f b.yaml` does.
 * Maps merge key by key; lists and scalars from a later file replace earlier ones. An explicit
 * `null` is kept (charts give null a meaning, e.g. `mindroomResources: null` renders `resources: {}`).
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { ValuesError } from "./errors";

export type Values = Record<string, unknown>;

function isMap(v: unknown): v is Values {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Deep merge with Helm's precedence: `over` wins. Neither argument is modified. */
export function mergeValues(base: Values, over: Values): Values {
  const out: Values = { ...base };
  for (const [key, value] of Object.entries(over)) {
    out[key] = isMap(out[key]) && isMap(value) ? mergeValues(out[key] as Values, value) : value;
  }
  return out;
}

/** Parses one YAML document of values; an empty document is `{}`. */
export function parseValuesYaml(text: string, source: string): Values {
  let doc: unknown;
  try {
    doc = parse(text, { version: "1.1" });
  } catch (err) {
    const first = String((err as Error).message).split("\n")[0];
    throw new ValuesError(`${source}: invalid YAML: ${first}`);
  }
  if (doc === null || doc === undefined) return {};
  if (!isMap(doc)) throw new ValuesError(`${source}: values must be a YAML map at the top level, got ${Array.isArray(doc) ? "a list" : typeof doc}`);
  return doc;
}

/** Reads and merges values files in order. */
export function loadValuesFiles(paths: string[]): Values {
  return paths.reduce<Values>((acc, path) => {
    let text: string;
    try {
      text = readFileSync(path, "utf8");
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new ValuesError(`values file ${path}: ${code === "ENOENT" ? "not found; check the -f path" : (err as Error).message}`);
    }
    return mergeValues(acc, parseValuesYaml(text, `values file ${path}`));
  }, {});
}
