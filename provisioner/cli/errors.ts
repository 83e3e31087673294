/**
 * The CLI's failures, each with the exit code it ends the process with (documented in `--help`
 * and docs/fleet.md). Commands throw these; `main.ts` prints one line to stderr and exits.
 */

export const EXIT = {
  ok: 0,
  /** The operation failed: a failed job, or an API answer of 4xx/5xx. */
  failed: 1,
  /** Wrong usage or configuration (bad option, missing MINDROOM_API_URL/KEY, refused confirmation). */
  usage: 2,
  /** The provisioner could not be reached (connection refused, DNS, TLS). */
  unreachable: 3,
  /** Waiting for a job took longer than --timeout (the job goes on). */
  timeout: 4,
  /** A rollout finished but some tenants failed or were skipped. */
  partial: 5,
} as const;

export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message);
    this.name = "CliError";
  }
}

/** Usage or configuration error (exit 2). */
export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT.usage);
    this.name = "UsageError";
  }
}

/** The API answered 4xx/5xx; `detail` is its `{detail}` as one line (exit 1). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly detail: string,
  ) {
    super(`${detail} (HTTP ${status})`, EXIT.failed);
    this.name = "ApiError";
  }
}

/** No HTTP answer at all from `url` (exit 3). */
export class Unreachable extends CliError {
  constructor(
    readonly url: string,
    reason: string,
  ) {
    super(`cannot reach the provisioner at ${url}: ${reason}; check MINDROOM_API_URL (or --api-url) and that the provisioner runs`, EXIT.unreachable);
    this.name = "Unreachable";
  }
}

/** Waiting ran out (exit 4). */
export class TimedOut extends CliError {
  constructor(message: string) {
    super(message, EXIT.timeout);
    this.name = "TimedOut";
  }
}
