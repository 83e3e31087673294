/**
 * Operating the fleet (docs/fleet.md): a rollout drives one child job per selected tenant (an
 * `upgrade`, or a `preview` for a drift report) with its own bound on children in flight, under the
 * runner's per-tenant order and global cap, and stops starting new ones once the failure budget is
 * spent. Its checkpoint (the child job of each tenant) is durable, so after a restart it picks up
 * where it was: it waits for the children it had started and starts the rest.
 */
import { ValuesError } from "../../infra/values/errors";
import type { ProvisionerConfig } from "../config";
import { Failure, shortReason } from "../errors";
import type { JobRunner } from "../jobs/runner";
import type { JobContext, JobQueue, JobRecord } from "../jobs/types";
import { EngineError, StackBusy, StackNotFound, type InstanceMirror, type PreviewResult, type TenantKube, type TenantStacks } from "../ports";
import { normaliseTier } from "./plans";
import type { ProvisioningService, UpgradeChanges } from "./provisioning";
import type { InstanceRegistry, Logger } from "./registry";
import { PreparationFailed, TenantSpecBuilder } from "./tenant-spec";

/** Which tenants: `all`, or `instance_ids`, narrowed by `tier` and `status`. Deprovisioned ones never. */
export interface Selection {
  all?: boolean;
  instance_ids?: string[];
  tier?: string;
  status?: string;
}

export interface RolloutOptions {
  /** Children in flight at once (default: the provisioner's global cap). */
  concurrency?: number;
  /** Failed children after which no new one starts (default 1: stop at the first failure). */
  max_failures?: number;
}

export type RolloutAction = "upgrade" | "preview";

export interface RolloutParams extends Record<string, unknown> {
  action: RolloutAction;
  instance_ids: string[];
  changes: UpgradeChanges;
  concurrency: number;
  max_failures: number;
}

export interface PreviewParams extends Record<string, unknown> {
  instance_id: string;
  changes: UpgradeChanges;
}

export interface PreviewOutcome extends PreviewResult {
  instance_id: string;
  drifted: boolean;
}

export interface ChildOutcome {
  instance_id: string;
  status: "succeeded" | "failed" | "skipped";
  job_id?: string;
  error?: string;
  drifted?: boolean;
}

export interface RolloutSummary extends Record<string, unknown> {
  action: RolloutAction;
  total: number;
  succeeded: number;
  failed: number;
  skipped: number;
  stopped_early: boolean;
  instances: ChildOutcome[];
  /** Drift reports only: the tenants whose preview shows changes. */
  drifted?: string[];
}

interface RolloutState extends Record<string, unknown> {
  /** Child job per tenant, once started. */
  children: Record<string, string>;
  /** Tenants whose child a restart interrupted and that got a second one. */
  retried: string[];
}

/** The queue rollouts run in: one at a time, so two fleet upgrades never interleave. */
export const FLEET_QUEUE = "fleet";

export interface FleetDeps {
  config: ProvisionerConfig;
  stacks: TenantStacks;
  kube: TenantKube;
  mirror: InstanceMirror;
  registry: InstanceRegistry;
  runner: JobRunner;
  provisioning: ProvisioningService;
  log: Logger;
  fetch?: typeof fetch;
  engineUnavailable?: string;
}

export class FleetService {
  private readonly specs: TenantSpecBuilder;
  private readonly rollouts: JobQueue<RolloutParams>;
  private readonly previews: JobQueue<PreviewParams>;

  constructor(private readonly d: FleetDeps) {
    this.specs = new TenantSpecBuilder(d);
    // A rollout only waits for its children: no global slot (they need them), no time limit of its
    // own (each child has one), and a restart resumes it.
    this.rollouts = d.runner.define<RolloutParams>("rollout", (ctx) => this.runRollout(ctx), { usesGlobalSlot: false, resumable: true, timeoutMs: null });
    this.previews = d.runner.define<PreviewParams>("preview", (ctx) => this.runPreview(ctx.params, ctx));
  }

  /** `POST /system/upgrade`: a rollout of upgrade jobs. */
  upgrade(selection: Selection, changes: UpgradeChanges, options: RolloutOptions = {}): { job: JobRecord; instanceIds: string[] } {
    return this.startRollout("upgrade", selection, changes, options);
  }

  /** `POST /system/drift`: a rollout of previews of the tenants as they are. */
  drift(selection: Selection, options: RolloutOptions = {}): { job: JobRecord; instanceIds: string[] } {
    // A drift report looks at every tenant: one failed preview must not hide the others.
    return this.startRollout("preview", selection, {}, { max_failures: Number.MAX_SAFE_INTEGER, ...options });
  }

