/**
 * `/system/*` routes. Per route, in order (spec provisioner.md §3.1, §3.5, Deviation 8): rate
 * limit (counts unauthenticated calls too) → size guard → bearer auth → body parsing → schema
 * validation → handler. Long operations answer 202 + `Location` unless the caller asks to wait.
 */
import { randomUUID } from "node:crypto";
import express, { type Request, type RequestHandler, type Response, Router } from "express";
import type { ProvisionerConfig } from "../config";
import type { JobRunner } from "../jobs/runner";
import type { JobRecord } from "../jobs/types";
import { Failure } from "../errors";
import type { FleetService } from "../service/fleet";
import type { LifecycleService } from "../service/lifecycle";
import type { ProvisioningService } from "../service/provisioning";
import type { RekeyService } from "../service/rekey";
import type { InstanceRegistry, Logger } from "../service/registry";
import type { SyncService } from "../service/sync";
import type { TenantKube } from "../ports";
import { requireBearer } from "./auth";
import { registerLogsRoute } from "./logs-route";
import { MAX_BODY_BYTES, perMinute, preferWait, sizeGuard } from "./middleware";
import { DriftBody, InstancePath, JobPath, JobsQuery, PreviewBody, ProvisionBody, ProvisionQuery, RekeyBody, UninstallQuery, UpgradeBody } from "./schemas";
import { parse } from "./validation";

export interface RouteDeps {
  config: ProvisionerConfig;
  runner: JobRunner;
  provisioning: ProvisioningService;
  lifecycle: LifecycleService;
  fleet: FleetService;
  sync: SyncService;
  /** The tenant-stacks passphrase move (docs/rekey.md). */
  rekey: RekeyService;
  registry: InstanceRegistry;
  log: Logger;
  /** Set when no Kubernetes credentials exist (known at boot): the logs route answers 503 with the fix. */
  kubeUnavailable?: string;
  /** Pod logs (logs-route.ts); without it the logs route answers 503. */
  kube?: TenantKube;
}

/** Whether the request carried a body (the JSON parser leaves `{}` behind when it did not). */
function hasBody(req: Request): boolean {
  return req.headers["transfer-encoding"] !== undefined || (req.headers["content-length"] ?? "0") !== "0";
}

/** Public view of a job: no params, no internal bookkeeping. */
export function jobView(job: JobRecord) {
  return {
    job_id: job.job_id,
    kind: job.kind,
    instance_id: job.instance_id,
    status: job.status,
    created_at: job.created_at,
    started_at: job.started_at,
    finished_at: job.finished_at,
    ...(job.status === "succeeded" ? { result: job.result } : {}),
    ...(job.status === "failed" ? { error: job.error } : {}),
    ...(job.summary && job.status !== "succeeded" ? { summary: job.summary } : {}),
    progress: job.progress,
  };
}

/** Finished → the upstream answer (200 result or the error status with `{detail}`); else 202 + Location. */
function answer(res: Response, job: JobRecord, pending: Record<string, unknown>): void {
  if (job.status === "succeeded") {
    res.status(200).json(job.result);
  } else if (job.status === "failed" && job.error) {
    res.status(job.error.status_code).json({ detail: job.error.detail });
  } else {
    res.status(202).location(`/system/jobs/${job.job_id}`).json({ job_id: job.job_id, status: job.status, ...pending });
  }
}

/** A rollout finished → its summary (200, even with failed instances: they are in the summary); else 202. */
function answerRollout(res: Response, job: JobRecord, instanceIds: string[]): void {
  if (job.status === "succeeded") return void res.status(200).json(job.result);
  if (job.status === "failed" && job.error) return void res.status(job.error.status_code).json({ detail: job.error.detail });
  res.status(202).location(`/system/jobs/${job.job_id}`).json({ job_id: job.job_id, status: job.status, kind: "rollout", total: instanceIds.length, instance_ids: instanceIds });
}

