/**
 * The provisioner application: wires the ports (TenantStacks, TenantKube, InstanceMirror) into the
 * services, the durable job runner and the Express app. Tests pass in-memory fakes; `main.ts`
 * passes the real adapters.
 */
import express, { type ErrorRequestHandler, type Express } from "express";
import type { ProvisionerConfig } from "./config";
import { isProduction } from "./config";
import { requireBearer } from "./http/auth";
import { createMetrics } from "./http/metrics";
import { hostName, securityHeaders, trustedHosts } from "./http/middleware";
import { openApiDocument } from "./http/openapi";
import { systemRouter } from "./http/routes";
import { ValidationFailed } from "./http/validation";
import { JobRunner } from "./jobs/runner";
import { JobStore } from "./jobs/store";
import type { InstanceMirror, TenantKube, TenantStacks } from "./ports";
import { Failure, shortReason } from "./errors";
import { IdAllocator } from "./service/ids";
import { FLEET_QUEUE, FleetService } from "./service/fleet";
import { LifecycleService } from "./service/lifecycle";
import { ProvisioningService } from "./service/provisioning";
import { RekeyService } from "./service/rekey";
import { InstanceRegistry, type Logger } from "./service/registry";
import { SyncService } from "./service/sync";

export interface AppDeps {
  config: ProvisionerConfig;
  stacks: TenantStacks;
  kube: TenantKube;
  mirror: InstanceMirror;
  log: Logger;
  /** Why the Pulumi engine cannot run (e.g. CLI missing), known at boot; provisioning then answers 503. */
  engineUnavailable?: string;
  /** Why the Kubernetes API cannot be reached (no credentials), known at boot; start/stop/restart then answer 503. */
  kubeUnavailable?: string;
  /** OpenRouter HTTP client (tests stub it). */
  fetch?: typeof fetch;
  /** Readiness poll interval in ms (default 5000). */
  readinessPollMs?: number;
}

export interface Provisioner {
  app: Express;
  runner: JobRunner;
  registry: InstanceRegistry;
  /** Stops accepting jobs and waits up to `graceMs` for running ones (queued ones stay durable). */
  shutdown(graceMs: number): Promise<void>;
}

