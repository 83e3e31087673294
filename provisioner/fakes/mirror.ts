/** In-memory `InstanceMirror`: rows keyed by instance id (string form), every write recorded. */
import type { InstanceMirror, InstanceRow } from "../ports";

export class FakeInstanceMirror implements InstanceMirror {
  readonly rows = new Map<string, InstanceRow>();
  readonly writes: InstanceRow[] = [];
  readonly accounts = new Map<string, string>();
  /** Error thrown by reads (`get`, `list`, `accountEmail`): Supabase unreachable. */
  readError?: Error;
  /** Error thrown by `write` (outbox not writable). */
  writeError?: Error;

  constructor(readonly enabled = true) {}

  /** Every `writeMany` batch, for "one durable write" assertions. */
  readonly batches: InstanceRow[][] = [];

  async writeMany(rows: InstanceRow[]): Promise<void> {
    if (rows.length === 0) return;
    this.batches.push(rows);
    for (const row of rows) await this.write(row);
  }

  async write(row: InstanceRow): Promise<void> {
    if (this.writeError) throw this.writeError;
    this.writes.push({ ...row });
    const key = String(row.instance_id);
    this.rows.set(key, { ...this.rows.get(key), ...row });
  }

  async get(instanceId: string): Promise<InstanceRow | null> {
    if (this.readError) throw this.readError;
    const row = this.rows.get(instanceId);
    return row ? { ...row } : null;
  }

  async list(): Promise<InstanceRow[]> {
    if (this.readError) throw this.readError;
    return [...this.rows.values()].map((r) => ({ ...r }));
  }

  async accountEmail(accountId: string): Promise<string | null> {
    if (this.readError) throw this.readError;
    return this.accounts.get(accountId) ?? null;
  }

  pending(): number {
    return 0;
  }

  /** Status history of one instance, in write order. */
  statuses(instanceId: string): string[] {
    return this.writes.filter((w) => String(w.instance_id) === instanceId && w.status).map((w) => w.status!);
  }
}
