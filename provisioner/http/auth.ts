/**
 * Bearer authentication of `/system/*` (spec provisioner.md §3.4, Deviation 8): exactly
 * `Bearer <token>`, compared in constant time over SHA-256 digests of the UTF-8 bytes, so length,
 * non-ASCII or malformed input can neither leak timing nor crash (always 401, never 500).
 * An unset key fails closed. A repeated `Authorization` header is malformed (401): Node keeps only
 * the first, and a proxy in front may have checked or logged another one.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import type { RequestHandler } from "express";

const digest = (s: string) => createHash("sha256").update(s, "utf8").digest();

/** The token of a well-formed `Bearer <token>` header, else null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const parts = header.trim().split(/\s+/);
  if (parts.length !== 2 || parts[0].toLowerCase() !== "bearer" || parts[1].length === 0) return null;
  return parts[1];
}

export function tokenMatches(token: string, key: string): boolean {
  return timingSafeEqual(digest(token), digest(key));
}

export function requireBearer(apiKey: string, log: { error(obj: object, msg: string): void }): RequestHandler {
  return (req, res, next) => {
    if (!apiKey) log.error({}, "PROVISIONER_API_KEY is not configured");
    const headers = req.headersDistinct.authorization ?? [];
    const token = headers.length === 1 ? bearerToken(headers[0]) : null;
    if (!apiKey || token === null || !tokenMatches(token, apiKey)) return void res.status(401).json({ detail: "Unauthorized" });
    next();
  };
}
