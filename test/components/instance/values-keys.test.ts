/**
 * The unknown-key error points at docs/instance.md#values-keys: that table must list exactly the
 * keys a values file can set, in the file's spelling (not the camelCase args of args.ts).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { z } from "zod";
import { instanceValuesSchema, parseInstanceValues } from "../../../components/instance/values";

type Def = { type: string; shape?: Record<string, z.ZodType>; innerType?: z.ZodType; options?: z.ZodType[]; in?: z.ZodType; out?: z.ZodType; element?: z.ZodType };

/** Every key path the schema accepts: `a`, `a.b`; list items as `a[].b`. */
function schemaKeys(schema: z.ZodType, prefix = "", out = new Set<string>()): Set<string> {
  const def = (schema as unknown as { _zod: { def: Def } })._zod.def;
  if (def.type === "object") {
    for (const [key, value] of Object.entries(def.shape!)) {
      out.add(prefix + key);
      schemaKeys(value, `${prefix}${key}.`, out);
    }
  } else if (def.type === "optional" || def.type === "nullable" || def.type === "default") schemaKeys(def.innerType!, prefix, out);
  else if (def.type === "union") for (const option of def.options!) schemaKeys(option, prefix, out);
  else if (def.type === "pipe") [def.in!, def.out!].forEach((s) => schemaKeys(s, prefix, out));
  else if (def.type === "array") schemaKeys(def.element!, prefix.replace(/\.$/, "[]."), out);
  return out;
}

/** The backticked keys in the first column of the "Values keys" table. */
function documentedKeys(): Set<string> {
  const doc = readFileSync(join(__dirname, "../../../docs/instance.md"), "utf8");
  const section = doc.split("\n### Values keys\n")[1]?.split("\n## ")[0];
  expect(section, "docs/instance.md has a '### Values keys' section (anchor #values-keys)").to.be.a("string");
  const rows = section!.split("\n").filter((l) => l.startsWith("| `"));
  return new Set(rows.flatMap((row) => [...row.split("|")[1].matchAll(/`([^`]+)`/g)].map((m) => m[1])));
}

describe("instance values keys (docs/instance.md#values-keys)", () => {
  it("the table lists every key a values file can set, and nothing else", () => {
    // Maps whose inner keys are documented with the map itself: resource requests/limits, pull-secret items.
    const expected = [...schemaKeys(instanceValuesSchema)].filter((k) => !/Resources\.|\[\]/.test(k));
    // A nested map is documented by its keys (`matrixOidc.enabled`, …), not by a row of its own.
    const parents = new Set(expected.filter((k) => k.includes(".")).map((k) => k.split(".")[0]));
    expect([...documentedKeys()].sort()).to.deep.equal(expected.filter((k) => !parents.has(k)).sort());
  });

  it("the unknown-key error points at that table, top level and nested", () => {
    expect(() => parseInstanceValues({ customer: 1, bogusKey: 1 })).to.throw(/^unknown key "bogusKey"; remove it \(every key: docs\/instance\.md#values-keys\)$/);
    expect(() => parseInstanceValues({ customer: 1, matrixOidc: { issuerUrl: "x" } })).to.throw(
      /^matrixOidc: unknown key "issuerUrl"; did you mean "issuer"\? \(every key: docs\/instance\.md#values-keys\)$/,
    );
  });
});
