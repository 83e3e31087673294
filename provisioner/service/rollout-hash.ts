/**
 * Rollout hash of the tenant Secret (spec provisioner.md §6.8): lower-case hex SHA-256 of the map
 * serialised exactly as Python's `json.dumps(m, sort_keys=True, separators=(",", ":"))` (ASCII
 * output), so a tenant moved from the Helm system keeps its hash and its pods do not roll.
 */
import { createHash } from "node:crypto";

/** Python `json.dumps(..., sort_keys=True, separators=(",",":"), ensure_ascii=True)` of a flat string map. */
export function pythonCompactJson(map: Record<string, string>): string {
  // JSON.stringify already escapes quotes, backslashes and C0 controls as Python does (lower-case
  // hex); Python additionally escapes DEL and every non-ASCII UTF-16 unit (astral → surrogate pair).
  const escape = (s: string) => JSON.stringify(s).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  const keys = Object.keys(map).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${keys.map((k) => `${escape(k)}:${escape(map[k])}`).join(",")}}`;
}

export function rolloutHash(secrets: Record<string, string>): string {
  return createHash("sha256").update(pythonCompactJson(secrets), "utf8").digest("hex");
}
