/**
 * PostgREST in front of a real PostgreSQL, for the requests the instance mirror sends: each HTTP
 * request becomes the statement PostgREST would run (`json_populate_record(set)` over the body,
 * `INSERT ... ON CONFLICT (instance_id) DO UPDATE SET <sent columns> = EXCLUDED...`, `UPDATE ...
 * WHERE instance_id = '<filter value>'`, paged `SELECT`), inside a transaction as `service_role`
 * the way Supabase runs service-key requests, and PostgreSQL errors come back with PostgREST's
 * status mapping and `{code, details, hint, message}` body. So the row shapes, types, constraints,
 * grants and triggers under test are the database's own, not a fake's opinion of them.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { PgCluster } from "../../support/postgres";

export interface PgRestOptions {
  database: string;
  /** The only key the gateway accepts. */
  serviceKey: string;
  /** PostgREST `db-max-rows` (Supabase default 1000). */
  maxRows?: number;
}

interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

const TABLES = new Set(["instances", "accounts"]);
const NOT_FILTERS = new Set(["select", "order", "offset", "limit", "on_conflict", "columns"]);

export class PgRest {
  private server?: Server;
  private readonly scratch = mkdtempSync(join(tmpdir(), "pgrest-"));
  private n = 0;
  port = 0;
  /** HTTP status to answer everything with while set (503: Supabase down). */
  failWith?: number;

  constructor(
    private readonly pg: PgCluster,
    private readonly o: PgRestOptions,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (server) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
    rmSync(this.scratch, { recursive: true, force: true });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    let answer: Answer;
    try {
      answer = await this.answer(req, raw);
    } catch (err) {
      answer = { status: 500, body: { code: "TEST", details: null, hint: null, message: (err as Error).message } };
    }
    res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  }

