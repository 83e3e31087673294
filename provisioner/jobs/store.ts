/**
 * Durable job records: one JSON file per job under `<data dir>/jobs/`, written atomically, with
 * the whole set mirrored in memory for reads. Finished jobs expire after the retention window.
 * `save` writes synchronously; `saveDurable` is its form for the request path (off the event loop,
 * fsyncs shared with concurrent saves), see atomic-file.ts.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { writeJsonAtomic, writeJsonDurable } from "../atomic-file";
import { JOB_KINDS, type JobRecord } from "./types";

/** The fields the runner and the routes rely on; anything else in a record is carried as is. */
const StoredRecord = z.looseObject({
  job_id: z.string().min(1),
  kind: z.enum(JOB_KINDS),
  instance_id: z.string().min(1),
  status: z.enum(["queued", "running", "succeeded", "failed"]),
  created_at: z.string(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
  progress: z.array(z.object({ at: z.string(), message: z.string() })),
  params: z.record(z.string(), z.unknown()),
});

/** A temporary file of an atomic write (`<id>.json.<pid>[.<n>].tmp`). */
const TEMP = /\.json\.\d+(?:\.\d+)?\.tmp$/;

export interface JobStoreLog {
  error(obj: object, msg: string): void;
}

export class JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly dir: string;

  /**
   * Loads every record. A file that is not a whole record (torn by a disk fault, truncated, edited
   * by hand) must not stop the boot, nor vanish unnoticed: it is renamed to `<name>.corrupt`
   * (kept for the operator, skipped by later boots) and logged.
   */
  constructor(dataDir: string, log?: JobStoreLog) {
    this.dir = join(dataDir, "jobs");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    for (const name of readdirSync(this.dir).sort()) {
      // A write the crash interrupted before its rename: its caller was never told it was saved.
      if (TEMP.test(name)) unlinkSync(join(this.dir, name));
      if (!name.endsWith(".json")) continue;
      const path = join(this.dir, name);
      let reason: string;
      try {
        const parsed = StoredRecord.safeParse(JSON.parse(readFileSync(path, "utf8")));
        if (parsed.success && `${parsed.data.job_id}.json` === name) {
          this.records.set(parsed.data.job_id, parsed.data as JobRecord);
          continue;
        }
        reason = parsed.success ? "job_id does not match the file name" : `${parsed.error.issues[0].path.join(".") || "record"}: ${parsed.error.issues[0].message}`;
      } catch (err) {
        reason = (err as Error).message.split("\n")[0];
      }
      renameSync(path, `${path}.corrupt`);
      log?.error({ file: join(this.dir, `${name}.corrupt`), reason }, "unreadable job record set aside; its job is lost (check the instance's status and retry it if needed)");
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

  /**
   * `save` without blocking the event loop: resolves once the record is on disk (a new one with its
   * directory entry), its fsyncs shared with concurrent saves. The record is readable (`get`) at
   * once. When the write fails, a new record is forgotten again, in memory and on disk (a later boot
   * must not run a job whose caller was told it failed), and the error is thrown.
   */
  async saveDurable(record: JobRecord): Promise<void> {
    const known = this.records.has(record.job_id);
    this.records.set(record.job_id, record);
    try {
      await writeJsonDurable(this.path(record.job_id), record, known ? "content" : "entry");
    } catch (err) {
      if (!known && this.records.get(record.job_id) === record) {
        this.records.delete(record.job_id);
        rmSync(this.path(record.job_id), { force: true });
      }
      throw err;
    }
  }

  /**
   * Removes finished jobs older than `maxAgeMs`; returns how many went. A record that still says
   * its stack needs recovery stays until that recovery ran: it is the only durable trace of a
   * stale lock, and without it the tenant's next operation after a later restart would meet the
   * lock (409) instead of clearing it.
   */
  prune(maxAgeMs: number, now = Date.now()): number {
    let removed = 0;
    for (const record of this.records.values()) {
      const open = record.status === "queued" || record.status === "running";
      if (open || !record.finished_at || record.needs_recovery || now - Date.parse(record.finished_at) < maxAgeMs) continue;
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
