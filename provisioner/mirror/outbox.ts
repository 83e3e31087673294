/**
 * A durable, ordered outbox on the local disk: one JSON file per entry, named by a monotonically
 * increasing sequence number, written to a temp name, fsynced, then renamed (so a crash never leaves
 * a half-written entry under an entry's name; its temp file is removed at the next start), and
 * deleted once delivered. Appends run off the event loop and share their directory fsyncs with
 * concurrent appends (atomic-file.ts `writeJsonDurable`); an entry becomes pending (listed,
 * delivered) only once it and every older entry were written, so entries are delivered in order. An entry file that cannot be read is renamed `*.corrupt` and logged.
 * Entries that Supabase rejects for good are appended to `rejected.jsonl` for an operator instead
 * of blocking the queue.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type pino from "pino";
import { writeJsonDurable } from "../atomic-file";
import type { InstanceRow } from "../ports";

export interface OutboxEntry {
  seq: number;
  at: string;
  row: InstanceRow;
}

const ENTRY = /^(\d{16})\.json$/;
/** An atomic write's temp file (`<entry>.<pid>.<n>.tmp`; earlier versions: `<entry>.<pid>.tmp`): a crash between its write and its rename leaves one behind. */
const TEMP = /^\d{16}\.json\.\d+(?:\.\d+)?\.tmp$/;

export class Outbox {
  private readonly entries: OutboxEntry[] = [];
  private nextSeq = 1;
  /** Settles once every append so far was written (or failed) and the written ones are pending. */
  private appended: Promise<void> = Promise.resolve();
  /** The deletions of delivered entries' files, in order (see `remove`). */
  private removals: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    private readonly logger: pino.Logger,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(dir).sort()) {
      // The write it belonged to never resolved, so nobody was told it was queued.
      if (TEMP.test(name)) {
        unlinkSync(join(dir, name));
        continue;
      }
      const match = ENTRY.exec(name);
      if (!match) continue;
      const path = join(dir, name);
      try {
        const entry = JSON.parse(readFileSync(path, "utf8")) as OutboxEntry;
        if (entry.seq !== Number(match[1]) || entry.row?.instance_id === undefined) throw new Error("malformed entry");
        this.entries.push(entry);
      } catch {
        renameSync(path, `${path}.corrupt`);
        logger.error({ file: `${name}.corrupt` }, "unreadable mirror outbox entry set aside");
      }
      this.nextSeq = Math.max(this.nextSeq, Number(match[1]) + 1);
    }
  }

  get size(): number {
    return this.entries.length;
  }

  /** Pending entries, oldest first (a copy). */
  list(): OutboxEntry[] {
    return [...this.entries];
  }

  /**
   * Queues a write: resolves once its entry is on disk (directory entry included) and pending.
   * Rejects when the write failed; the entry is then not queued (its file removed, so no later boot
   * delivers a write whose caller was told it failed).
   */
  append(row: InstanceRow): Promise<void> {
    const entry: OutboxEntry = { seq: this.nextSeq++, at: new Date().toISOString(), row };
    const file = this.file(entry.seq);
    const written = writeJsonDurable(file, entry, "entry").catch(async (err: unknown) => {
      await unlink(file).catch(() => undefined);
      throw err;
    });
    written.catch(() => undefined); // handled below, once the older appends are pending
    const pending = this.appended.then(() => written).then(() => void this.entries.push(entry));
    this.appended = pending.catch(() => undefined);
    return pending;
  }

  /**
   * Forgets delivered entries at once and deletes their files behind, off the event loop, one after
   * another in the order of the calls: after a crash, the files left over are the last delivered
   * entries (delivered again, in order, at the next start: the row ends the same) and the
   * undelivered ones.
   */
  remove(seqs: number[]): void {
    const gone = new Set(seqs);
    const kept = this.entries.filter((e) => !gone.has(e.seq));
    this.entries.splice(0, this.entries.length, ...kept);
    const files = seqs.map((seq) => this.file(seq));
    this.removals = this.removals.then(async () => {
      for (const file of files) {
        await unlink(file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") this.logger.warn({ file, err: err.message }, "cannot delete a delivered mirror outbox entry; it is delivered again after a restart");
        });
      }
    });
  }

  /** Resolves once every append and deletion so far reached the disk (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([this.appended, this.removals]);
  }

  private file(seq: number): string {
    return join(this.dir, `${String(seq).padStart(16, "0")}.json`);
  }

  /** Moves entries Supabase will never accept to `rejected.jsonl` (kept for operators), then removes them. */
  reject(seqs: number[], row: InstanceRow, reason: string): void {
    appendFileSync(join(this.dir, "rejected.jsonl"), JSON.stringify({ at: new Date().toISOString(), seqs, row, reason }) + "\n", { mode: 0o600 });
    this.remove(seqs);
  }
}

/** Pending writes per instance, merged in order (later values win), instances in order of their first write. */
export function coalesce(entries: OutboxEntry[]): Array<{ row: InstanceRow; seqs: number[] }> {
  const groups = new Map<string, { row: InstanceRow; seqs: number[] }>();
  for (const entry of entries) {
    const key = String(entry.row.instance_id);
    const group = groups.get(key) ?? { row: { instance_id: entry.row.instance_id }, seqs: [] };
    group.row = { ...group.row, ...entry.row };
    group.seqs.push(entry.seq);
    groups.set(key, group);
  }
  return [...groups.values()];
}
