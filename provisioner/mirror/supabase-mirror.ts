/**
 * `InstanceMirror` over supabase-js with the service key. Every write goes to the durable outbox
 * first and is delivered in the background: rows carrying `subscription_id` (a creation) as a
 * PostgREST upsert on `instance_id` (creations of one shape together as one bulk upsert); partial rows (status, URLs, job bookkeeping) as an update
 * filtered on `instance_id`, because PostgreSQL checks NOT NULL columns of the proposed insert
 * before ON CONFLICT, so a partial upsert fails even when the row exists (tested on a real PostgreSQL
 * in test/infra/supabase).
 *
 * Failures are sorted by what would fix them. Refusals of the deployment (network, 5xx, bad key
 * 401/403, missing table 404, read-only database 405, 406, 408, 429, and a schema cache without a
 * column the row names: PGRST204/42703, i.e. the migration has not run) keep the entry and retry
 * with capped, jittered exponential backoff: the same body succeeds once an operator fixes the
 * deployment. Refusals of the row itself (any other 4xx: type input 22P02, CHECK 23514, unique or
 * foreign key 409, ...) can never succeed and move the entry to `rejected.jsonl`; when the refused
 * body was several coalesced writes of one instance, they are retried one by one so that only the
 * bad write is set aside and the instance's other changes still land, in order.
 *
 * Reads merge still-pending writes so callers see their own writes, page through PostgREST's
 * max-rows cap (Supabase answers at most 1000 rows per request), and fail fast (no client retries;
 * upstream had none) so an HTTP caller gets its 500 instead of waiting.
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

/** 4xx answers about the deployment (key, URL, read-only mode, timeouts, rate limit), not the row. */
const DEPLOYMENT_STATUSES = new Set([401, 403, 404, 405, 406, 408, 429]);
/** PostgREST/PostgreSQL codes saying the database lacks a table or column: the migration has not run yet. */
const SCHEMA_BEHIND = new Set(["PGRST204", "42703", "PGRST205", "42P01"]);
/** Rows per read; PostgREST may cap it lower (`db-max-rows`), so reads page until they have `count`. */
const PAGE = 1000;
/** `instances.instance_id` is a PostgreSQL INTEGER. */
const MAX_INSTANCE_ID = 2_147_483_647;
/** The first outbox size that is logged as a backlog; each later warning comes at ten times the last. */
const FIRST_BACKLOG_WARNING = 100;

/** Whether a failed write can ever succeed unchanged (`retry`) or is refused for what it holds (`rejected`). */
export function classify(status: number, code: string | undefined): "retry" | "rejected" {
  if (status < 400 || status >= 500 || DEPLOYMENT_STATUSES.has(status)) return "retry";
  return code !== undefined && SCHEMA_BEHIND.has(code) ? "retry" : "rejected";
}

/**
 * Delay before retry `attempt` (0-based): base·2^attempt capped at `maxMs`, spread by ±25 % so many
 * provisioners do not retry in step, and never above `maxMs` (the cap is a promise to operators).
 */
export function retryDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const exponential = Math.min(maxMs, baseMs * 2 ** attempt);
  return Math.round(Math.min(maxMs, exponential * (0.75 + random() / 2)));
}

