/**
 * `GET /system/instances/{id}/logs` (fleet.md): one container's log of a tenant pod, read through
 * the Kubernetes API (`pods/log`) and answered as `text/plain`, streamed with `follow=true` until
 * the client disconnects or the log ends. Only the pod's name and the error reason reach the
 * provisioner's own log, never log lines (tenant logs may carry secrets).
 */
import { pipeline } from "node:stream/promises";
import type { RequestHandler, Router } from "express";
import { z } from "zod";
import { PodNotFound, type TenantKube } from "../ports";
import { InstancePath } from "./schemas";
import { parse } from "./validation";

/** Container name → the Deployment whose pods have it (components/instance/*-deployment.ts). */
export const LOG_CONTAINERS = {
  mindroom: "mindroom",
  /** Only with `workerBackend: static_runner`. */
  "sandbox-runner": "mindroom",
  /** The init container that waits for Synapse. */
  "wait-for-synapse": "mindroom",
  synapse: "synapse",
} as const;

export type LogContainer = keyof typeof LOG_CONTAINERS;

export const DEFAULT_TAIL = 200;
export const MAX_TAIL = 10_000;
const MAX_SINCE_SECONDS = 2_147_483_647;

const CONTAINER_NAMES = Object.keys(LOG_CONTAINERS) as [LogContainer, ...LogContainer[]];
const DURATION = /^(?:(\d{1,10})h)?(?:(\d{1,10})m)?(?:(\d{1,10})s)?$/;

/** `30s`, `10m`, `2h`, `1h30m` → seconds; undefined when not such a duration or zero. */
export function durationSeconds(text: string): number | undefined {
  const m = DURATION.exec(text);
  if (!m || text === "") return undefined;
  const seconds = Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
  return seconds > 0 && seconds <= MAX_SINCE_SECONDS ? seconds : undefined;
}

const flag = z
  .string()
  .transform((s) => s.toLowerCase())
  .pipe(z.enum(["true", "false", "1", "0", "yes", "no", "on", "off"], { message: "must be true or false" }))
  .transform((s) => ["true", "1", "yes", "on"].includes(s));

export const LogsQuery = z.object({
  container: z.enum(CONTAINER_NAMES, { message: `container must be one of ${CONTAINER_NAMES.join(", ")}` }).default("mindroom"),
  tail: z
    .string()
    .regex(/^[0-9]{1,6}$/, { message: `tail must be a whole number of lines from 1 to ${MAX_TAIL}`, abort: true })
    .transform(Number)
    .pipe(z.number().min(1, `tail must be at least 1`).max(MAX_TAIL, `tail must be at most ${MAX_TAIL}`))
    .default(DEFAULT_TAIL),
  since: z
    .string()
    .transform((s, ctx) => durationSeconds(s) ?? (ctx.addIssue({ code: "custom", message: "since must be a duration such as 30s, 10m, 2h or 1h30m" }), z.NEVER))
    .optional(),
  follow: flag.default(false),
  pod: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/, "pod must be a pod name such as mindroom-42-7d9c5b6f4-x2x9k")
    .optional(),
});

/** The query parameters as OpenAPI parameter objects (for `GET /openapi.json`). */
export function logsQueryParameters(): Record<string, unknown>[] {
  const q = (name: string, description: string, schema: Record<string, unknown>) => ({ name, in: "query", required: false, description, schema });
  return [
    q("container", "`mindroom`, `sandbox-runner` (static_runner workers only) and `wait-for-synapse` (init) are in pod mindroom-<id>; `synapse` in synapse-<id>", { type: "string", enum: CONTAINER_NAMES, default: "mindroom" }),
    q("tail", "Lines from the end of the log", { type: "integer", minimum: 1, maximum: MAX_TAIL, default: DEFAULT_TAIL }),
    q("since", "Only lines newer than this duration", { type: "string", pattern: DURATION.source, examples: ["30s", "10m", "2h", "1h30m"] }),
    q("follow", "Stream new lines until the client disconnects or the container stops", { type: "boolean", default: false }),
    q("pod", "A pod of the Deployment by name (default: the newest running one)", { type: "string" }),
  ];
}

export interface LogsRouteDeps {
  kube?: TenantKube;
  /** Set when no Kubernetes credentials exist (known at boot): the route answers 503 with the fix. */
  kubeUnavailable?: string;
  log: { warn(obj: object, msg: string): void };
}

const firstLine = (err: unknown) => (err instanceof Error ? err.message : String(err)).split("\n")[0].slice(0, 200);

/** Registers the route on `r` behind `guard` (rate limit, size guard, bearer: the other routes' chain). */
export function registerLogsRoute(r: Router, d: LogsRouteDeps, guard: RequestHandler[]): void {
  r.get("/system/instances/:instance_id/logs", ...guard, async (req, res) => {
    const { instance_id } = parse("path", InstancePath, req.params);
    const query = parse("query", LogsQuery, req.query);
    if (d.kubeUnavailable || !d.kube) {
      res.status(503).json({ detail: `Instance logs are not available in this environment: ${d.kubeUnavailable ?? "no Kubernetes API"}` });
      return;
    }
    const deployment = `${LOG_CONTAINERS[query.container]}-${instance_id}`;
    const gone = new AbortController();
    res.once("close", () => gone.abort());
    let opened;
    try {
      opened = await d.kube.podLogs(deployment, {
        container: query.container,
        pod: query.pod,
        tailLines: query.tail,
        sinceSeconds: query.since,
        follow: query.follow,
        signal: gone.signal,
      });
    } catch (err) {
      if (err instanceof PodNotFound) res.status(404).json({ detail: `Instance ${instance_id} has no log to show: ${err.message}` });
      else res.status(500).json({ detail: `Failed to read the logs of instance ${instance_id}: ${firstLine(err)}` });
      return;
    }
    const { pod, stream } = opened;
    if (gone.signal.aborted) return void stream.destroy();
    res.status(200).set({
      "Content-Type": "text/plain; charset=utf-8",
      "Cache-Control": "no-store",
      "X-Pod": pod,
      "X-Container": query.container,
      // ingress-nginx would otherwise buffer a followed log.
      ...(query.follow ? { "X-Accel-Buffering": "no" } : {}),
    });
    res.flushHeaders();
    try {
      await pipeline(stream, res);
    } catch (err) {
      // The client went away: the adapter has ended the upstream request already.
      if ((err as { code?: string }).code === "ERR_STREAM_PREMATURE_CLOSE") return;
      // Headers are gone: cutting the connection is the only way left to say the log is incomplete.
      d.log.warn({ instance_id, pod, container: query.container }, `log stream of pod ${pod} broke: ${firstLine(err)}`);
      res.destroy();
    }
  });
}