export async function createApp(deps: AppDeps): Promise<Provisioner> {
  const { config, stacks, kube, mirror, log } = deps;
  if (!config.credentialsEncryptionSecret && config.apiKey) {
    // §6.5: the root falls back to the API key, so rotating that key would silently change every
    // key derived afterwards (new tenants, opt-ins) while existing tenants keep the old ones.
    log.warn(
      {},
      "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET is not set: tenant secrets are derived from PROVISIONER_API_KEY, so rotating that key changes every key derived afterwards; set INSTANCE_CREDENTIALS_ENCRYPTION_SECRET (or _FILE) to a stable secret (today's PROVISIONER_API_KEY value keeps the current derivations), then the API key can be rotated freely",
    );
  }
  const store = new JobStore(config.dataDir, log);
  await releaseInterruptedStacks(store, stacks, log);
  const registry = new InstanceRegistry(stacks, mirror, log);
  const sourcesLoaded = await registry.load();
  const ids = new IdAllocator({ dataDir: config.dataDir, stacks, mirror, registry, sourcesLoaded, jobInstanceIds: provisionedIds(store) });
  const runner = new JobRunner({
    store,
    concurrency: config.concurrency,
    operationTimeoutMs: config.operationTimeoutSeconds * 1000,
    retentionMs: config.jobRetentionHours * 3_600_000,
    recover: (id) => stacks.recover(id),
    onInterrupted: (job) => {
      if (job.status !== "failed" || !job.error || !registry.has(job.instance_id)) return;
      const failure = { last_error: job.error.detail, last_job_id: job.job_id };
      void registry.record(job.instance_id, job.kind === "provision" || job.kind === "upgrade" ? { ...failure, status: "error" } : failure);
    },
    onFinished: (job) => metrics.jobsFinished.inc({ kind: job.kind, status: job.status }),
    log,
  });
  // Each use case defines its own job kinds on the runner; boot (below) resumes them.
  const unavailable = { engineUnavailable: deps.engineUnavailable, kubeUnavailable: deps.kubeUnavailable };
  const provisioning = new ProvisioningService({ config, stacks, kube, mirror, registry, ids, runner, log, fetch: deps.fetch, readinessPollMs: deps.readinessPollMs, ...unavailable });
  const lifecycle = new LifecycleService({ stacks, kube, registry, runner, log, ...unavailable });
  const fleet = new FleetService({ config, stacks, kube, mirror, registry, runner, provisioning, log, fetch: deps.fetch, ...unavailable });
  const sync = new SyncService({ stacks, kube, mirror, registry, log });
  const rekey = new RekeyService({ config, stacks, runner, log, engineUnavailable: deps.engineUnavailable });
  const metrics = createMetrics({ jobs: () => runner.counts(), mirrorPending: () => mirror.pending() });
  const booted = runner.boot();
  if (booted.resumed + booted.interrupted > 0) log.info(booted, "jobs restored from the data dir");
  let shuttingDown = false;

  const app = express();
  app.disable("x-powered-by");
  app.set("query parser", "simple");
  app.use(securityHeaders());
  const trusted = trustedHosts({ platformDomain: config.platformDomain, environment: config.mindroomEnvironment, podIp: config.podIp });
  const production = isProduction(config);
  // Production: /metrics only for in-cluster callers (Prometheus), never through the public Ingress.
  // Matched as Express routes it (any case, optional trailing slash), so no spelling slips past.
  const publicHost = (host: string) => hostName(host).endsWith(config.platformDomain.toLowerCase());
  const metricsPath = /^\/metrics\/?$/i;
  app.use((req, res, next) => {
    const host = req.headers.host ?? "";
    if (production && metricsPath.test(req.path) && publicHost(host)) {
      res.status(404).json({ detail: "Not Found" });
      return;
    }
    if (!trusted(host)) {
      res.status(400).json({ detail: "Invalid host header" });
      return;
    }
    next();
  });
  app.use(metrics.middleware);

  app.get("/healthz", (_req, res) => {
    res.json({ status: "ok" });
  });
  app.get("/readyz", (_req, res) => {
    if (shuttingDown) return void res.status(503).json({ detail: "Shutting down" });
    if (deps.engineUnavailable) return void res.status(503).json({ detail: `Pulumi engine unavailable: ${deps.engineUnavailable}` });
    if (deps.kubeUnavailable) return void res.status(503).json({ detail: deps.kubeUnavailable });
    res.json({ status: "ready", mirror: mirror.enabled ? "on" : "off", mirror_pending: mirror.pending(), jobs: runner.counts() });
  });
  app.get("/metrics", async (_req, res) => {
    res.type(metrics.registry.contentType).send(await metrics.registry.metrics());
  });
  // Upstream turns API docs off in production; here the document stays reachable there, behind the bearer.
  app.get("/openapi.json", ...(production ? [requireBearer(config.apiKey, log)] : []), (_req, res) => {
    res.json(openApiDocument());
  });
  app.use(systemRouter({ config, runner, provisioning, lifecycle, fleet, sync, rekey, registry, kube, log, kubeUnavailable: deps.kubeUnavailable }));
  app.use((_req, res) => {
    res.status(404).json({ detail: "Not Found" });
  });
  const onError: ErrorRequestHandler = (err, req, res, _next) => {
    if (err instanceof ValidationFailed) return void res.status(422).json({ detail: err.errors });
    if (err instanceof Failure) return void res.status(err.statusCode).json({ detail: err.detail });
    const type = (err as { type?: string }).type;
    if (type === "entity.too.large") return void res.status(413).json({ detail: "Request too large" });
    if (type === "entity.parse.failed") {
      return void res.status(422).json({ detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] });
    }
    const status = (err as { status?: number }).status;
    if (typeof status === "number" && status >= 400 && status < 500) return void res.status(status).json({ detail: "Bad request" });
    log.error({ path: req.path, err: shortReason(err) }, "unhandled error");
    res.status(500).json({ detail: "Internal server error" });
  };
  app.use(onError);

  return {
    app,
    runner,
    registry,
    async shutdown(graceMs: number) {
      shuttingDown = true;
      await runner.stop(graceMs);
    },
  };
}

/**
 * A job the last process died in may have left its stack held by a CLI that still runs or a blob
 * half written: the boot listing reads every stack, so those are released first. The full
 * recovery (cancel, refresh) stays with the tenant's next operation. A rollout holds no stack.
 */
async function releaseInterruptedStacks(store: JobStore, stacks: TenantStacks, log: Logger): Promise<void> {
  const died = store.all().filter((j) => j.instance_id !== FLEET_QUEUE && (j.needs_recovery || (j.status === "running" && j.phase === "stack")));
  // At once, not one after another: each may wait out its dead CLI's grace period.
  await Promise.all(
    [...new Set(died.map((j) => j.instance_id))].map((id) =>
      stacks.release(id).catch((err: unknown) => log.warn({ instance_id: id, err: shortReason(err) }, "could not release the stack of an interrupted job; its next operation tries again")),
    ),
  );
}

/**
 * The ids the job records prove were allocated or provisioned: provision jobs only. An uninstall
 * job carries whatever id the caller named (any integer up to 2^31-1, existing or not), so
 * counting it would let one uninstall of a never-existing id exhaust the ids at the next boot.
 */
function provisionedIds(store: JobStore): string[] {
  return store
    .all()
    .filter((j) => j.kind === "provision")
    .map((j) => j.instance_id);
}
