/** Output for people: aligned columns, key/value blocks, short times. Scripts use `--json`. */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | null | undefined;
  /** Cells longer than this are cut with "…". */
  max?: number;
}

function cell(v: string | number | null | undefined, max?: number): string {
  const s = v === null || v === undefined || v === "" ? "-" : String(v).replace(/\s+/g, " ");
  return max !== undefined && s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** Rows under a header, columns two spaces apart, the last one not padded. */
export function table<T>(rows: T[], columns: Column<T>[]): string {
  const cells = [columns.map((c) => c.header), ...rows.map((r) => columns.map((c) => cell(c.value(r), c.max)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i].length)));
  return cells.map((line) => line.map((s, i) => (i === line.length - 1 ? s : s.padEnd(widths[i]))).join("  ").trimEnd()).join("\n") + "\n";
}

/** `key: value` lines, keys aligned; absent values are left out. */
export function fields(entries: [string, unknown][]): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== null && v !== "");
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  return shown.map(([k, v]) => `${`${k}:`.padEnd(width + 2)}${typeof v === "object" ? JSON.stringify(v) : String(v)}`).join("\n") + "\n";
}

/** Whole seconds between two ISO times (or until now) as `4s`, `3m12s`, `1h05m`. */
export function elapsed(from: string | null | undefined, to?: string | null): string {
  if (!from) return "";
  const ms = (to ? Date.parse(to) : Date.now()) - Date.parse(from);
  if (!Number.isFinite(ms) || ms < 0) return "";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** An ISO time as `2025-01-31 12:04:05` (UTC), short enough for a table. */
export function when(iso: string | null | undefined): string {
  return iso ? iso.replace("T", " ").replace(/\.\d+Z$|Z$/, "") : "";
}

/** `text` on stdout (a trailing newline added when missing). */
export function out(text: string): void {
  process.stdout.write(text.endsWith("\n") ? text : `${text}\n`);
}

/** One JSON document on stdout. */
export function outJson(doc: unknown): void {
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

/** A line for people on stderr (never mixed into stdout, which scripts read). */
export function note(text: string): void {
  process.stderr.write(`${text}\n`);
}
