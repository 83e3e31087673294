/**
 * A local HTTP server answering the requests supabase-js sends for the mirror the way Supabase's
 * gateway and PostgREST answer them, recording every request:
 * - a wrong `apikey` → 401 `Invalid API key` (the gateway, before PostgREST);
 * - a body key that is not a column → 400 PGRST204 (PostgREST's schema cache; `columns` can be
 *   shrunk to play a database whose migration has not run yet);
 * - PostgreSQL's type input and constraints: integer `instance_id` (22P02 for anything else),
 *   uuid `subscription_id`/`account_id`, INTEGER `openrouter_key_limit_usd`, timestamptz columns,
 *   the status CHECK (23514), NOT NULL `subscription_id` on insert (23502), UNIQUE subdomain (23505 → 409);
 * - `Prefer: return=minimal` (the default: 201/204 with an empty body) vs `return=representation`;
 * - `on_conflict=instance_id` + `resolution=merge-duplicates` updates only the columns sent; an
 *   array body (a bulk upsert, its `columns` listed) is all or nothing;
 * - reads capped at `maxRows` (Supabase's default 1000), `offset`/`limit`/`order`, `count=exact`.
 * Error bodies are PostgREST's `{code, details, hint, message}`.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

type Row = Record<string, unknown>;
interface PgError {
  status: number;
  code: string;
  message: string;
  details?: string | null;
  hint?: string | null;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGER_COLUMNS = new Set(["instance_id", "openrouter_key_limit_usd", "memory_limit_mb", "agent_count"]);
const UUID_COLUMNS = new Set(["id", "account_id", "subscription_id"]);
const TIME_COLUMNS = new Set(["openrouter_key_created_at", "kubernetes_synced_at", "deprovisioned_at", "created_at", "updated_at"]);
const STATUSES = new Set(["provisioning", "running", "stopped", "error", "deprovisioned", "restarting"]);

/** Every column of `instances` after the project migration (spec §10.1 + project columns). */
export const INSTANCE_COLUMNS = [
  "id", "account_id", "subscription_id", "instance_id", "subdomain", "name", "status", "tier",
  "instance_url", "frontend_url", "backend_url", "api_url", "matrix_url", "matrix_server_url",
  "openrouter_key_hash", "openrouter_key_label", "openrouter_key_limit_usd", "openrouter_key_limit_reset",
  "openrouter_key_created_at", "memory_limit_mb", "cpu_limit", "agent_count", "config",
  "kubernetes_synced_at", "deprovisioned_at", "created_at", "updated_at", "stack_name", "last_job_id", "last_error",
];

