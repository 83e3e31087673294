/**
 * The provisioner HTTP API as the CLI uses it: bearer auth, JSON in and out, and typed failures —
 * `ApiError` (an answer of 4xx/5xx, with its `detail` as one line) and `Unreachable` (no answer).
 */
import { ApiError, Unreachable } from "./errors";

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** `Prefer: wait=N`: 0 asks for the 202 at once, so the CLI follows the job itself. */
  wait?: number;
  /** Give up after this long without an answer (default 60 s); 0 = never. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface Answer<T> {
  status: number;
  body: T;
  headers: Headers;
}

/** One line, bounded: details reach a terminal. */
function oneLine(text: string, max = 500): string {
  const line = text.replace(/\s*\n\s*/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/** The `detail` of an error body as one line: a string, a list of schema errors, or `{error}` (429). */
export function detailOf(status: number, text: string): string {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return oneLine(text) || `HTTP ${status}`;
  }
  const b = body as { detail?: unknown; error?: unknown };
  let detail: string;
  if (typeof b.detail === "string") detail = b.detail;
  else if (Array.isArray(b.detail)) {
    detail = b.detail
      .map((e: { loc?: unknown[]; msg?: string }) => {
        const field = (e.loc ?? []).slice(1).join(".");
        const msg = e.msg ?? JSON.stringify(e);
        return field && !msg.startsWith(String(e.loc?.at(-1))) ? `${field}: ${msg}` : msg;
      })
      .join("; ");
  } else if (typeof b.error === "string") detail = b.error;
  else detail = JSON.stringify(body);
  if (status === 401) detail += "; check MINDROOM_API_KEY (it must equal the provisioner's PROVISIONER_API_KEY)";
  return oneLine(detail);
}

function reasonOf(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.message && !cause.message.includes(cause.code) ? `${cause.code} ${cause.message}` : (cause.message ?? cause.code);
  return cause?.message ?? (err as Error).message ?? String(err);
}

export class Client {
  constructor(
    readonly baseUrl: string,
    private readonly apiKey: string,
  ) {}

  url(path: string, query: RequestOptions["query"] = {}): string {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== "") params.set(k, String(v));
    const qs = params.toString();
    return `${this.baseUrl}${path}${qs ? `?${qs}` : ""}`;
  }

  /** The raw answer (for streams); throws ApiError on 4xx/5xx and Unreachable without an answer. */
  async fetch(method: string, path: string, opts: RequestOptions = {}): Promise<Response> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.apiKey}`, Accept: "application/json, text/plain" };
    if (opts.body !== undefined) headers["Content-Type"] = "application/json";
    if (opts.wait !== undefined) headers.Prefer = `wait=${opts.wait}`;
    const timeoutMs = opts.timeoutMs ?? 60_000;
    const signals = [opts.signal, timeoutMs > 0 ? AbortSignal.timeout(timeoutMs) : undefined].filter((s): s is AbortSignal => s !== undefined);
    let res: Response;
    try {
      res = await fetch(this.url(path, opts.query), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: signals.length ? AbortSignal.any(signals) : undefined,
        redirect: "manual",
      });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      const name = (err as Error).name;
      throw new Unreachable(this.baseUrl, name === "TimeoutError" ? `no answer within ${timeoutMs / 1000} s` : reasonOf(err));
    }
    if (res.status >= 400) throw new ApiError(res.status, detailOf(res.status, await res.text().catch(() => "")));
    return res;
  }

  /** The body as text; a connection cut mid-answer is an `Unreachable` naming that. */
  async text(res: Response): Promise<string> {
    try {
      return await res.text();
    } catch (err) {
      throw new Unreachable(this.baseUrl, `the answer was cut off (${reasonOf(err)})`);
    }
  }

  async request<T = Record<string, unknown>>(method: string, path: string, opts: RequestOptions = {}): Promise<Answer<T>> {
    const res = await this.fetch(method, path, opts);
    const text = await this.text(res);
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : {};
    } catch {
      // A non-JSON answer is handed over as text.
    }
    return { status: res.status, body: body as T, headers: res.headers };
  }

  get<T = Record<string, unknown>>(path: string, opts?: RequestOptions) {
    return this.request<T>("GET", path, opts);
  }

  post<T = Record<string, unknown>>(path: string, body?: unknown, opts: RequestOptions = {}) {
    return this.request<T>("POST", path, { ...opts, body });
  }
}
