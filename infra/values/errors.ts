/**
 * One-line configuration errors: which value is wrong and how to fix it. Thrown before any
 * resource registers, so a bad value never changes anything.
 */
import type { ZodError, ZodType, z } from "zod";

export class ValuesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ValuesError";
  }
}

/** `a.b[0].c` from a zod issue path. */
export function formatPath(path: ReadonlyArray<PropertyKey>): string {
  return path.reduce<string>((acc, part) => (typeof part === "number" ? `${acc}[${part}]` : acc ? `${acc}.${String(part)}` : String(part)), "");
}

/** The first issue of a ZodError as `<prefix><path>: <message>`. */
export function formatZodError(error: ZodError, prefix = ""): string {
  const issue = error.issues[0];
  const path = formatPath(issue.path);
  return `${prefix}${path ? `${path}: ` : ""}${issue.message}`;
}

/** `schema.parse` that throws a {@link ValuesError} naming the offending value. */
export function parseOrThrow<S extends ZodType>(schema: S, raw: unknown, prefix = ""): z.output<S> {
  const result = schema.safeParse(raw);
  if (!result.success) throw new ValuesError(formatZodError(result.error, prefix));
  return result.data;
}
