/**
 * The one home of the provisioner's failures. Services and jobs say why an operation failed in
 * terms a client acts on (`Failure`); the HTTP layer and the job records turn the kind into the
 * upstream status code through `FAILURE_STATUS`, so no layer below http/ speaks HTTP.
 * Details never carry CLI output or secret values: adapters hand over redacted messages only.
 */

/** Why an operation failed, by what would fix it: the caller's input, time, or the operator. */
export const FAILURE_STATUS = {
  /** The instance or job does not exist (upstream 404). */
  not_found: 404,
  /** Another operation holds the tenant (a stack lock, a job in the way): retry later. */
  conflict: 409,
  /** The operation ran and failed (upstream answers 500 with its detail). */
  failed: 500,
  /** A service the operation depends on (OpenRouter) refused or failed. */
  upstream: 502,
  /** This installation cannot do it now (no engine, no Kubernetes credentials, shutting down). */
  unavailable: 503,
} as const;

export type FailureKind = keyof typeof FAILURE_STATUS;

export class Failure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail: string,
  ) {
    super(detail);
    this.name = "Failure";
  }

  /** The upstream status code of this failure (HTTP answers and job records). */
  get statusCode(): number {
    return FAILURE_STATUS[this.kind];
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
