/**
 * Durable job records: one JSON file per job under `<data dir>/jobs/`, written atomically, with
 * the whole set mirrored in memory for reads. Finished jobs expire after the retention window.
 * `save` writes synchronously. `saveDurable` is its form for the request path: new records saved
 * at the same time are committed together, as the lines of one `group-<n>.jsonl` file (one file
 * fsync and one directory fsync for the lot; atomic-file.ts GroupCommit). A job's own file, once
 * its first update wrote one, wins over its line in a group; a group file goes once all of its
 * jobs were pruned (and is rewritten without the pruned ones before that, so a restart never
 * brings a pruned job back).
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { z } from "zod";
import { GroupCommit, writeFileAtomic, writeJsonAtomic, writeJsonDurable } from "../atomic-file";
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

/** A temporary file of an atomic write (`<id>.json.<pid>[.<n>].tmp`, `group-<n>.jsonl.<pid>.<n>.tmp`). */
const TEMP = /\.jsonl?\.\d+(?:\.\d+)?\.tmp$/;
const GROUP = /^group-(\d{16})\.jsonl$/;
const groupName = (n: number) => `group-${String(n).padStart(16, "0")}.jsonl`;

export interface JobStoreLog {
  error(obj: object, msg: string): void;
}

export class JobStore {
  private readonly records = new Map<string, JobRecord>();
  private readonly dir: string;
  /** Group files on disk and the jobs whose first version each holds. */
  private readonly groups = new Map<string, string[]>();
  private readonly group: GroupCommit<string>;

  /**
   * Loads every record. A file that is not a whole record (torn by a disk fault, truncated, edited
   * by hand) must not stop the boot, nor vanish unnoticed: it is renamed to `<name>.corrupt`
   * (kept for the operator, skipped by later boots) and logged.
   */
  constructor(dataDir: string, log?: JobStoreLog) {
    this.dir = join(dataDir, "jobs");
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    const groupFiles: string[] = [];
    for (const name of readdirSync(this.dir).sort()) {
      // A write the crash interrupted before its rename: its caller was never told it was saved.
      if (TEMP.test(name)) unlinkSync(join(this.dir, name));
      if (GROUP.test(name)) groupFiles.push(name);
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
    for (const name of groupFiles) this.loadGroup(name, log);
    const last = groupFiles.length > 0 ? Number(GROUP.exec(groupFiles[groupFiles.length - 1])![1]) : 0;
    let next = last + 1;
    this.group = new GroupCommit(this.dir, () => groupName(next++));
  }

  /**
   * A group's jobs that have no file of their own yet. A line that is not a whole record means the
   * file was damaged after its atomic write: the file is set aside as `.corrupt` and logged, and
   * its readable jobs get files of their own first, so none of them is lost with it.
   */
  private loadGroup(name: string, log?: JobStoreLog): void {
    const path = join(this.dir, name);
    const ids: string[] = [];
    const bad: string[] = [];
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (line.trim() === "") continue;
      let parsed;
      try {
        parsed = StoredRecord.safeParse(JSON.parse(line));
      } catch (err) {
        bad.push((err as Error).message.split("\n")[0]);
        continue;
      }
      if (!parsed.success) {
        bad.push(`${parsed.error.issues[0].path.join(".") || "record"}: ${parsed.error.issues[0].message}`);
        continue;
      }
      ids.push(parsed.data.job_id);
      if (!this.records.has(parsed.data.job_id)) this.records.set(parsed.data.job_id, parsed.data as JobRecord);
    }
    if (bad.length === 0) {
      this.groups.set(name, ids);
      return;
    }
    for (const id of ids) writeJsonAtomic(this.path(id), this.records.get(id), "entry");
    renameSync(path, `${path}.corrupt`);
    log?.error({ file: `${path}.corrupt`, reason: bad[0], unreadable: bad.length }, "unreadable lines in a job group file set aside; their jobs are lost (check the instances' status and retry them if needed)");
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
   * directory entry). New records saved meanwhile share one group file and its fsyncs. The record
   * is readable (`get`) at once. When the write fails (for every new record of its group), a new
   * record is forgotten again and no file holds it (a later boot must not run a job whose caller
   * was told it failed), and the error is thrown.
   */
  async saveDurable(record: JobRecord): Promise<void> {
    if (this.records.has(record.job_id)) {
      this.records.set(record.job_id, record);
      return writeJsonDurable(this.path(record.job_id), record, "content");
    }
    this.records.set(record.job_id, record);
    try {
      const { file } = await this.group.add(record.job_id, JSON.stringify(record));
      this.groups.set(file, [...(this.groups.get(file) ?? []), record.job_id]);
    } catch (err) {
      if (this.records.get(record.job_id) === record) this.records.delete(record.job_id);
      throw err;
    }
  }

  /**
   * Forgets a record saved moments ago whose job must never run (the write it depends on failed),
   * also on disk: its own file goes, its group file is rewritten without it. Synchronous: this is
   * the failure path of a request, which answers only once the record is gone.
   * @throws when the disk refuses; a restart could then still find the job
   */
  discard(id: string): void {
    if (!this.records.delete(id)) return;
    rmSync(this.path(id), { force: true });
    this.pruneGroups();
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
    if (removed > 0) this.pruneGroups();
    return removed;
  }

  /** Group files lose their pruned jobs: deleted when none is left, else rewritten with the others (their current versions). */
  private pruneGroups(): void {
    for (const [name, ids] of this.groups) {
      const kept = ids.filter((id) => this.records.has(id));
      if (kept.length === ids.length) continue;
      if (kept.length === 0) {
        rmSync(join(this.dir, name), { force: true });
        this.groups.delete(name);
        continue;
      }
      writeFileAtomic(join(this.dir, name), kept.map((id) => `${JSON.stringify(this.records.get(id))}\n`).join(""), "entry");
      this.groups.set(name, kept);
    }
  }

  private path(id: string): string {
    return join(this.dir, `${id}.json`);
  }
}
