/**
 * Where the real engine's binaries are (tools/engine/build.sh): MINDROOM_ENGINE_BIN if set, else
 * the cache folder `build.sh --bin-dir` prints. A missing binary fails with the one-line fix.
 */
import { execFileSync } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { join } from "node:path";

const ROOT = join(__dirname, "../../..");
let cached: string | undefined;

export function engineBinDir(): string {
  if (process.env.MINDROOM_ENGINE_BIN) return process.env.MINDROOM_ENGINE_BIN;
  cached ??= execFileSync("bash", [join(ROOT, "tools/engine/build.sh"), "--bin-dir"], { encoding: "utf8" }).trim();
  return cached;
}

/** Absolute path of an engine binary, or an Error naming the fix. */
export function engineBinary(name: string): string {
  const dir = engineBinDir();
  const path = join(dir, name);
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new Error(`${name} not found in ${dir}: run tools/engine/build.sh`);
  }
  return path;
}
