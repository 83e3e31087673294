/**
 * A durable, ordered outbox on the local disk: one JSON file per entry, named by a monotonically
 * increasing sequence number, written to a temp name, fsynced, then renamed (so a crash never leaves
 * a half-written entry under an entry's name; its temp file is removed at the next start), and
 * deleted once delivered. An entry file that cannot be read is renamed `*.corrupt` and logged.
 * Entries that Supabase rejects for good are appended to `rejected.jsonl` for an operator instead
 * of blocking the queue.
 */
import { appendFileSync, mkdirSync, readdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type pino from "pino";
import { writeJsonAtomic } from "../atomic-file";
import type { InstanceRow } from "../ports";

export interface OutboxEntry {
  seq: number;
  at: string;
  row: InstanceRow;
}

const ENTRY = /^(\d{16})\.json$/;
/** `writeJsonAtomic`'s temp file: a crash between its write and its rename leaves one behind. */
const TEMP = /^\d{16}\.json\.\d+\.tmp$/;

export class Outbox {
  private readonly entries: OutboxEntry[] = [];
  private nextSeq = 1;

  constructor(
    readonly dir: string,
    logger: pino.Logger,
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

  append(row: InstanceRow): void {
    const entry: OutboxEntry = { seq: this.nextSeq++, at: new Date().toISOString(), row };
    writeJsonAtomic(join(this.dir, `${String(entry.seq).padStart(16, "0")}.json`), entry, "entry");
    this.entries.push(entry);
  }

  remove(seqs: number[]): void {
    const gone = new Set(seqs);
    for (const seq of seqs) {
      try {
        unlinkSync(join(this.dir, `${String(seq).padStart(16, "0")}.json`));
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
    }
    const kept = this.entries.filter((e) => !gone.has(e.seq));
    this.entries.splice(0, this.entries.length, ...kept);
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
