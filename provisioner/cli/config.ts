/**
 * Where the CLI finds the provisioner: `MINDROOM_API_URL` and `MINDROOM_API_KEY` from the
 * environment, else from `./.env` (KEY=VALUE lines); `--api-url` wins over both. The key is only
 * ever read from there: no option takes it, so it never shows in argv or `ps`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseEnv } from "node:util";
import { UsageError } from "./errors";

export const DEFAULT_POLL_MS = 1500;

export interface CliConfig {
  apiUrl: string;
  apiKey: string;
  /**
   * Poll interval of job waits in ms (MINDROOM_POLL_INTERVAL_MS, default 1500): `GET /system/jobs/{id}`
   * allows 60 calls a minute per client, so a waiting CLI leaves a third of them to others.
   */
  pollMs: number;
}

/** `./.env` of `cwd` as a map; empty when there is none. */
export function readDotEnv(cwd: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(join(cwd, ".env"), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw new UsageError(`cannot read ${join(cwd, ".env")}: ${(err as Error).message}`);
  }
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) out[k] = v;
  return out;
}

export function loadCliConfig(opts: { apiUrl?: string }, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): CliConfig {
  const file = readDotEnv(cwd);
  const pick = (name: string) => (env[name] !== undefined && env[name] !== "" ? env[name] : file[name]) ?? "";
  const rawUrl = (opts.apiUrl ?? pick("MINDROOM_API_URL")).trim();
  if (!rawUrl) {
    throw new UsageError("MINDROOM_API_URL is not set: export MINDROOM_API_URL=http://127.0.0.1:8080 (the provisioner's address), put it in ./.env, or pass --api-url");
  }
  let url: URL;
  try {
    url = new URL(rawUrl);
  } catch {
    throw new UsageError(`MINDROOM_API_URL must be an http(s) URL such as http://127.0.0.1:8080 (got "${rawUrl}")`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new UsageError(`MINDROOM_API_URL must be an http(s) URL such as http://127.0.0.1:8080 (got "${rawUrl}")`);
  }
  const apiKey = pick("MINDROOM_API_KEY").trim();
  if (!apiKey) {
    throw new UsageError("MINDROOM_API_KEY is not set: export MINDROOM_API_KEY=<the provisioner's PROVISIONER_API_KEY> or put it in ./.env");
  }
  const poll = Number(pick("MINDROOM_POLL_INTERVAL_MS") || DEFAULT_POLL_MS);
  return { apiUrl: url.toString().replace(/\/+$/, ""), apiKey, pollMs: Number.isFinite(poll) && poll >= 10 ? poll : DEFAULT_POLL_MS };
}
