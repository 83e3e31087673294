/**
 * Test harness: the real app on a real port (0) with the in-memory fakes, a temporary data dir and
 * a log recorder, so tests speak HTTP with fetch and assert what the ports saw.
 */
import { mkdtempSync, rmSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp, type AppDeps, type Provisioner } from "../../../provisioner/app";
import { loadConfig, type ProvisionerConfig } from "../../../provisioner/config";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { FakeInstanceMirror } from "../../../provisioner/fakes/mirror";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";

export const API_KEY = "test-key";
export const AUTH = { Authorization: `Bearer ${API_KEY}` };
export const SUB = "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f";
export const ACCOUNT = "a1b2c3d4-0000-4000-8000-000000000042";

export class LogRecorder {
  readonly lines: { level: string; obj: object; msg: string }[] = [];
  info(obj: object, msg: string) {
    this.lines.push({ level: "info", obj, msg });
  }
  warn(obj: object, msg: string) {
    this.lines.push({ level: "warn", obj, msg });
  }
  error(obj: object, msg: string) {
    this.lines.push({ level: "error", obj, msg });
  }
  text(): string {
    return this.lines.map((l) => `${l.level} ${JSON.stringify(l.obj)} ${l.msg}`).join("\n");
  }
}

export interface Harness {
  url: string;
  config: ProvisionerConfig;
  stacks: FakeTenantStacks;
  kube: FakeTenantKube;
  mirror: FakeInstanceMirror;
  log: LogRecorder;
  provisioner: Provisioner;
  dataDir: string;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface HarnessOptions {
  env?: Record<string, string>;
  mirror?: FakeInstanceMirror;
  stacks?: FakeTenantStacks;
  kube?: FakeTenantKube;
  dataDir?: string;
  deps?: Partial<AppDeps>;
}

export async function startHarness(opts: HarnessOptions = {}): Promise<Harness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "provisioner-test-"));
  const config = loadConfig({
    PROVISIONER_API_KEY: API_KEY,
    INSTANCE_BASE_DOMAIN: "mindroom.test",
    ENVIRONMENT: "test",
    MINDROOM_DATA_DIR: dataDir,
    PROVISIONER_READINESS_TIMEOUT_SECONDS: "1",
    PROVISIONER_READINESS_BACKGROUND_SECONDS: "1",
    PROVISIONER_UNINSTALL_WAIT_SECONDS: "5",
    ...opts.env,
  });
  const kube = opts.kube ?? new FakeTenantKube();
  const stacks = opts.stacks ?? new FakeTenantStacks(kube);
  const mirror = opts.mirror ?? new FakeInstanceMirror();
  const log = new LogRecorder();
  const provisioner = await createApp({ config, stacks, kube, mirror, log, readinessPollMs: 10, ...opts.deps });
  const server: Server = await new Promise((resolve) => {
    const s = provisioner.app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    config,
    stacks,
    kube,
    mirror,
    log,
    provisioner,
    dataDir,
    async close(closeOpts = {}) {
      await provisioner.shutdown(0);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      if (!closeOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

let clientCounter = 0;

export async function call(h: Harness, method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; raw?: string } = {}) {
  // A fresh client address per call unless the test sets one, so rate limits only bite where tested.
  const headers: Record<string, string> = { ...AUTH, "X-Real-IP": `10.${++clientCounter % 250}.${Math.floor(clientCounter / 250) % 250}.1`, ...init.headers };
  let body: string | undefined = init.raw;
  if (init.body !== undefined) {
    body = JSON.stringify(init.body);
    headers["Content-Type"] ??= "application/json";
  }
  const res = await fetch(`${h.url}${path}`, { method, headers, body });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, headers: res.headers, body: json as Record<string, unknown> & { detail?: unknown } };
}

/** Polls a job until finished. */
export async function settle(h: Harness, jobId: string, timeoutMs = 5000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = h.provisioner.runner.get(jobId);
    if (job && (job.status === "succeeded" || job.status === "failed")) return job as unknown as Record<string, unknown>;
    if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${JSON.stringify(job)}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A promise with its resolver, to hold a fake stack operation open. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((r) => (open = r));
  return { promise, open };
}
