/** Option parsers for commander: each throws a one-line usage error (exit 2) naming the fix. */
import { readFileSync } from "node:fs";
import { InvalidArgumentError } from "commander";

const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/** `30s`, `10m`, `2h`, `1h30m` (or `0`) → seconds. */
export function durationSeconds(text: string): number | undefined {
  if (text === "0") return 0;
  const m = DURATION.exec(text);
  if (!m || text === "") return undefined;
  return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

export function duration(text: string): string {
  if (durationSeconds(text) === undefined) throw new InvalidArgumentError("must be a duration such as 30s, 10m, 2h or 1h30m.");
  return text;
}

export function positiveInt(text: string): number {
  if (!/^[1-9][0-9]{0,8}$/.test(text)) throw new InvalidArgumentError("must be a positive whole number.");
  return Number(text);
}

/** Tenant ids are positive integers (the API's own check, done here so a typo fails before any call). */
export function instanceId(text: string): string {
  if (!/^[1-9][0-9]{0,9}$/.test(text)) throw new InvalidArgumentError("an instance id is a positive integer such as 42.");
  return text;
}

export function uuid(text: string): string {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(text)) throw new InvalidArgumentError("must be a UUID such as 5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f.");
  return text;
}

/** A JSON object given inline or as `@file.json`. */
export function jsonObject(text: string): Record<string, unknown> {
  let raw = text;
  if (text.startsWith("@")) {
    try {
      raw = readFileSync(text.slice(1), "utf8");
    } catch (err) {
      throw new InvalidArgumentError(`cannot read ${text.slice(1)}: ${(err as Error).message}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    throw new InvalidArgumentError('must be a JSON object such as \'{"mindroomResources":{"limits":{"memory":"3Gi"}}}\' or @file.json.');
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new InvalidArgumentError("must be a JSON object.");
  return value as Record<string, unknown>;
}
