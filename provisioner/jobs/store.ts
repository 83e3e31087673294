/**
 * Durable job records: one JSON file per job under `<data dir>/jobs/`, written atomically, with
 * the whole set mirrored in memory for reads. Finished jobs expire after the retention window.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { writeJsonAtomic } from "../atomic-file";
import type { JobRecord } from "./types";

export class JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly dir: string;

  constructor(dataDir: string) {
    this.dir = join(dataDir, "jobs");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir)) {
      if (!name.endsWith(".json")) continue;
      try {
        const record = JSON.parse(readFileSync(join(this.dir, name), "utf8")) as JobRecord;
        if (record.job_id) this.records.set(record.job_id, record);
      } catch {
        // A file that does not parse was never renamed into place completely; the rename is atomic,
        // so this is a foreign file: ignore it rather than refuse to boot.
      }
    }
  }

  get(id: string): JobRecord | undefined {
    return this.records.get(id);
  }

  all(): JobRecord[] {
    return [...this.records.values()].sort((a, b) => a.created_at.localeCompare(b.created_at));
  }

  /** A new record is on disk, directory entry included, before this returns (an accepted job is never lost). */
  save(record: JobRecord): void {
    const known = this.records.has(record.job_id);
    this.records.set(record.job_id, record);
    writeJsonAtomic(this.path(record.job_id), record, known ? "content" : "entry");
  }

  /** Removes finished jobs older than `maxAgeMs`; returns how many went. */
  prune(maxAgeMs: number, now = Date.now()): number {
    let removed = 0;
    for (const record of this.records.values()) {
      if (!record.finished_at || now - Date.parse(record.finished_at) < maxAgeMs) continue;
      this.records.delete(record.job_id);
      rmSync(this.path(record.job_id), { force: true });
      removed++;
    }
    return removed;
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}
