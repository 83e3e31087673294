/**
 * Crash-safe small-file writes: write a temporary sibling, then rename it over the target, so a
 * reader (or a restarted provisioner) sees either the old or the new content, never a torn one.
 * Every fsync costs milliseconds, so callers say how much must survive a power loss before the
 * call returns.
 *
 * Two forms. `writeFileAtomic` is synchronous: its fsyncs block the event loop, so every request
 * in flight waits for them (20 provisions at once queued up 2 fsyncs and 2 directory fsyncs each).
 * `writeFileDurable` is for the request path: the create, write, close and rename of a small file
 * stay on the event loop (tens of microseconds each; a trip through libuv's thread pool costs
 * more), only the fsyncs run on the thread pool, and concurrent `entry` writes in one directory
 * share one directory fsync (group commit; see `DirSync`).
 *
 * Writes to one path land in call order, whichever form they use: an asynchronous write whose
 * rename would come after a later write's rename (sync or async) drops its temporary file instead,
 * so an older version never replaces a newer one. The check and the rename are one synchronous
 * step, so no later write can come between them.
 */
import { closeSync, fsync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { dirname, join } from "node:path";
import { promisify } from "node:util";

/**
 * - `entry`: content and directory entry are on disk (a new file that must exist after a crash:
 *   an accepted job, an outbox entry);
 * - `content`: content on disk, the rename may be lost (replacing a file: after a crash, the old
 *   or the new version);
 * - `none`: page cache only (data that is rebuilt from other durable files after a crash).
 */
export type Durability = "entry" | "content" | "none";

const fsyncAsync = promisify(fsync);

/**
 * The fsyncs of `writeFileDurable` (file descriptor, the target path it is written for),
 * replaceable so tests can simulate a failing or slow disk (an EIO from fsync is otherwise
 * impossible to provoke). Production code never changes them.
 */
export const durableIo = {
  syncFile: (fd: number, _path: string): Promise<void> => fsyncAsync(fd),
  syncDir: async (dir: string): Promise<void> => {
    const fd = openSync(dir, "r");
    try {
      await fsyncAsync(fd);
    } finally {
      closeSync(fd);
    }
  },
};

/** Per call: the next write's number. Per path with asynchronous writes in flight: the newest number renamed. */
let writeNumber = 0;
const landed = new Map<string, { newest: number; inFlight: number }>();

export function writeFileAtomic(path: string, data: string, durability: Durability): void {
  const number = ++writeNumber;
  const tmp = tempName(path, number);
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, data);
    if (durability !== "none") fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const track = landed.get(path);
  if (track) track.newest = number;
  if (durability === "entry") syncDirSync(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown, durability: Durability): void {
  writeFileAtomic(path, JSON.stringify(value), durability);
}

/**
 * `writeFileAtomic` off the event loop: resolves once `durability` holds for this content (or for
 * a later write to the same path that overtook it, at that write's durability). Temporary files are
 * named `<path>.<pid>.<n>.tmp`; a crash may leave one behind for the owner's boot to remove. Rejects with an error naming the file when a
 * step fails (an fsync error, a full disk); the temporary file is removed then, and the target is
 * as it was unless the failure came after the rename (an `entry` write whose directory fsync
 * failed: the caller decides whether to remove the file).
 */
export async function writeFileDurable(path: string, data: string, durability: Durability): Promise<void> {
  const number = ++writeNumber;
  const tmp = tempName(path, number);
  const track = landed.get(path) ?? { newest: 0, inFlight: 0 };
  landed.set(path, track);
  track.inFlight++;
  let renamed = false;
  try {
    const fd = openSync(tmp, "w", 0o600);
    try {
      writeSync(fd, data);
      if (durability !== "none") await durableIo.syncFile(fd, path);
    } finally {
      closeSync(fd);
    }
    if (track.newest < number) {
      renameSync(tmp, path);
      track.newest = number;
    } else {
      unlinkSync(tmp); // a later write is already in place
    }
    renamed = true;
    if (durability === "entry") await DirSync.of(dirname(path)).sync();
  } catch (err) {
    if (!renamed) removeQuietly(tmp);
    throw new Error(`cannot write ${path}${renamed ? " durably (directory fsync)" : ""}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (--track.inFlight === 0) landed.delete(path);
  }
}

export function writeJsonDurable(path: string, value: unknown, durability: Durability): Promise<void> {
  return writeFileDurable(path, JSON.stringify(value), durability);
}

/**
 * Group commit of new records (the accepted jobs, the outbox entries): records added while a
 * commit runs wait for the next one, which writes all of them as the lines of ONE new file
 * (`writeFileDurable` with `entry`: one file fsync and one shared directory fsync), so a burst of N
 * records costs a few fsyncs instead of 2N. The first record of a quiet moment is committed at
 * once, alone. The owner names each file (`fileName` gets the batch's keys, in order) and reads
 * the lines back at its next start. A failed commit rejects every record of its batch and leaves
 * no file behind.
 */
export class GroupCommit<K> {
  private queue: Array<{ key: K; line: string; resolve(written: { file: string; lines: number }): void; reject(err: unknown): void }> = [];
  private running = false;

  constructor(
    private readonly dir: string,
    private readonly fileName: (keys: K[]) => string,
  ) {}

  /** Resolves with the file that holds `line` (one line, no newline) and its number of lines, once it is on disk. */
  add(key: K, line: string): Promise<{ file: string; lines: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ key, line, resolve, reject });
      if (!this.running) void this.commit();
    });
  }

  private async commit(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0);
        const name = this.fileName(batch.map((b) => b.key));
        const path = join(this.dir, name);
        try {
          await writeFileDurable(path, batch.map((b) => `${b.line}\n`).join(""), "entry");
          for (const b of batch) b.resolve({ file: name, lines: batch.length });
        } catch (err) {
          removeQuietly(path); // renamed but not durable: its callers are told it failed
          for (const b of batch) b.reject(err);
        }
      }
    } finally {
      this.running = false;
    }
  }
}

/**
 * Group commit of one directory's entries. A directory fsync makes durable every rename that
 * finished before it started; so a caller whose rename finished while one is running waits for the
 * next one, which starts as soon as the running one ends and serves every caller that arrived
 * meanwhile. Under a burst, N renames cost about two directory fsyncs instead of N. A failed fsync
 * rejects all of its callers; the next caller starts a new one.
 */
class DirSync {
  private static readonly dirs = new Map<string, DirSync>();
  private running?: Promise<void>;
  private next?: Promise<void>;

  private constructor(private readonly dir: string) {}

  static of(dir: string): DirSync {
    let sync = DirSync.dirs.get(dir);
    if (!sync) DirSync.dirs.set(dir, (sync = new DirSync(dir)));
    return sync;
  }

  sync(): Promise<void> {
    if (this.next) return this.next;
    if (!this.running) return this.start();
    const after = this.running;
    const next = after
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    this.next = next;
    return next;
  }

  private start(): Promise<void> {
    const run = durableIo.syncDir(this.dir);
    this.running = run;
    const done = () => {
      if (this.running !== run) return;
      this.running = undefined;
      if (!this.next) DirSync.dirs.delete(this.dir);
    };
    run.then(done, done);
    return run;
  }
}

function removeQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // never created, or already gone
  }
}

function tempName(path: string, number: number): string {
  return `${path}.${process.pid}.${number}.tmp`;
}

function syncDirSync(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