export class FakePostgrest {
  readonly requests: SeenRequest[] = [];
  readonly rows = new Map<string, Row>();
  readonly accounts = new Map<string, string>();
  /** Columns in PostgREST's schema cache; delete the project columns to play an unmigrated database. */
  readonly columns = new Set(INSTANCE_COLUMNS);
  /** The key the gateway accepts; any key when unset. */
  serviceKey?: string;
  /** PostgREST's `db-max-rows` (Supabase default 1000). */
  maxRows = 1000;
  /** HTTP status to answer everything with while set (e.g. 503 for "Supabase down"). */
  failWith?: number;
  private server?: Server;
  port = 0;

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  writes(): SeenRequest[] {
    return this.requests.filter((r) => r.method === "POST" || r.method === "PATCH");
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const url = new URL(req.url ?? "/", "http://x");
    const seen: SeenRequest = { method: req.method ?? "", path: url.pathname, query: url.searchParams, headers: req.headers, body: raw ? JSON.parse(raw) : undefined };
    this.requests.push(seen);
    const prefer = String(req.headers.prefer ?? "");
    const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    const fail = (e: PgError) => send(e.status, { code: e.code, details: e.details ?? null, hint: e.hint ?? null, message: e.message });
    if (this.failWith) return send(this.failWith, { message: "Service Unavailable" });
    if (this.serviceKey !== undefined && req.headers.apikey !== this.serviceKey) {
      return send(401, { message: "Invalid API key", hint: "Double check your Supabase `anon` or `service_role` API key." });
    }
    const represent = (rows: Row[]) => rows.map((r) => pick(r, url.searchParams.get("select")));
    try {
      if (url.pathname === "/rest/v1/instances" && req.method === "POST") {
        if (url.searchParams.get("on_conflict") !== "instance_id" || !prefer.includes("resolution=merge-duplicates")) {
          throw { status: 400, code: "PGRST100", message: "the mirror only upserts on instance_id" } satisfies PgError;
        }
        // A bulk upsert (an array) is one statement: every row lands, or none does. Its `columns`
        // are the ones set; a row that lacks one sets it to NULL.
        const bodies = Array.isArray(seen.body) ? (seen.body as Row[]) : [seen.body as Row];
        const columns = url.searchParams.get("columns")?.split(",").map((c) => c.replace(/"/g, ""));
        const staged = new Map(this.rows);
        const written: Row[] = [];
        for (const raw of bodies) {
          const body = this.typed(columns ? Object.fromEntries(columns.map((c) => [c, raw[c] ?? null])) : raw);
          const key = String(body.instance_id);
          const existing = staged.get(key);
          const row: Row = existing ? { ...existing, ...body } : { status: "provisioning", tier: "free", ...body };
          if (!existing && (row.subscription_id === undefined || row.subscription_id === null)) {
            throw { status: 400, code: "23502", message: 'null value in column "subscription_id" of relation "instances" violates not-null constraint' } satisfies PgError;
          }
          row.subdomain ??= key;
          this.constraints(row, key, staged);
          staged.set(key, row);
          written.push(row);
        }
        for (const row of written) this.rows.set(String(row.instance_id), row);
        return prefer.includes("return=representation") ? send(201, represent(written)) : send(201);
      }
      if (url.pathname === "/rest/v1/instances" && req.method === "PATCH") {
        const filter = this.filter(url.searchParams);
        const changes = this.typed(seen.body as Row);
        const hits = [...this.rows.entries()].filter(([, r]) => filter(r));
        const updated = hits.map(([key, r]) => {
          const row = { ...r, ...changes };
          this.constraints(row, key);
          return [key, row] as const;
        });
        for (const [key, row] of updated) this.rows.set(key, row);
        return prefer.includes("return=representation") ? send(200, represent(updated.map(([, r]) => r))) : send(204);
      }
      if (url.pathname === "/rest/v1/instances" && req.method === "GET") {
        const filter = this.filter(url.searchParams);
        let rows = [...this.rows.values()].filter(filter);
        const order = url.searchParams.get("order");
        if (order) {
          const [column, direction] = order.split(".");
          rows.sort((a, b) => Number(a[column]) - Number(b[column]) || String(a[column]).localeCompare(String(b[column])));
          if (direction === "desc") rows.reverse();
        }
        const total = rows.length;
        const offset = Number(url.searchParams.get("offset") ?? 0);
        const limit = Math.min(Number(url.searchParams.get("limit") ?? Infinity), this.maxRows);
        rows = rows.slice(offset, offset + limit);
        const range = rows.length ? `${offset}-${offset + rows.length - 1}` : "*";
        return send(200, represent(rows), { "content-range": `${range}/${prefer.includes("count=exact") ? total : "*"}` });
      }
      if (url.pathname === "/rest/v1/accounts" && req.method === "GET") {
        const id = url.searchParams.get("id")?.replace(/^eq\./, "") ?? "";
        if (!UUID.test(id)) throw invalidInput("uuid", id);
        const email = this.accounts.get(id);
        return send(200, email ? [{ email }] : []);
      }
      send(404, { code: "PGRST205", details: null, hint: null, message: `Could not find the table 'public${url.pathname.replace("/rest/v1/", ".")}' in the schema cache` });
    } catch (err) {
      if (err && typeof err === "object" && "status" in err) return fail(err as PgError);
      throw err;
    }
  }

  /** PostgREST's column check, then PostgreSQL's type input for every value. */
  private typed(body: Row): Row {
    const out: Row = {};
    for (const [column, value] of Object.entries(body)) {
      if (!this.columns.has(column)) {
        throw { status: 400, code: "PGRST204", message: `Could not find the '${column}' column of 'instances' in the schema cache` } satisfies PgError;
      }
      out[column] = value === null ? null : convert(column, value);
    }
    return out;
  }

  private constraints(row: Row, key: string, rows: Map<string, Row> = this.rows): void {
    if (row.status === null || row.status === undefined || !STATUSES.has(String(row.status))) {
      throw {
        status: 400,
        code: "23514",
        message: 'new row for relation "instances" violates check constraint "instances_status_check"',
        details: `Failing row contains (${String(row.status)}).`,
      } satisfies PgError;
    }
    for (const [other, r] of rows) {
      if (other !== key && r.subdomain === row.subdomain) {
        throw { status: 409, code: "23505", message: 'duplicate key value violates unique constraint "instances_subdomain_key"', details: `Key (subdomain)=(${String(row.subdomain)}) already exists.` } satisfies PgError;
      }
    }
  }

  private filter(params: URLSearchParams): (row: Row) => boolean {
    const tests: Array<(row: Row) => boolean> = [];
    for (const [column, expr] of params) {
      if (["select", "order", "offset", "limit", "on_conflict", "columns"].includes(column)) continue;
      if (expr.startsWith("in.(")) {
        // supabase-js `.in()`: `in.(a,b)`, values with PostgREST's reserved characters double-quoted.
        const wanted = new Set(expr.slice(4, -1).split(",").map((v) => String(convert(column, v.replace(/^"|"$/g, "")))));
        tests.push((row) => wanted.has(String(row[column])));
        continue;
      }
      const value = expr.replace(/^eq\./, "");
      const wanted = convert(column, value);
      tests.push((row) => String(row[column]) === String(wanted));
    }
    return (row) => tests.every((t) => t(row));
  }
}

function invalidInput(type: string, value: unknown): PgError {
  return { status: 400, code: "22P02", message: `invalid input syntax for type ${type}: "${String(value)}"` };
}

/** PostgreSQL's input functions as json_populate_record applies them. */
function convert(column: string, value: unknown): unknown {
  if (INTEGER_COLUMNS.has(column)) {
    const text = String(value);
    if (!/^\s*[-+]?\d+\s*$/.test(text)) throw invalidInput("integer", text);
    const n = Number(text);
    if (n > 2_147_483_647 || n < -2_147_483_648) throw { status: 400, code: "22003", message: `value "${text}" is out of range for type integer` } satisfies PgError;
    return n;
  }
  if (UUID_COLUMNS.has(column) && !UUID.test(String(value))) throw invalidInput("uuid", value);
  if (TIME_COLUMNS.has(column) && Number.isNaN(Date.parse(String(value)))) {
    throw { status: 400, code: "22007", message: `invalid input syntax for type timestamp with time zone: "${String(value)}"` } satisfies PgError;
  }
  return value;
}

function pick(row: Row, select: string | null): Row {
  if (!select || select === "*") return row;
  return Object.fromEntries(select.split(",").map((c) => [c, row[c.replace(/"/g, "")] ?? null]));
}
