/** Prometheus metrics (prom-client), one registry per app so tests and benches do not share state. */
import type { RequestHandler } from "express";
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from "prom-client";

export interface Metrics {
  registry: Registry;
  middleware: RequestHandler;
  jobsFinished: Counter<"kind" | "status">;
}

export function createMetrics(sources: { jobs(): Record<"queued" | "running", number>; mirrorPending(): number }): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: "provisioner_" });
  const requests = new Counter({ name: "provisioner_http_requests_total", help: "HTTP requests by route and status", labelNames: ["method", "route", "status"], registers: [registry] });
  const duration = new Histogram({
    name: "provisioner_http_request_duration_seconds",
    help: "HTTP request duration",
    labelNames: ["method", "route"],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5, 30, 300],
    registers: [registry],
  });
  const jobsFinished = new Counter({ name: "provisioner_jobs_finished_total", help: "Finished jobs by kind and status", labelNames: ["kind", "status"], registers: [registry] });
  new Gauge({
    name: "provisioner_jobs",
    help: "Jobs by status (queued, running)",
    labelNames: ["status"],
    registers: [registry],
    collect() {
      const counts = sources.jobs();
      this.set({ status: "queued" }, counts.queued);
      this.set({ status: "running" }, counts.running);
    },
  });
  new Gauge({
    name: "provisioner_mirror_outbox_pending",
    help: "Supabase mirror writes waiting in the outbox",
    registers: [registry],
    collect() {
      this.set(sources.mirrorPending());
    },
  });
  const middleware: RequestHandler = (req, res, next) => {
    const end = duration.startTimer();
    res.on("finish", () => {
      // Route templates, not raw paths, so ids do not explode the label set.
      const route = req.route?.path ? `${req.baseUrl}${String(req.route.path)}` : "unmatched";
      requests.inc({ method: req.method, route, status: String(res.statusCode) });
      end({ method: req.method, route });
    });
    next();
  };
  return { registry, middleware, jobsFinished };
}
