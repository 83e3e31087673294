/**
 * Crash-safe small-file writes: write a temporary sibling, then rename it over the target, so a
 * reader (or a restarted provisioner) sees either the old or the new content, never a torn one.
 * Every fsync costs milliseconds on the request path, so callers say how much must survive a
 * power loss before the call returns.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";
import { dirname } from "node:path";

/**
 * - `entry`: content and directory entry are on disk (a new file that must exist after a crash:
 *   an accepted job, an outbox entry);
 * - `content`: content on disk, the rename may be lost (replacing a file: after a crash, the old
 *   or the new version);
 * - `none`: page cache only (data that is rebuilt from other durable files after a crash).
 */
export type Durability = "entry" | "content" | "none";

export function writeFileAtomic(path: string, data: string, durability: Durability): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, data);
    if (durability !== "none") fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  if (durability === "entry") syncDir(dirname(path));
}

export function writeJsonAtomic(path: string, value: unknown, durability: Durability): void {
  writeFileAtomic(path, JSON.stringify(value), durability);
}

function syncDir(dir: string): void {
  const fd = openSync(dir, "r");
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
