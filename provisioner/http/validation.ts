/**
 * Schema validation with FastAPI-compatible 422 bodies (spec provisioner.md §3.5, Deviation 8):
 * `{"detail": [{"loc": ["body", "tier"], "msg": "...", "type": "..."}]}`.
 */
import type { z } from "zod";

export interface FieldError {
  loc: (string | number)[];
  msg: string;
  type: string;
}

export class ValidationFailed extends Error {
  constructor(readonly errors: FieldError[]) {
    super("validation failed");
    this.name = "ValidationFailed";
  }
}

function valueAt(input: unknown, path: PropertyKey[]): unknown {
  let v = input;
  for (const key of path) v = v !== null && typeof v === "object" ? (v as Record<PropertyKey, unknown>)[key] : undefined;
  return v;
}

function typeOf(issue: z.core.$ZodIssue, missing: boolean): string {
  switch (issue.code) {
    case "invalid_type":
      return missing ? "missing" : `${issue.expected}_type`;
    case "invalid_value":
      return "enum";
    case "invalid_format":
      return `${issue.format}_parsing`;
    case "unrecognized_keys":
      return "extra_forbidden";
    default:
      return issue.code;
  }
}

export function fieldErrors(where: "body" | "path" | "query", error: z.ZodError, input: unknown): FieldError[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map((p) => (typeof p === "number" ? p : String(p)));
    if (issue.code === "unrecognized_keys") {
      return issue.keys.map((key) => ({ loc: [where, ...path, key], msg: "Extra inputs are not permitted", type: "extra_forbidden" }));
    }
    const missing = issue.code === "invalid_type" && valueAt(input, issue.path) === undefined;
    return [{ loc: [where, ...path], msg: missing ? "Field required" : issue.message, type: typeOf(issue, missing) }];
  });
}

/** Parses or throws ValidationFailed (answered as 422). */
export function parse<S extends z.ZodType>(where: "body" | "path" | "query", schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationFailed(fieldErrors(where, result.error, input));
  return result.data;
}
