/**
 * Crash-safe small-file writes: write a temporary sibling, fsync it, then rename over the target,
 * so a reader (or a restarted provisioner) sees either the old or the new content, never a torn one.
 */
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from "node:fs";

export function writeJsonAtomic(path: string, value: unknown): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, JSON.stringify(value));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
}
