/**
 * §6.12 readiness: polls the tenant's MindRoom Deployment until it is rolled out. Any read error
 * counts as not ready (upstream). A tenant not ready in time keeps being watched in the
 * background (upstream: 600 s), which marks its row running once ready; lost on restart, sync repairs it.
 */
import { tenantObjectNames } from "../../infra/tenant-names";
import { shortReason } from "../errors";
import type { TenantKube } from "../ports";
import type { InstanceRegistry, Logger } from "./registry";

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export class Readiness {
  private readonly background = new Set<string>();

  constructor(
    private readonly d: { kube: TenantKube; registry: InstanceRegistry; log: Logger; backgroundSeconds: number; pollMs?: number },
  ) {}

  /** True once `mindroom-{id}` is rolled out; false when the time is up or `signal` aborts. */
  async wait(id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const poll = this.d.pollMs ?? 5000;
    for (;;) {
      if (await this.d.kube.isRolledOut(tenantObjectNames(id).mindroom).catch(() => false)) return true;
      if (Date.now() + poll > deadline || signal?.aborted) return false;
      await sleep(poll, signal);
    }
  }

  /** Keeps waiting and marks the row running when ready, unless a later job took the row over. */
  inBackground(id: string, jobId: string): void {
    if (this.background.has(id)) return;
    this.background.add(id);
    void this.wait(id, this.d.backgroundSeconds * 1000)
      .then(async (ready) => {
        if (ready && this.isLatestJob(id, jobId)) await this.d.registry.record(id, { status: "running" });
      })
      .catch((err) => this.d.log.warn({ instance_id: id, err: shortReason(err) }, "background readiness wait failed"))
      .finally(() => this.background.delete(id));
  }

  /** Whether no job accepted or started after `jobId` has taken over the instance's row. */
  isLatestJob(id: string, jobId: string): boolean {
    return this.d.registry.get(id)?.last_job_id === jobId;
  }
}
