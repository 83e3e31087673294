/**
 * Factory of the Supabase mirror. Without SUPABASE_URL and SUPABASE_SERVICE_KEY the mirror is off:
 * writes are no-ops, reads fail with upstream's "Supabase not configured", one log line says so.
 */
import { join } from "node:path";
import pino from "pino";
import type { InstanceMirror, InstanceRow } from "../ports";
import { SupabaseMirror } from "./supabase-mirror";

export { SupabaseMirror, classify, retryDelay } from "./supabase-mirror";
export { Outbox, coalesce } from "./outbox";

export interface InstanceMirrorOptions {
  supabaseUrl?: string;
  serviceKey?: string;
  /** Provisioner data dir; the outbox lives in `<dataDir>/mirror-outbox/`. */
  dataDir: string;
  logger?: pino.Logger;
  /** Default 500 ms: the first retry comes quickly after a blip. */
  retryBaseMs?: number;
  /** Default 60 s: an outage costs at most one request per minute. */
  retryMaxMs?: number;
  /** Default 10 s per PostgREST request. */
  requestTimeoutMs?: number;
}

class DisabledMirror implements InstanceMirror {
  readonly enabled = false;
  async write(_row: InstanceRow): Promise<void> {}
  async writeMany(_rows: InstanceRow[]): Promise<void> {}
  async get(): Promise<InstanceRow | null> {
    throw new Error("Supabase not configured");
  }
  async list(): Promise<InstanceRow[]> {
    throw new Error("Supabase not configured");
  }
  async accountEmail(): Promise<string | null> {
    throw new Error("Supabase not configured");
  }
  pending(): number {
    return 0;
  }
}

export function createInstanceMirror(options: InstanceMirrorOptions): InstanceMirror {
  const logger = options.logger ?? pino({ level: "silent" });
  if (!options.supabaseUrl || !options.serviceKey) {
    logger.info("Supabase mirror off (SUPABASE_URL or SUPABASE_SERVICE_KEY unset): instance status is not mirrored");
    return new DisabledMirror();
  }
  return new SupabaseMirror({
    supabaseUrl: options.supabaseUrl,
    serviceKey: options.serviceKey,
    outboxDir: join(options.dataDir, "mirror-outbox"),
    logger,
    retryBaseMs: options.retryBaseMs ?? 500,
    retryMaxMs: options.retryMaxMs ?? 60_000,
    requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
  });
}