  /** `POST /system/instances/{id}/preview`: one preview job behind the tenant's other operations. */
  preview(id: string, changes: UpgradeChanges): Promise<JobRecord> {
    this.requireEngine("Tenant preview");
    return this.d.runner.inOrder(id, () => {
      this.requireProvisioned(id);
      return this.previews.submit(id, { instance_id: id, changes });
    });
  }

  /** The tenants a selection names, in id order. @throws Failure not_found for named ids that are not provisioned */
  select(selection: Selection): string[] {
    const views = this.d.registry.all().filter((v) => v.status !== "deprovisioned");
    let chosen = views;
    if (!selection.all) {
      const wanted = new Set(selection.instance_ids ?? []);
      chosen = views.filter((v) => wanted.has(v.instance_id));
      const missing = [...wanted].filter((id) => !chosen.some((v) => v.instance_id === id));
      if (missing.length > 0) throw new Failure("not_found", `Instances not provisioned: ${missing.join(", ")}; list them with GET /system/instances`);
    }
    if (selection.tier) chosen = chosen.filter((v) => normaliseTier(v.tier) === selection.tier);
    if (selection.status) chosen = chosen.filter((v) => v.status === selection.status);
    return chosen.map((v) => v.instance_id);
  }

  private startRollout(action: RolloutAction, selection: Selection, changes: UpgradeChanges, options: RolloutOptions): { job: JobRecord; instanceIds: string[] } {
    this.requireEngine(action === "upgrade" ? "Fleet upgrade" : "Drift report");
    const instanceIds = this.select(selection);
    if (instanceIds.length === 0) throw new Failure("not_found", "The selection matches no provisioned instance; check all / instance_ids / tier / status against GET /system/instances");
    const params: RolloutParams = {
      action,
      instance_ids: instanceIds,
      changes,
      concurrency: options.concurrency ?? this.d.config.concurrency,
      max_failures: options.max_failures ?? 1,
    };
    return { job: this.rollouts.submit(FLEET_QUEUE, params), instanceIds };
  }

  private async runRollout(ctx: JobContext<RolloutParams>): Promise<RolloutSummary> {
    const p = ctx.params;
    const state: RolloutState = { children: {}, retried: [], ...(ctx.job.state as Partial<RolloutState> | undefined) };
    const outcomes = new Map<string, ChildOutcome>();
    const inFlight = new Map<string, Promise<ChildOutcome>>();
    const failed = () => [...outcomes.values()].filter((o) => o.status === "failed").length;
    const verb = p.action === "upgrade" ? "upgraded" : "previewed";
    const done = (o: ChildOutcome) => {
      outcomes.set(o.instance_id, o);
      inFlight.delete(o.instance_id);
      const tail = o.status === "failed" ? ` failed: ${o.error ?? "see its job"}` : o.drifted ? " (drifted)" : "";
      ctx.onProgress({ at: new Date().toISOString(), message: `${outcomes.size}/${p.instance_ids.length} ${verb}: instance ${o.instance_id}${tail}` });
      ctx.report(this.summary(p, outcomes, false));
    };
    const track = (id: string, jobId: string) => inFlight.set(id, this.settle(id, jobId, ctx.signal, state, ctx));
    // Resumed after a restart: wait for the children already started.
    for (const [id, jobId] of Object.entries(state.children)) track(id, jobId);
    const pending = p.instance_ids.filter((id) => !(id in state.children));
    if (Object.keys(state.children).length > 0) ctx.onProgress({ at: new Date().toISOString(), message: `resumed: ${Object.keys(state.children).length} started before the restart, ${pending.length} to go` });
    const budgetSpent = () => failed() >= p.max_failures;
    while (pending.length > 0 || inFlight.size > 0) {
      while (pending.length > 0 && inFlight.size < p.concurrency && !budgetSpent() && !ctx.signal.aborted) {
        const id = pending.shift()!;
        try {
          const child = await this.submitChild(p, id, ctx.job.job_id);
          state.children[id] = child.job_id;
          ctx.checkpoint(state);
          track(id, child.job_id);
        } catch (err) {
          done({ instance_id: id, status: err instanceof Failure && err.kind === "not_found" ? "skipped" : "failed", error: err instanceof Failure ? err.detail : shortReason(err) });
        }
      }
      if (inFlight.size === 0) break;
      done(await Promise.race(inFlight.values()));
    }
    if (ctx.signal.aborted) throw new Failure("failed", `Rollout stopped (shutdown or abort) after ${outcomes.size} of ${p.instance_ids.length} instances`);
    for (const id of pending) outcomes.set(id, { instance_id: id, status: "skipped" });
    const summary = this.summary(p, outcomes, pending.length > 0);
    if (summary.stopped_early) ctx.onProgress({ at: new Date().toISOString(), message: `stopped after ${summary.failed} failure(s) (max_failures ${p.max_failures}); ${summary.skipped} instance(s) skipped` });
    return summary;
  }

