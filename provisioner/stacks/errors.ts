/**
 * Automation API errors → the port's errors. `CommandError` messages embed the whole CLI output
 * (run log, resource diffs, sometimes values): they go to the debug log only; callers get one short,
 * redacted line.
 */
import { CommandError, ConcurrentUpdateError, StackNotFoundError } from "@pulumi/pulumi/automation";
import { EngineError, StackBusy, StackNotFound } from "../ports";

const MAX_REASON = 200;

interface CommandResultLike {
  stdout?: string;
  stderr?: string;
  code?: number;
  /** The execa error of a real CLI run: how the process ended. */
  err?: { exitCode?: number; signal?: string; code?: unknown };
}

function resultOf(err: CommandError): CommandResultLike {
  return (err as unknown as { commandResult?: CommandResultLike }).commandResult ?? {};
}

/**
 * Removes what may be secret from one line: `key=value`/`key: value` pairs whose key sounds secret,
 * bearer tokens, long opaque tokens, URL credentials, and every known secret value (`needles`).
 */
export function redact(line: string, needles: string[] = []): string {
  return scrub(line, needles)
    .replace(/\b(bearer)\s+\S+/gi, "$1 [REDACTED]")
    .replace(/(\w*(?:passphrase|password|secret|token|api[_-]?key|service[_-]?key)\w*)(["']?\s*[:=]\s*)("[^"]*"|'[^']*'|\S+)/gi, "$1$2[REDACTED]")
    .replace(/:\/\/[^/\s:@]+:[^/\s@]+@/g, "://[REDACTED]@")
    .replace(/[A-Za-z0-9+/_-]{32,}={0,2}/g, "[REDACTED]");
}

/**
 * Replaces every known secret value (`needles`, longest first) in CLI output. Used on the full
 * output that goes to the debug log, where the pattern rules of `redact` would hide resource names.
 */
export function scrub(text: string, needles: string[] = []): string {
  let out = text;
  for (const needle of needles.filter((n) => n.length >= 6).sort((a, b) => b.length - a.length)) {
    out = out.split(needle).join("[REDACTED]");
  }
  return out;
}

/**
 * How the CLI process ended. The SDK's `exec` rethrows every failure of a real CLI as code -2 with
 * execa's message as stderr (`Command failed with exit code 255: pulumi up …` + the CLI's stderr
 * and stdout), so the exit code or signal is read from execa's error, never from `code`.
 */
function ending(result: CommandResultLike): string {
  const proc = result.err;
  if (proc?.signal) return `the Pulumi CLI was killed by ${proc.signal}${proc.signal === "SIGKILL" ? " (out of memory?)" : ""}`;
  if (typeof proc?.code === "string") return `the Pulumi CLI could not be started (${proc.code})`;
  return `the Pulumi CLI exited with code ${proc?.exitCode ?? result.code ?? "unknown"}`;
}

/** The engine's closing verdict ("update failed"): says nothing the diagnostics above it do not. */
const GENERIC_VERDICT = /^(update|destroy|preview|refresh|import|deployment)\s+(failed|canceled|cancelled)\.?$/i;

/**
 * The `error:` lines of the CLI output (stderr first, then stdout), each with the resource it was
 * reported for when it sits under that resource's header in the Diagnostics section. First line of
 * each diagnostic only; ANSI colours removed; one entry per distinct message.
 */
export function engineDiagnostics(output: string): { resource: string | null; message: string }[] {
  const found = new Map<string, { resource: string | null; message: string }>();
  let inDiagnostics = false;
  let resource: string | null = null;
  for (const raw of output.replace(/\x1b\[[0-9;]*m/g, "").split("\n")) {
    const line = raw.trim();
    if (/^Diagnostics:$/.test(line)) {
      inDiagnostics = true;
      resource = null;
      continue;
    }
    if (/^(Resources|Outputs|Duration|Policies)\b.*:/.test(line) && !/^error:/i.test(line)) {
      inDiagnostics = false;
      resource = null;
      continue;
    }
    if (/^error:/i.test(line)) {
      const message = line.replace(/^error:\s*/i, "");
      if (!message) continue;
      const entry = { resource: inDiagnostics ? resource : null, message };
      // The same message with its resource beats the bare one (stderr often repeats the diagnostic).
      if (!found.has(message) || (inDiagnostics && resource)) found.set(message, entry);
      continue;
    }
    if (inDiagnostics && /^\S.*\(.+\):$/.test(line) && !/^(warning|info):/i.test(line)) resource = line.slice(0, -1);
  }
  return [...found.values()];
}

/**
 * The engine's own diagnostic: the specific `error:` lines of the CLI output (a bare "update failed"
 * only when nothing else was said), joined with "; ", redacted and capped at one short line; else
 * how the process ended.
 */
export function shortReason(err: CommandError, needles: string[] = []): string {
  const result = resultOf(err);
  const all = engineDiagnostics(`${result.stderr ?? ""}\n${result.stdout ?? ""}`);
  const specific = all.filter((d) => !GENERIC_VERDICT.test(d.message));
  const chosen = specific.length > 0 ? specific : all;
  const text = chosen.map((d) => (d.resource ? `${d.resource}: ${d.message}` : d.message));
  const clean = chosen.length > 0 ? text.map((d) => redact(d, needles)).join("; ") : ending(result);
  return clean.length > MAX_REASON ? `${clean.slice(0, MAX_REASON - 1)}…` : clean;
}

/**
 * Maps an Automation API failure; anything that is not a `CommandError` passes through unchanged.
 * `aborted`: the caller's signal fired, so the CLI got SIGINT and whatever it printed is a consequence.
 */
export function mapStackError(err: unknown, instanceId: string, action: string, needles: string[] = [], aborted = false): unknown {
  if (err instanceof StackNotFoundError) return new StackNotFound(instanceId);
  if (err instanceof ConcurrentUpdateError) return new StackBusy(instanceId);
  if (err instanceof CommandError) {
    const reason = aborted ? "the operation was cancelled (timeout or shutdown)" : shortReason(err, needles);
    return new EngineError(`${action} of instance ${instanceId} failed: ${reason}`);
  }
  return err;
}

/** String values whose own key sounds secret (`openrouter_key`, `matrixOidc.clientSecret`, …): redacted wherever they show up. */
export function secretNeedles(values: unknown): string[] {
  if (Array.isArray(values)) return values.flatMap((v) => secretNeedles(v));
  if (!values || typeof values !== "object") return [];
  return Object.entries(values).flatMap(([key, v]) =>
    typeof v === "string" ? (SECRET_KEY.test(key) && v.length >= 6 ? [v] : []) : secretNeedles(v),
  );
}

const SECRET_KEY = /secret|_key$|Key$|token|password|passphrase/i;