export class SupabaseMirror implements InstanceMirror {
  readonly enabled = true;
  private readonly client: SupabaseClient;
  private readonly outbox: Outbox;
  private draining = false;
  private drainScheduled = false;
  private again = false;
  private attempt = 0;
  private timer?: NodeJS.Timeout;
  private outage = false;
  private stopped = false;
  private backlogWarningAt = FIRST_BACKLOG_WARNING;

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
    await this.outbox.append(row);
    if (this.outbox.size >= this.backlogWarningAt) {
      // Nothing is dropped while Supabase is away (nothing may be lost), so growth is reported instead.
      this.s.logger.warn({ pending: this.outbox.size }, "instance mirror outbox holds this many writes waiting for Supabase");
      this.backlogWarningAt *= 10;
    }
    // During an outage the retry timer owns delivery; hammering a down Supabase per write helps nobody.
    if (!this.outage) this.drainSoon();
  }

  /**
   * Starts a delivery on the next turn of the event loop: the entries of one outbox group become
   * pending one microtask after another, and a delivery started by the first would send it alone.
   */
  private drainSoon(): void {
    if (this.drainScheduled) return;
    this.drainScheduled = true;
    setImmediate(() => {
      this.drainScheduled = false;
      void this.drain();
    });
  }

  async writeMany(rows: InstanceRow[]): Promise<void> {
    if (rows.length === 0) return;
    for (const row of rows) {
      if (row.instance_id === undefined || row.instance_id === null || String(row.instance_id) === "") throw new Error("instance mirror write needs an instance_id");
    }
    // Appended together: the outbox commits concurrent appends in one group, and the drain below
    // sends rows with the same changes as one request.
    await Promise.all(rows.map((row) => this.outbox.append(row)));
    if (!this.outage) this.drainSoon();
  }

  pending(): number {
    return this.outbox.size;
  }

  async get(instanceId: string): Promise<InstanceRow | null> {
    const pending = coalesce(this.outbox.list()).find((g) => String(g.row.instance_id) === String(instanceId))?.row;
    let row: InstanceRow | null = null;
    // PostgREST answers 400 for an id the INTEGER column cannot hold; no row can have it.
    if (/^\d+$/.test(instanceId) && Number(instanceId) <= MAX_INSTANCE_ID) {
      const { data, error } = await this.client.from("instances").select("*").eq("instance_id", instanceId).limit(1).retry(false);
      if (error) throw new Error(`Supabase read of instance ${instanceId} failed: ${oneLine(error.message)}`);
      row = (data?.[0] as InstanceRow | undefined) ?? null;
    }
    if (row) return pending ? { ...row, ...pending, instance_id: row.instance_id } : row;
    return pending?.subscription_id ? pending : null;
  }

  async list(): Promise<InstanceRow[]> {
    const fetched: InstanceRow[] = [];
    for (;;) {
      const { data, error, count } = await this.client
        .from("instances")
        .select("*", { count: "exact" })
        .order("instance_id")
        .range(fetched.length, fetched.length + PAGE - 1)
        .retry(false);
      if (error) throw new Error(`Supabase read of instances failed: ${oneLine(error.message)}`);
      const page = (data ?? []) as InstanceRow[];
      fetched.push(...page);
      if (page.length === 0 || (count !== null && fetched.length >= count)) break;
    }
    const pending = new Map(coalesce(this.outbox.list()).map((g) => [String(g.row.instance_id), g.row]));
    const rows = fetched.map((row) => {
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

  /** Resolves once the outbox is empty and its delivered files are deleted (or rejects after `timeoutMs`). */
  async drained(timeoutMs = 10_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.outbox.size > 0) {
      if (Date.now() > until) throw new Error(`instance mirror outbox still holds ${this.outbox.size} writes`);
      await new Promise((r) => setTimeout(r, 20));
    }
    await this.outbox.settled();
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
        for (const batch of batches(coalesce(this.outbox.list()))) {
          if (batch.length > 1) {
            const outcome = await this.deliverBatch(batch);
            if (outcome.kind === "retry") return this.scheduleRetry(outcome.reason);
            if (outcome.kind === "delivered") {
              this.outbox.remove(batch.flatMap((g) => g.seqs));
              continue;
            }
            // A refused batch (or rows it did not find) goes the single-row way, so each gets its own verdict.
          }
          for (const group of batch) {
            const outcome = await this.deliver(group.row);
            if (outcome.kind === "retry") return this.scheduleRetry(outcome.reason);
            if (outcome.kind === "delivered") this.outbox.remove(group.seqs);
            else if (group.seqs.length === 1) this.reject(group.seqs, group.row, outcome.reason);
            else if (!(await this.deliverOneByOne(group.seqs))) return;
          }
        }
      } while (this.again);
      if (this.outage) this.s.logger.info("Supabase reachable again; instance mirror outbox delivered");
      this.outage = false;
      this.attempt = 0;
      if (this.outbox.size === 0) this.backlogWarningAt = FIRST_BACKLOG_WARNING;
    } finally {
      this.draining = false;
    }
  }

  /**
   * A coalesced body was refused: deliver its writes one at a time, in order, so only the write that
   * carries the bad value is set aside. False when the deployment failed meanwhile (retry scheduled).
   */
  private async deliverOneByOne(seqs: number[]): Promise<boolean> {
    const wanted = new Set(seqs);
    for (const entry of this.outbox.list().filter((e) => wanted.has(e.seq))) {
      const outcome = await this.deliver(entry.row);
      if (outcome.kind === "retry") {
        this.scheduleRetry(outcome.reason);
        return false;
      }
      if (outcome.kind === "delivered") this.outbox.remove([entry.seq]);
      else this.reject([entry.seq], entry.row, outcome.reason);
    }
    return true;
  }

  private reject(seqs: number[], row: InstanceRow, reason: string): void {
    this.outbox.reject(seqs, row, reason);
    this.s.logger.warn({ instanceId: String(row.instance_id), reason }, "Supabase rejected an instance mirror write; kept in rejected.jsonl");
  }

  private scheduleRetry(reason: string): void {
    if (!this.outage) {
      this.s.logger.warn({ reason, pending: this.outbox.size }, "Supabase unavailable; instance mirror writes wait in the outbox");
    }
    this.outage = true;
    const delay = retryDelay(this.attempt, this.s.retryBaseMs, this.s.retryMaxMs);
    this.attempt = Math.min(this.attempt + 1, 64);
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), delay);
    this.timer.unref();
  }

  /**
   * Several rows in one request. Creations with the same columns (a burst of provisions, sync's
   * re-inserted rows) as one bulk upsert: one statement, so all land or none. Partial rows with the
   * same changes (sync's corrections: one status, one timestamp) as one `UPDATE … WHERE instance_id
   * IN (…)`, delivered only when every row was found. A refusal sends the caller one by one (an
   * upsert or update of the same values twice is harmless), so only the bad row is set aside.
   */
  private async deliverBatch(batch: Array<{ row: InstanceRow }>): Promise<Outcome> {
    if (batch[0].row.subscription_id) {
      const result = await this.client.from("instances").upsert(batch.map((g) => g.row), { onConflict: "instance_id" });
      return result.error ? this.failed(result) : { kind: "delivered" };
    }
    const ids = batch.map((g) => String(g.row.instance_id));
    const { instance_id: _id, ...changes } = batch[0].row;
    const result = await this.client.from("instances").update(changes).in("instance_id", ids).select("instance_id");
    if (!result.error) {
      const found = new Set((Array.isArray(result.data) ? result.data : []).map((r: { instance_id: unknown }) => String(r.instance_id)));
      return ids.every((id) => found.has(id)) ? { kind: "delivered" } : { kind: "rejected", reason: "some rows were not found" };
    }
    return this.failed(result);
  }

  /** What a refused request means for its writes (see `classify`). */
  private failed(result: { status: number; error: { code?: unknown; message: string } }): Outcome {
    const code = typeof result.error.code === "string" && result.error.code ? result.error.code : undefined;
    let reason = `HTTP ${result.status || "unreachable"}${code ? ` ${code}` : ""}: ${oneLine(result.error.message)}`;
    if (code && SCHEMA_BEHIND.has(code)) reason += " (apply infra/supabase/migrations, then reload PostgREST's schema cache)";
    return classify(result.status, code) === "retry" ? { kind: "retry", reason } : { kind: "rejected", reason };
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
    return this.failed(result);
  }
}

/**
 * Coalesced rows in delivery order, grouped into runs of at most 500 (to keep a request, and the
 * URL's `in.(…)` list, short): creations that name the same columns (a bulk upsert lists its
 * columns once and sets a column a row lacks to NULL, so only rows of one shape may share one),
 * and partial rows with identical changes.
 */
function batches<G extends { row: InstanceRow }>(groups: G[]): G[][] {
  const out: G[][] = [];
  const keyOf = (row: InstanceRow) => {
    if (row.subscription_id) return `creation:${Object.keys(row).sort().join(",")}`;
    const { instance_id: _id, ...changes } = row;
    return `changes:${JSON.stringify(changes)}`;
  };
  for (const group of groups) {
    const last = out[out.length - 1];
    const key = keyOf(group.row);
    if (last && last.length < 500 && keyOf(last[0].row) === key) last.push(group);
    else out.push([group]);
  }
  return out;
}

function oneLine(text: string): string {
  return text.split("\n")[0].slice(0, 200);
}
