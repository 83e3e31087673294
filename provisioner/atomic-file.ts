/**
 * Crash-safe small-file writes: write a temporary sibling, then rename it over the target, so a
 * reader (or a restarted provisioner) sees either the old or the new content, never a torn one.
 * Every fsync costs milliseconds, so callers say how much must survive a power loss before the
 * call returns.
 *
 * Two forms. `writeFileAtomic` is synchronous: simple, but its open, fsyncs and rename block the
 * event loop, so every request in flight waits for them (20 provisions at once queued up ~4 ms of
 * them each). `writeFileDurable` is for the request path: the open, write, fsync and close run on
 * libuv's thread pool, and concurrent `entry` writes in one directory share one directory fsync
 * (group commit; see `DirSync`). Only the rename stays on the event loop (below).
 *
 * Writes to one path land in call order, whichever form they use: an asynchronous write whose
 * rename would come after a later write's rename (sync or async) drops its temporary file instead,
 * so an older version never replaces a newer one. That is why the asynchronous rename is a
 * `renameSync` on the event loop: the check and the rename cannot be overtaken by a later write.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { type FileHandle, open, unlink } from "node:fs/promises";
import { dirname } from "node:path";

/**
 * - `entry`: content and directory entry are on disk (a new file that must exist after a crash:
 *   an accepted job, an outbox entry);
 * - `content`: content on disk, the rename may be lost (replacing a file: after a crash, the old
 *   or the new version);
 * - `none`: page cache only (data that is rebuilt from other durable files after a crash).
 */
export type Durability = "entry" | "content" | "none";

/**
 * The fsyncs of `writeFileDurable`, replaceable so tests can simulate a failing or slow disk (an
 * EIO from fsync is otherwise impossible to provoke). Production code never changes them.
 */
export const durableIo = {
  syncFile: (handle: FileHandle, _path: string): Promise<void> => handle.sync(),
  syncDir: async (dir: string): Promise<void> => {
    const handle = await open(dir, "r");
    try {
      await handle.sync();
    } finally {
      void handle.close().catch(() => undefined);
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
    const handle = await open(tmp, "w", 0o600);
    try {
      await handle.writeFile(data);
      if (durability !== "none") await durableIo.syncFile(handle, path);
    } finally {
      // Written (and fsynced if asked): the close need not delay the rename, nor can it lose data.
      void handle.close().catch(() => undefined);
    }
    if (track.newest < number) {
      renameSync(tmp, path);
      track.newest = number;
    } else {
      await unlink(tmp); // a later write is already in place
    }
    renamed = true;
    if (durability === "entry") await DirSync.of(dirname(path)).sync();
  } catch (err) {
    if (!renamed) await unlink(tmp).catch(() => undefined);
    throw new Error(`cannot write ${path}${renamed ? " durably (directory fsync)" : ""}: ${(err as Error).message}`, { cause: err });
  } finally {
    if (--track.inFlight === 0) landed.delete(path);
  }
}

export function writeJsonDurable(path: string, value: unknown, durability: Durability): Promise<void> {
  return writeFileDurable(path, JSON.stringify(value), durability);
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