  private submitChild(p: RolloutParams, id: string, rolloutJobId: string): Promise<JobRecord> {
    return p.action === "upgrade" ? this.d.provisioning.upgrade(id, p.changes, rolloutJobId) : this.preview(id, p.changes);
  }

  /** Waits for a child; one a restart interrupted gets a second run (once). */
  private async settle(id: string, jobId: string, signal: AbortSignal, state: RolloutState, ctx: JobContext<RolloutParams>): Promise<ChildOutcome> {
    let job = this.d.runner.get(jobId);
    while (job && job.status !== "succeeded" && job.status !== "failed" && !signal.aborted) job = await this.d.runner.wait(jobId, 60_000, signal);
    if (!job) return { instance_id: id, status: "failed", job_id: jobId, error: `job ${jobId} is gone (pruned)` };
    if (job.status === "failed" && job.interrupted && !state.retried.includes(id) && !signal.aborted) {
      state.retried.push(id);
      const again = await this.submitChild(ctx.params, id, ctx.job.job_id);
      state.children[id] = again.job_id;
      ctx.checkpoint(state);
      return this.settle(id, again.job_id, signal, state, ctx);
    }
    if (job.status === "succeeded") {
      const drifted = ctx.params.action === "preview" ? (job.result as PreviewOutcome | undefined)?.drifted === true : undefined;
      return { instance_id: id, status: "succeeded", job_id: jobId, ...(drifted === undefined ? {} : { drifted }) };
    }
    if (job.status === "failed") return { instance_id: id, status: "failed", job_id: jobId, error: job.error?.detail };
    return { instance_id: id, status: "skipped", job_id: jobId, error: "rollout stopped before this instance finished" };
  }

  private summary(p: RolloutParams, outcomes: Map<string, ChildOutcome>, stoppedEarly: boolean): RolloutSummary {
    const list = p.instance_ids.flatMap((id) => (outcomes.has(id) ? [outcomes.get(id)!] : []));
    const count = (s: ChildOutcome["status"]) => list.filter((o) => o.status === s).length;
    return {
      action: p.action,
      total: p.instance_ids.length,
      succeeded: count("succeeded"),
      failed: count("failed"),
      skipped: count("skipped"),
      stopped_early: stoppedEarly,
      instances: list,
      ...(p.action === "preview" ? { drifted: list.filter((o) => o.drifted).map((o) => o.instance_id) } : {}),
    };
  }

  /** The preview job: the spec an upgrade with `changes` would apply, previewed; a pure check marks drift. */
  private async runPreview(params: PreviewParams, ctx: JobContext<PreviewParams>): Promise<PreviewOutcome> {
    const id = params.instance_id;
    const changes = params.changes ?? {};
    let result: PreviewResult;
    try {
      const input = await this.d.provisioning.upgradeInput(id, changes);
      const { spec } = await this.specs.build(input, { dryRun: true });
      result = await this.d.stacks.preview(spec, { onProgress: ctx.onProgress, signal: ctx.signal });
    } catch (err) {
      throw previewFailure(err, id);
    }
    const drifted = result.resources.length > 0;
    const pureCheck = !changes.mindroomImage && !changes.synapseImage && !changes.values;
    if (pureCheck) this.d.registry.merge(id, { drift: drifted ? "drifted" : "clean", drift_checked_at: new Date().toISOString() });
    return { instance_id: id, drifted, ...result };
  }

  private requireProvisioned(id: string): void {
    const view = this.d.registry.get(id);
    if (!view || view.status === "deprovisioned") throw new Failure("not_found", `Instance ${id} is not provisioned`);
  }

  private requireEngine(what: string): void {
    if (this.d.engineUnavailable) throw new Failure("unavailable", `${what} is not available in this environment: ${this.d.engineUnavailable}`);
  }
}

function previewFailure(err: unknown, id: string): Failure {
  const cause = err instanceof PreparationFailed ? err.cause : err;
  if (cause instanceof Failure) return cause;
  if (cause instanceof StackNotFound) return new Failure("not_found", `Instance ${id} has no stack to preview`);
  if (cause instanceof StackBusy) return new Failure("conflict", cause.message);
  if (cause instanceof EngineError || cause instanceof ValuesError) return new Failure("failed", `Preview of instance ${id} failed: ${shortReason(cause, 300)}`);
  return new Failure("failed", `Preview of instance ${id} failed unexpectedly; see provisioner logs`);
}