  private async answer(req: IncomingMessage, raw: string): Promise<Answer> {
    if (this.failWith) return { status: this.failWith, body: { message: "Service Unavailable" } };
    if (req.headers.apikey !== this.o.serviceKey) {
      return { status: 401, body: { message: "Invalid API key", hint: "Double check your Supabase `anon` or `service_role` API key." } };
    }
    const url = new URL(req.url ?? "/", "http://x");
    const table = url.pathname.replace(/^\/rest\/v1\//, "");
    if (!TABLES.has(table)) return { status: 404, body: { code: "PGRST205", details: null, hint: null, message: `Could not find the table 'public.${table}' in the schema cache` } };
    const prefer = String(req.headers.prefer ?? "");
    const where = [...url.searchParams]
      .filter(([k]) => !NOT_FILTERS.has(k))
      .map(([k, v]) => {
        if (v.startsWith("in.(") && v.endsWith(")")) {
          const values = v.slice(4, -1).split(",").map((x) => literal(x.replace(/^"|"$/g, "")));
          return `public.${ident(table)}.${ident(k)} IN (${values.join(", ")})`;
        }
        if (!v.startsWith("eq.")) throw new Error(`filter ${k}=${v}: only eq. and in. are emulated`);
        return `public.${ident(table)}.${ident(k)} = ${literal(v.slice(3))}`;
      });
    const whereSql = where.length ? `WHERE ${where.join(" AND ")}` : "";
    const select = url.searchParams.get("select") ?? "*";
    const projection = select === "*" ? "pgrst_source.*" : select.split(",").map((c) => `pgrst_source.${ident(c.replace(/"/g, ""))}`).join(", ");
    const represent = prefer.includes("return=representation");

    if (req.method === "GET") {
      const order = url.searchParams.get("order");
      const orderSql = order ? `ORDER BY ${order.split(",").map((o) => { const [c, d] = o.split("."); return `${ident(c)} ${d === "desc" ? "DESC" : "ASC"}`; }).join(", ")}` : "";
      const limit = Math.min(Number(url.searchParams.get("limit") ?? Infinity), this.o.maxRows ?? 1000);
      const offset = Number(url.searchParams.get("offset") ?? 0);
      const sql = `SELECT json_build_object('rows', coalesce((SELECT json_agg(t) FROM (SELECT ${projection} FROM public.${ident(table)} pgrst_source ${whereSql.replaceAll(`public.${ident(table)}.`, "pgrst_source.")} ${orderSql} LIMIT ${limit} OFFSET ${offset}) t), '[]'), 'count', (SELECT count(*) FROM public.${ident(table)} ${whereSql}))`;
      const out = await this.run(sql);
      if ("error" in out) return out.error;
      const { rows, count } = JSON.parse(out.stdout) as { rows: unknown[]; count: number };
      const range = rows.length ? `${offset}-${offset + rows.length - 1}` : "*";
      return { status: 200, body: rows, headers: { "content-range": `${range}/${prefer.includes("count=exact") ? count : "*"}` } };
    }

    const body = JSON.parse(raw) as Record<string, unknown> | Array<Record<string, unknown>>;
    // A bulk insert (an array) names its columns in `columns`, as supabase-js sends it.
    const listed = url.searchParams.get("columns")?.split(",").map((c) => c.replace(/"/g, ""));
    const columns = Array.isArray(body) ? (listed ?? Object.keys(body[0] ?? {})) : Object.keys(body);
    const payload = dollarQuote(JSON.stringify(body));
    let statement: string;
    if (req.method === "POST") {
      const conflict = url.searchParams.get("on_conflict");
      const cols = columns.map(ident).join(", ");
      const onConflict = conflict
        ? prefer.includes("resolution=merge-duplicates")
          ? `ON CONFLICT (${ident(conflict)}) DO UPDATE SET ${columns.map((c) => `${ident(c)} = EXCLUDED.${ident(c)}`).join(", ")}`
          : `ON CONFLICT (${ident(conflict)}) DO NOTHING`
        : "";
      statement = `INSERT INTO public.${ident(table)} (${cols}) SELECT ${columns.map((c) => `pgrst_body.${ident(c)}`).join(", ")} FROM json_populate_recordset(NULL::public.${ident(table)}, ${Array.isArray(body) ? `${payload}::json` : `json_build_array(${payload}::json)`}) pgrst_body ${onConflict} RETURNING public.${ident(table)}.*`;
    } else if (req.method === "PATCH") {
      statement = `UPDATE public.${ident(table)} SET ${columns.map((c) => `${ident(c)} = pgrst_body.${ident(c)}`).join(", ")} FROM json_populate_record(NULL::public.${ident(table)}, ${payload}::json) pgrst_body ${whereSql} RETURNING public.${ident(table)}.*`;
    } else {
      return { status: 405, body: { code: "PGRST117", details: null, hint: null, message: `Unsupported HTTP method: ${req.method}` } };
    }
    const out = await this.run(`WITH pgrst_source AS (${statement}) SELECT coalesce(json_agg(json_build_object(${projectionPairs(select, columns)})), '[]') FROM pgrst_source`);
    if ("error" in out) return out.error;
    const status = req.method === "POST" ? 201 : represent ? 200 : 204;
    return { status, body: represent ? JSON.parse(out.stdout) : undefined };
  }

  /** One transaction as `service_role` (Supabase's service key), verbose errors for the SQLSTATE. */
  private async run(sql: string): Promise<{ stdout: string } | { error: Answer }> {
    const file = join(this.scratch, `${++this.n}.sql`);
    writeFileSync(
      file,
      `\\set VERBOSITY verbose\nBEGIN;\nSET LOCAL ROLE service_role;\nSET LOCAL "request.jwt.claims" = '{"role":"service_role"}';\n${sql};\nCOMMIT;\n`,
    );
    try {
      return { stdout: (await this.pg.psqlFile(file, this.o.database)).trim() };
    } catch (err) {
      return { error: postgrestError((err as Error).message) };
    }
  }
}

function projectionPairs(select: string, columns: string[]): string {
  const wanted = select === "*" ? ["instance_id", ...columns] : select.split(",").map((c) => c.replace(/"/g, ""));
  return [...new Set(wanted)].map((c) => `${literal(c)}, pgrst_source.${ident(c)}`).join(", ");
}

/** PostgREST's SQLSTATE → HTTP status table (docs.postgrest.org, Errors); the service role is authenticated. */
export function httpStatus(code: string): number {
  if (code === "23503" || code === "23505") return 409;
  if (code === "25006") return 405;
  if (code === "42501") return 403;
  if (code === "42883" || code === "42P01") return 404;
  if (code === "53400" || code === "42P17") return 500;
  if (code === "P0001") return 400;
  const prefix = code.slice(0, 2);
  if (prefix === "08" || prefix === "53") return 503;
  if (["0L", "0P", "28"].includes(prefix)) return 403;
  if (["09", "25", "2D", "38", "39", "3B", "40", "54", "55", "57", "58", "F0", "HV", "P0", "XX"].includes(prefix)) return 500;
  return 400;
}

function postgrestError(stderr: string): Answer {
  const error = /ERROR:\s+([0-9A-Z]{5}): (.*)/.exec(stderr);
  if (!error) return { status: 500, body: { code: "TEST", details: null, hint: null, message: stderr } };
  const [, code, message] = error;
  const details = /DETAIL:\s+(.*)/.exec(stderr)?.[1] ?? null;
  const hint = /HINT:\s+(.*)/.exec(stderr)?.[1] ?? null;
  // PostgREST checks body keys against its schema cache before PostgreSQL sees them.
  const column = code === "42703" ? /column (?:[a-z_]+\.)?"?([a-z_]+)"?/.exec(message)?.[1] : undefined;
  if (column) {
    return { status: 400, body: { code: "PGRST204", details: null, hint: null, message: `Could not find the '${column}' column of 'instances' in the schema cache` } };
  }
  return { status: httpStatus(code), body: { code, details, hint, message } };
}

function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

function dollarQuote(text: string): string {
  let tag = "pgrst";
  while (text.includes(`$${tag}$`)) tag += "x";
  return `$${tag}$${text}$${tag}$`;
}
