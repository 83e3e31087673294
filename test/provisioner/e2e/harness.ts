/**
 * The provisioner with its REAL pieces except the Pulumi CLI and the cluster: `createApp` over
 * real HTTP, the Automation API adapter (`createTenantStacks`, default tenant program of
 * `stacks/tenant.ts`, so the values are validated for real) driving a fake `PulumiCommand`, the
 * Supabase mirror (supabase-js + durable outbox) against a local fake PostgREST, and an in-memory
 * cluster that the fake CLI fills the way a tenant `up`/`destroy` would.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import pino from "pino";
import { createApp, type Provisioner } from "../../../provisioner/app";
import { loadConfig } from "../../../provisioner/config";
import { FakeTenantKube } from "../../../provisioner/fakes/kube";
import { createInstanceMirror, type SupabaseMirror } from "../../../provisioner/mirror";
import { createTenantStacks } from "../../../provisioner/stacks";
import { tenantVolumes } from "../../../infra/tenant-names";
import { tenantProgram } from "../../../stacks/tenant";
import { FakePostgrest } from "../mirror/fake-postgrest";
import { FakePulumi } from "../stacks/fake-cli";

export const E2E_API_KEY = "e2e-api-key-Zq81vNw3LkP0aTyR";
export const E2E_SERVICE_KEY = "e2e-service-role-key-Hs72mXc9QpB4";
export const E2E_ROOT_SECRET = "e2e-credentials-root-Vb5nJ8kW2sLd";
export const SUBSCRIPTION = "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f";
export const ENVIRONMENT = "staging";

export interface Exchange {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
  text: string;
  body: Record<string, unknown>;
}

export interface RealHarness {
  url: string;
  dataDir: string;
  cli: FakePulumi;
  kube: FakeTenantKube;
  postgrest: FakePostgrest;
  mirror: SupabaseMirror;
  provisioner: Provisioner;
  /** Values each tenant's last `up` ran with (captured from the program factory), by instance id. */
  values: Map<string, Record<string, unknown>>;
  /** Every HTTP exchange of `request`, for "nothing leaked" checks. */
  exchanges: Exchange[];
  logText(): string;
  request(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Exchange>;
  /** Polls `GET /system/jobs/{id}` over HTTP until the job is finished. */
  settle(jobId: string, timeoutMs?: number): Promise<Exchange>;
  close(opts?: { keepData?: boolean }): Promise<void>;
}

export interface RealHarnessOptions {
  dataDir?: string;
  cli?: FakePulumi;
  kube?: FakeTenantKube;
  postgrest?: FakePostgrest;
  env?: Record<string, string>;
  /** Log lines go here too, so a second boot on the same data dir adds to the first one's. */
  logSink?: string[];
}

const STACK_OF = new RegExp(`^${ENVIRONMENT}-(\\d+)$`);

/** Plays the engine's effect on the cluster: `up` creates the tenant's objects, `destroy` removes them but the kept volumes. */
function playEngine(cli: FakePulumi, kube: FakeTenantKube, values: Map<string, Record<string, unknown>>): void {
  const previous = cli.beforeAnswer;
  cli.beforeAnswer = async (args, cwd) => {
    await previous?.(args, cwd);
    const stack = args[args.indexOf("--stack") + 1];
    const id = STACK_OF.exec(stack ?? "")?.[1];
    if (!id) return;
    if (args[0] === "up") {
      kube.applyTenant(id, values.get(id) ?? {});
      cli.stacks.get(stack)!.outputs.volumes = { value: tenantVolumes(id) };
    } else if (args[0] === "destroy") {
      kube.destroyTenant(id);
    }
  };
}

export async function startRealHarness(opts: RealHarnessOptions = {}): Promise<RealHarness> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "provisioner-e2e-"));
  const cli = opts.cli ?? new FakePulumi("3.220.0");
  const kube = opts.kube ?? new FakeTenantKube();
  const postgrest = opts.postgrest ?? new FakePostgrest();
  if (!postgrest.port) await postgrest.start();
  const lines = opts.logSink ?? [];
  const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  const log = pino({ level: "debug" }, sink);
  const env: Record<string, string> = {
    PROVISIONER_API_KEY: E2E_API_KEY,
    INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: E2E_ROOT_SECRET,
    SUPABASE_URL: postgrest.url,
    SUPABASE_SERVICE_KEY: E2E_SERVICE_KEY,
    INSTANCE_BASE_DOMAIN: "mindroom.test",
    ENVIRONMENT: "test",
    MINDROOM_ENVIRONMENT: ENVIRONMENT,
    MINDROOM_DATA_DIR: dataDir,
    PROVISIONER_READINESS_TIMEOUT_SECONDS: "2",
    PROVISIONER_READINESS_BACKGROUND_SECONDS: "1",
    PROVISIONER_UNINSTALL_WAIT_SECONDS: "10",
    ...opts.env,
  };
  const config = loadConfig(env);
  const values = new Map<string, Record<string, unknown>>();
  playEngine(cli, kube, values);
  const stacks = await createTenantStacks({
    environment: config.mindroomEnvironment,
    dataDir: config.dataDir,
    backendUrl: config.pulumiBackendUrl,
    pulumiHome: config.pulumiHome,
    workspacesDir: config.workDir,
    kube: { mode: "kubeconfig", kubeconfig: "apiVersion: v1\nkind: Config\nclusters: []\n" },
    pulumiCommand: cli,
    // The provisioner's own environment, as main.ts hands it over (process.env there).
    env,
    program: (v, options) => {
      values.set(String(v.customer), v);
      return tenantProgram(v, options);
    },
    logger: log.child({ component: "stacks" }),
  });
  const mirror = createInstanceMirror({
    supabaseUrl: config.supabaseUrl,
    serviceKey: config.supabaseServiceKey,
    dataDir: config.dataDir,
    logger: log.child({ component: "mirror" }),
    retryBaseMs: 20,
    retryMaxMs: 100,
  }) as SupabaseMirror;
  const provisioner = await createApp({ config, stacks, kube, mirror, log, readinessPollMs: 20 });
  const server: Server = await new Promise((resolve) => {
    const s = provisioner.app.listen(0, "127.0.0.1", () => resolve(s));
  });
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const exchanges: Exchange[] = [];
  let client = 0;

  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Exchange> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: {
        Authorization: `Bearer ${E2E_API_KEY}`,
        "X-Real-IP": `10.9.${++client % 250}.1`,
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: Record<string, unknown> = {};
    try {
      parsed = JSON.parse(text) as Record<string, unknown>;
    } catch {
      // Non-JSON bodies (metrics) stay in `text`.
    }
    const exchange = { method, path, status: res.status, headers: Object.fromEntries(res.headers), text, body: parsed };
    exchanges.push(exchange);
    return exchange;
  };

  return {
    url,
    dataDir,
    cli,
    kube,
    postgrest,
    mirror,
    provisioner,
    values,
    exchanges,
    logText: () => lines.join(""),
    request,
    async settle(jobId, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await request("GET", `/system/jobs/${jobId}`);
        if (res.body.status === "succeeded" || res.body.status === "failed") return res;
        if (Date.now() > deadline) throw new Error(`job ${jobId} did not finish: ${res.text}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async close(closeOpts = {}) {
      await provisioner.shutdown(0);
      mirror.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      if (!opts.postgrest) await postgrest.close();
      if (!closeOpts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Every file below `dir` with its text (for "no secret on disk" checks). */
export function filesBelow(dir: string): Array<{ path: string; text: string }> {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return filesBelow(path);
    return [{ path, text: readFileSync(path, "utf8") }];
  });
}