export function systemRouter(d: RouteDeps): Router {
  const r = Router();
  const auth = requireBearer(d.config.apiKey, d.log);
  const json = express.json({ limit: MAX_BODY_BYTES, type: () => true, strict: false });
  const guarded = (limit: number, ...rest: RequestHandler[]) => [perMinute(limit, d.log), sizeGuard, auth, ...rest];
  const maxWaitSeconds = d.config.operationTimeoutSeconds + d.config.readinessTimeoutSeconds;
  // A rollout may take hours; a caller may wait for it up to an hour, then polls its job.
  const maxRolloutWaitSeconds = 3600;
  const waited = (job: JobRecord, seconds: number | null, res: Response) => {
    if (seconds === null) return Promise.resolve(job);
    res.setHeader("Preference-Applied", `wait=${seconds}`);
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    return d.runner.wait(job.job_id, seconds * 1000, gone.signal).then((j) => j ?? job);
  };

  r.post("/system/provision", ...guarded(5, json), async (req, res) => {
    const query = parse("query", ProvisionQuery, req.query);
    const body = parse("body", ProvisionBody, hasBody(req) ? req.body : undefined);
    const { params, job } = await d.provisioning.provision(body, randomUUID());
    const seconds = query.wait ? maxWaitSeconds : preferWait(req.get("prefer"), maxWaitSeconds);
    const final = await waited(job, seconds, res);
    answer(res, final, { customer_id: params.customer_id, ...d.provisioning.urls(params.instance_id), success: true, message: "Provisioning queued" });
  });

  for (const verb of ["start", "stop", "restart"] as const) {
    r.post(`/system/instances/:instance_id/${verb}`, ...guarded(10), async (req, res) => {
      const { instance_id } = parse("path", InstancePath, req.params);
      res.json(await d.lifecycle[verb](instance_id));
    });
  }

  r.delete("/system/instances/:instance_id/uninstall", ...guarded(2), async (req, res) => {
    const { instance_id } = parse("path", InstancePath, req.params);
    const query = parse("query", UninstallQuery, req.query);
    const job = await d.lifecycle.requestUninstall(instance_id, query.delete_data ?? false);
    const seconds = preferWait(req.get("prefer"), maxWaitSeconds) ?? d.config.uninstallWaitSeconds;
    const final = await waited(job, seconds, res);
    answer(res, final, { success: true, message: `Uninstall of instance ${instance_id} queued` });
  });

  r.post("/system/sync-instances", ...guarded(5), async (_req, res) => {
    res.json(await d.sync.sync());
  });

  r.post("/system/upgrade", ...guarded(5, json), async (req, res) => {
    const body = parse("body", UpgradeBody, hasBody(req) ? req.body : undefined);
    const changes = { mindroomImage: body.mindroom_image, synapseImage: body.synapse_image, values: body.values };
    const { job, instanceIds } = d.fleet.upgrade(body, changes, { concurrency: body.concurrency, max_failures: body.max_failures });
    const final = await waited(job, preferWait(req.get("prefer"), maxRolloutWaitSeconds), res);
    answerRollout(res, final, instanceIds);
  });

  r.post("/system/drift", ...guarded(5, json), async (req, res) => {
    const body = parse("body", DriftBody, hasBody(req) ? req.body : undefined);
    const { job, instanceIds } = d.fleet.drift(body, { concurrency: body.concurrency });
    const final = await waited(job, preferWait(req.get("prefer"), maxRolloutWaitSeconds), res);
    answerRollout(res, final, instanceIds);
  });

  r.post("/system/rekey", ...guarded(2, json), async (req, res) => {
    const body = parse("body", RekeyBody, hasBody(req) ? req.body : {});
    const { job } = d.rekey.rekey(body);
    const final = await waited(job, preferWait(req.get("prefer"), maxRolloutWaitSeconds), res);
    if (final.status === "succeeded") return void res.status(200).json(final.result);
    if (final.status === "failed" && final.error) return void res.status(final.error.status_code).json({ detail: final.error.detail });
    res.status(202).location(`/system/jobs/${final.job_id}`).json({ job_id: final.job_id, status: final.status, kind: "rekey" });
  });

  r.post("/system/instances/:instance_id/preview", ...guarded(10, json), async (req, res) => {
    const { instance_id } = parse("path", InstancePath, req.params);
    const body = parse("body", PreviewBody, hasBody(req) ? req.body : {});
    const job = await d.fleet.preview(instance_id, { mindroomImage: body.mindroom_image, synapseImage: body.synapse_image, values: body.values });
    const final = await waited(job, preferWait(req.get("prefer"), maxWaitSeconds), res);
    answer(res, final, { kind: "preview", instance_id });
  });

  r.get("/system/jobs", ...guarded(60), (req, res) => {
    const query = parse("query", JobsQuery, req.query);
    res.json({ jobs: d.runner.list({ instanceId: query.instance_id, kind: query.kind, status: query.status, limit: query.limit }).map(jobView) });
  });

  r.get("/system/jobs/:job_id", ...guarded(60), (req, res) => {
    const jobId = String(req.params.job_id);
    const job = JobPath.safeParse({ job_id: jobId }).success ? d.runner.get(jobId) : undefined;
    if (!job) throw new Failure("not_found", `Job ${jobId} not found`);
    res.json(jobView(job));
  });

  registerLogsRoute(r, d, guarded(30));

  r.get("/system/instances", sizeGuard, auth, (_req, res) => {
    res.json({ instances: d.registry.all() });
  });

  r.get("/system/instances/:instance_id", sizeGuard, auth, (req, res) => {
    const { instance_id } = parse("path", InstancePath, req.params);
    const view = d.registry.get(instance_id);
    if (!view) throw new Failure("not_found", `Instance ${instance_id} not found`);
    res.json(view);
  });

  return r;
}
