/**
 * `InstanceMirror` over supabase-js with the service key. Every write goes to the durable outbox
 * first and is delivered in the background: rows carrying `subscription_id` (a creation) as a
 * PostgREST upsert on `instance_id`; partial rows (status, URLs, job bookkeeping) as an update
 * filtered on `instance_id`, because PostgreSQL checks NOT NULL columns of the proposed insert
 * before ON CONFLICT, so a partial upsert fails even when the row exists (tested on a real PostgreSQL
 * in test/infra/supabase). Transient failures (network, 5xx, 401/403/404/408/429) keep the entry and
 * retry with exponential backoff; only 400/409/422 (the row itself is invalid) move it to
 * `rejected.jsonl`. Reads merge still-pending writes so callers see their own writes, and fail fast
 * (no client retries; upstream had none) so an HTTP caller gets its 500 instead of waiting.
 */
import { createClient, type SupabaseClient } from "@supabase/supabase-js";
import type pino from "pino";
import type { InstanceMirror, InstanceRow } from "../ports";
import { coalesce, Outbox } from "./outbox";

export interface SupabaseMirrorSettings {
  supabaseUrl: string;
  serviceKey: string;
  outboxDir: string;
  logger: pino.Logger;
  /** First retry delay; doubles per failed attempt up to `retryMaxMs`. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** Per-request timeout: a hung Supabase must not stall the outbox forever. */
  requestTimeoutMs: number;
}

type Outcome = { kind: "delivered" } | { kind: "rejected"; reason: string } | { kind: "retry"; reason: string };

/** supabase-js builds a realtime client eagerly and Node 20 has no WebSocket; the mirror never subscribes. */
class NoRealtime {
  constructor() {
    throw new Error("the instance mirror does not use Supabase realtime");
  }
}

const PERMANENT = new Set([400, 409, 422]);

export class SupabaseMirror implements InstanceMirror {
  readonly enabled = true;
  private readonly client: SupabaseClient;
  private readonly outbox: Outbox;
  private draining = false;
  private again = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private outage = false;
  private stopped = false;

  constructor(private readonly s: SupabaseMirrorSettings) {
    const timeout = s.requestTimeoutMs;
    this.client = createClient(s.supabaseUrl, s.serviceKey, {
      auth: { persistSession: false, autoRefreshToken: false, detectSessionInUrl: false },
      realtime: { transport: NoRealtime as unknown as never },
      global: { fetch: (input, init) => fetch(input, { ...init, signal: init?.signal ?? AbortSignal.timeout(timeout) }) },
    });
    this.outbox = new Outbox(s.outboxDir, s.logger);
    if (this.outbox.size > 0) {
      s.logger.info({ pending: this.outbox.size }, "delivering instance mirror writes queued before the restart");
      void this.drain();
    }
  }

  async write(row: InstanceRow): Promise<void> {
    if (row.instance_id === undefined || row.instance_id === null || String(row.instance_id) === "") {
      throw new Error("instance mirror write needs an instance_id");
    }
    this.outbox.append(row);
    // During an outage the retry timer owns delivery; hammering a down Supabase per write helps nobody.
    if (!this.outage) void this.drain();
  }

  pending(): number {
    return this.outbox.size;
  }

  async get(instanceId: string): Promise<InstanceRow | null> {
    const { data, error } = await this.client.from("instances").select("*").eq("instance_id", instanceId).limit(1).retry(false);
    if (error) throw new Error(`Supabase read of instance ${instanceId} failed: ${oneLine(error.message)}`);
    const pending = coalesce(this.outbox.list()).find((g) => String(g.row.instance_id) === String(instanceId))?.row;
    const row = (data?.[0] as InstanceRow | undefined) ?? null;
    if (row) return pending ? { ...row, ...pending, instance_id: row.instance_id } : row;
    return pending?.subscription_id ? pending : null;
  }

  async list(): Promise<InstanceRow[]> {
    const { data, error } = await this.client.from("instances").select("*").retry(false);
    if (error) throw new Error(`Supabase read of instances failed: ${oneLine(error.message)}`);
    const pending = new Map(coalesce(this.outbox.list()).map((g) => [String(g.row.instance_id), g.row]));
    const rows = ((data ?? []) as InstanceRow[]).map((row) => {
      const key = String(row.instance_id);
      const p = pending.get(key);
      pending.delete(key);
      return p ? { ...row, ...p, instance_id: row.instance_id } : row;
    });
    // A creation not delivered yet is a tenant too (as in `get`): the boot listing feeds id
    // allocation, and leaving it out could hand its id out again.
    return [...rows, ...[...pending.values()].filter((p) => p.subscription_id)];
  }

  async accountEmail(accountId: string): Promise<string | null> {
    const { data, error } = await this.client.from("accounts").select("email").eq("id", accountId).limit(1).retry(false);
    if (error) throw new Error(`Supabase read of account failed: ${oneLine(error.message)}`);
    const email = (data?.[0] as { email?: unknown } | undefined)?.email;
    return typeof email === "string" ? email : null;
  }

  /** Stops retry timers (tests, shutdown); queued writes stay on disk for the next start. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  /** Resolves once the outbox is empty (or rejects after `timeoutMs`). */
  async drained(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.outbox.size > 0) {
      if (Date.now() > until) throw new Error(`instance mirror outbox still holds ${this.outbox.size} writes`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private async drain(): Promise<void> {
    if (this.stopped) return;
    if (this.draining) {
      this.again = true;
      return;
    }
    this.draining = true;
    try {
      do {
        this.again = false;
        for (const group of coalesce(this.outbox.list())) {
          const outcome = await this.deliver(group.row);
          if (outcome.kind === "retry") {
            this.scheduleRetry(outcome.reason);
            return;
          }
          if (outcome.kind === "rejected") {
            this.outbox.reject(group.seqs, group.row, outcome.reason);
            this.s.logger.warn(
              { instanceId: String(group.row.instance_id), reason: outcome.reason },
              "Supabase rejected an instance mirror write; kept in rejected.jsonl",
            );
          } else {
            this.outbox.remove(group.seqs);
          }
        }
      } while (this.again);
      if (this.outage) this.s.logger.info("Supabase reachable again; instance mirror outbox delivered");
      this.outage = false;
      this.attempt = 0;
    } finally {
      this.draining = false;
    }
  }

  private scheduleRetry(reason: string): void {
    if (!this.outage) {
      this.s.logger.warn({ reason, pending: this.outbox.size }, "Supabase unavailable; instance mirror writes wait in the outbox");
    }
    this.outage = true;
    const delay = Math.min(this.s.retryMaxMs, this.s.retryBaseMs * 2 ** this.attempt++);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), delay * (0.75 + Math.random() / 2));
    this.timer.unref();
  }

  private async deliver(row: InstanceRow): Promise<Outcome> {
    const id = String(row.instance_id);
    const { instance_id: _id, ...changes } = row;
    const result = row.subscription_id
      ? await this.client.from("instances").upsert(row, { onConflict: "instance_id" })
      : await this.client.from("instances").update(changes).eq("instance_id", id).select("instance_id");
    if (!result.error) {
      if (!row.subscription_id && Array.isArray(result.data) && result.data.length === 0) {
        return { kind: "rejected", reason: `no instances row with instance_id ${id}` };
      }
      return { kind: "delivered" };
    }
    const reason = `HTTP ${result.status || "unreachable"}: ${oneLine(result.error.message)}`;
    return PERMANENT.has(result.status) ? { kind: "rejected", reason } : { kind: "retry", reason };
  }
}

function oneLine(text: string): string {
  return text.split("\n")[0].slice(0, 200);
}
