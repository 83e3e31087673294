/**
 * A durable, ordered outbox on the local disk. Entries carry a monotonically increasing sequence
 * number and are written in groups (atomic-file.ts GroupCommit): the entries appended while the
 * previous group was being committed go together into one file named after the group's first
 * entry, `<seq>.json`, one entry per line (a group of one is the single-entry file of earlier
 * versions), written to a temp name, fsynced and renamed, with a directory fsync: a crash never
 * leaves a half-written group under a group's name, and its temp file is removed at the next start.
 * An entry becomes pending (listed, delivered) once it and every older entry were written, so
 * entries are delivered in order. A file is deleted once every entry in it was delivered (or
 * rejected) and every older file is gone, so the files a crash leaves behind are the newest ones:
 * delivering them again, in order, leaves each row as it was. A file that cannot be read is renamed
 * `*.corrupt` and logged. Entries that Supabase rejects for good are appended to `rejected.jsonl`
 * for an operator instead of blocking the queue.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { unlink } from "node:fs/promises";
import { join } from "node:path";
import type pino from "pino";
import { GroupCommit } from "../atomic-file";
import type { InstanceRow } from "../ports";

export interface OutboxEntry {
  seq: number;
  at: string;
  row: InstanceRow;
}

const ENTRY = /^(\d{16})\.json$/;
/** An atomic write's temp file (`<file>.<pid>.<n>.tmp`; earlier versions: `<file>.<pid>.tmp`): a crash between its write and its rename leaves one behind. */
const TEMP = /^\d{16}\.json\.\d+(?:\.\d+)?\.tmp$/;

const fileName = (seq: number) => `${String(seq).padStart(16, "0")}.json`;

/** A file of entries and how many of them are not delivered yet. */
interface EntryFile {
  name: string;
  pending: number;
}

export class Outbox {
  private readonly entries: OutboxEntry[] = [];
  private nextSeq = 1;
  /** Files on disk, oldest first. */
  private readonly files: EntryFile[] = [];
  private readonly fileOf = new Map<number, EntryFile>();
  private readonly group: GroupCommit<number>;
  /** Settles once every append so far was written (or failed) and the written ones are pending. */
  private appended: Promise<void> = Promise.resolve();
  /** The deletions of delivered files, in order (see `remove`). */
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
      let last = Number(match[1]);
      try {
        const lines = readFileSync(path, "utf8").split("\n").filter((l) => l.trim() !== "");
        const group = lines.map((l) => JSON.parse(l) as OutboxEntry);
        if (group.length === 0 || group[0].seq !== Number(match[1])) throw new Error("malformed file");
        for (const [i, entry] of group.entries()) {
          if (entry.row?.instance_id === undefined || (i > 0 && !(entry.seq > group[i - 1].seq))) throw new Error("malformed entry");
        }
        const file = { name, pending: group.length };
        this.files.push(file);
        for (const entry of group) {
          this.entries.push(entry);
          this.fileOf.set(entry.seq, file);
        }
        last = group[group.length - 1].seq;
      } catch {
        renameSync(path, `${path}.corrupt`);
        logger.error({ file: `${name}.corrupt` }, "unreadable mirror outbox entry set aside");
      }
      this.nextSeq = Math.max(this.nextSeq, last + 1);
    }
    this.group = new GroupCommit(dir, (seqs) => fileName(seqs[0]));
  }

  get size(): number {
    return this.entries.length;
  }

  /** Pending entries, oldest first (a copy). */
  list(): OutboxEntry[] {
    return [...this.entries];
  }

  /**
   * Queues a write: resolves once its entry is on disk (directory entry included) and pending; the
   * appends made meanwhile share its fsyncs. Rejects when the write failed (with every entry of
   * its group): the entry is then not queued and no file holds it, so no later start delivers a
   * write whose caller was told it failed.
   */
  append(row: InstanceRow): Promise<void> {
    const entry: OutboxEntry = { seq: this.nextSeq++, at: new Date().toISOString(), row };
    const written = this.group.add(entry.seq, JSON.stringify(entry));
    written.catch(() => undefined); // handled below, once the older appends are pending
    const pending = this.appended
      .then(() => written)
      .then(({ file: name, lines }) => {
        // Registered with all of its lines at once, so no delivery empties it before the last is pending.
        let file = this.files.at(-1);
        if (file?.name !== name) this.files.push((file = { name, pending: lines }));
        this.fileOf.set(entry.seq, file);
        this.entries.push(entry);
      });
    this.appended = pending.catch(() => undefined);
    return pending;
  }

  /**
   * Forgets delivered entries at once. A file goes once none of its entries is pending and every
   * older file is gone; the deletions run behind, off the event loop, one after another in order.
   */
  remove(seqs: number[]): void {
    const gone = new Set(seqs);
    const kept = this.entries.filter((e) => !gone.has(e.seq));
    this.entries.splice(0, this.entries.length, ...kept);
    for (const seq of seqs) {
      const file = this.fileOf.get(seq);
      if (!file) continue;
      this.fileOf.delete(seq);
      file.pending--;
    }
    const done: string[] = [];
    while (this.files.length > 0 && this.files[0].pending <= 0) done.push(this.files.shift()!.name);
    if (done.length === 0) return;
    this.removals = this.removals.then(async () => {
      for (const name of done) {
        await unlink(join(this.dir, name)).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== "ENOENT") this.logger.warn({ file: name, err: err.message }, "cannot delete a delivered mirror outbox file; its entries are delivered again after a restart");
        });
      }
    });
  }

  /** Resolves once every append and deletion so far reached the disk (tests, shutdown). */
  async settled(): Promise<void> {
    await Promise.all([this.appended, this.removals]);
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
