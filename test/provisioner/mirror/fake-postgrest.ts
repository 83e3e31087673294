/** A local HTTP server speaking just enough PostgREST for the mirror, recording every request. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface SeenRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage["headers"];
  body: unknown;
}

export class FakePostgrest {
  readonly requests: SeenRequest[] = [];
  readonly rows = new Map<string, Record<string, unknown>>();
  readonly accounts = new Map<string, string>();
  /** HTTP status to answer everything with while set (e.g. 503 for "Supabase down"). */
  failWith?: number;
  /** Instance ids whose writes are answered 400 (a row PostgreSQL refuses). */
  readonly invalid = new Set<string>();
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
    const send = (status: number, body?: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(body === undefined ? "" : JSON.stringify(body));
    };
    if (this.failWith) return send(this.failWith, { message: "Service Unavailable" });
    const eq = (name: string) => url.searchParams.get(name)?.replace(/^eq\./, "");
    if (url.pathname === "/rest/v1/instances" && req.method === "POST") {
      const row = seen.body as Record<string, unknown>;
      const id = String(row.instance_id);
      if (this.invalid.has(id)) return send(400, { code: "22P02", message: "invalid input syntax for type uuid" });
      this.rows.set(id, { ...this.rows.get(id), ...row });
      return send(201);
    }
    if (url.pathname === "/rest/v1/instances" && req.method === "PATCH") {
      const id = eq("instance_id")!;
      if (this.invalid.has(id)) return send(400, { code: "23514", message: 'new row violates check constraint "instances_status_check"' });
      const row = this.rows.get(id);
      if (!row) return send(200, []);
      this.rows.set(id, { ...row, ...(seen.body as object) });
      return send(200, [{ instance_id: Number(id) }]);
    }
    if (url.pathname === "/rest/v1/instances" && req.method === "GET") {
      const id = eq("instance_id");
      const rows = [...this.rows.values()].filter((r) => id === undefined || String(r.instance_id) === id);
      return send(200, rows);
    }
    if (url.pathname === "/rest/v1/accounts" && req.method === "GET") {
      const email = this.accounts.get(eq("id")!);
      return send(200, email ? [{ email }] : []);
    }
    send(404, { message: "unknown route" });
  }
}
