/** A finished job's result for people (stdout); `--json` prints the job document instead. */
import { elapsed, fields, out, table } from "./format";
import type { JobView } from "./jobs";
import { label } from "./progress";

interface RolloutEntry {
  instance_id: string;
  status: string;
  job_id?: string;
  error?: string;
}

interface PreviewResult {
  instance_id: string;
  drifted: boolean;
  changes?: Record<string, number>;
  resources?: { type: string; name: string; op: string; diffs?: string[] }[];
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export function showRollout(r: Record<string, unknown>): void {
  const n = (k: string) => (typeof r[k] === "number" ? (r[k] as number) : 0);
  if (typeof r.moved === "number") out(`${n("moved")} moved, ${n("already")} already on the passphrase, ${n("failed")} failed, ${n("skipped")} skipped of ${plural(n("total"), "tenant")}${r.stopped_early ? " (stopped early: the failure budget was spent)" : ""}`);
  else out(`${n("succeeded")} succeeded, ${n("failed")} failed, ${n("skipped")} skipped of ${plural(n("total"), "tenant")}${r.stopped_early ? " (stopped early: the failure budget was spent)" : ""}`);
  if (Array.isArray(r.drifted)) out(r.drifted.length ? `drifted: ${r.drifted.join(", ")}` : "drifted: none");
  const instances = (Array.isArray(r.instances) ? r.instances : []) as RolloutEntry[];
  if (instances.length) {
    out(table(instances, [
      { header: "ID", value: (i) => i.instance_id },
      { header: "STATUS", value: (i) => i.status },
      { header: "JOB", value: (i) => i.job_id },
      { header: "ERROR", value: (i) => i.error, max: 100 },
    ]));
  }
}

export function showPreview(p: PreviewResult): void {
  const changes = Object.entries(p.changes ?? {})
    .filter(([, v]) => v > 0)
    .map(([op, v]) => `${v} ${op}`)
    .join(", ");
  out(`instance ${p.instance_id}: ${p.drifted ? "changes pending" : "no changes"}${changes ? ` (${changes})` : ""}`);
  if (p.resources?.length) {
    out(table(p.resources, [
      { header: "OP", value: (r) => r.op },
      { header: "TYPE", value: (r) => r.type },
      { header: "NAME", value: (r) => r.name },
      { header: "DIFFS", value: (r) => r.diffs?.join(", "), max: 80 },
    ]));
  }
}

export function showJob(job: JobView): void {
  const result = job.result as Record<string, unknown> | undefined;
  if (job.status !== "succeeded" || !result || typeof result !== "object") {
    out(fields([
      ["job", job.job_id],
      ["kind", job.kind],
      ["instance", job.instance_id],
      ["status", job.status],
      ["error", job.error ? `${job.error.detail} (HTTP ${job.error.status_code})` : undefined],
      ["took", elapsed(job.started_at, job.finished_at)],
    ]));
    return;
  }
  if (typeof result.total === "number" && Array.isArray(result.instances)) return showRollout(result);
  if (typeof result.drifted === "boolean") return showPreview(result as unknown as PreviewResult);
  if (job.kind === "provision") {
    out(fields([
      ["instance", result.customer_id],
      ["message", result.message],
      ["frontend", result.frontend_url],
      ["api", result.api_url],
      ["matrix", result.matrix_url],
    ]));
    return;
  }
  if (job.kind === "uninstall") {
    const kept = Array.isArray(result.kept_volumes) ? (result.kept_volumes as string[]) : [];
    out(fields([
      ["message", result.message],
      ["kept volumes", kept.length ? kept.join(", ") : "none"],
    ]));
    return;
  }
  out(`${label(job)} ${job.status} in ${elapsed(job.started_at, job.finished_at) || "0s"}`);
  out(fields(Object.entries(result)));
}
