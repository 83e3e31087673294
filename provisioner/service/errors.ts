/**
 * A failure with the HTTP status and one-line detail a client should see (spec provisioner.md §4).
 * Details never carry CLI output or secret values: adapters hand over redacted messages only.
 */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "HttpError";
  }
}

/** First line of an error message, capped, for details and `last_error` (never a full CLI log). */
export function shortReason(err: unknown, max = 200): string {
  const text = err instanceof Error ? err.message : String(err);
  const line = text.split("\n")[0].trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** `text` with every known secret value (6 characters or more, longest first) replaced by `[REDACTED]`. */
export function withoutSecrets(text: string, secrets: Iterable<string>): string {
  let out = text;
  for (const value of [...secrets].filter((v) => v.length >= 6).sort((a, b) => b.length - a.length)) out = out.split(value).join("[REDACTED]");
  return out;
}
