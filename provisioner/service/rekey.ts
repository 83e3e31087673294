/**
 * The move of the tenant stacks to their own passphrase (docs/rekey.md): `POST /system/rekey` is
 * one `rekey` job that drives one `rekey-stack` job per tenant stack. Each child runs in its
 * tenant's queue (behind that tenant's earlier operations, never beside them) and calls
 * `TenantStacks.changePassphrase`: a stack already on the provisioner's passphrase is skipped
 * (`already`), any other is re-encrypted (`moved`). The parent's checkpoint (the tenants, and the
 * child of each) is durable, so a restart resumes it; a child a restart interrupted gets a second
 * run, after the runner's recovery (which finishes a half-done move itself). Repeating the request
 * is safe: while a rekey is queued or running the same job is answered, and a later one finds
 * every moved stack `already`.
 */
import type { ProvisionerConfig } from "../config";
import { Failure, shortReason } from "../errors";
import type { JobRunner } from "../jobs/runner";
import { isFinished } from "../jobs/runner";
import type { JobContext, JobQueue, JobRecord } from "../jobs/types";
import { EngineError, StackBusy, StackNotFound, type PassphraseChange, type TenantStacks } from "../ports";
import type { Logger } from "./registry";

/** The queue rekey jobs run in: one at a time. */
export const REKEY_QUEUE = "rekey";

export interface RekeyOptions {
  /** Only these tenants (default: every tenant stack of this environment, read from the backend when the job starts). */
  instance_ids?: string[];
  /** Stacks moved at once (default: the provisioner's global cap). */
  concurrency?: number;
  /** Failed stacks after which no new one starts (default 1: a wrong previous passphrase fails every stack alike). */
  max_failures?: number;
}

export interface RekeyParams extends Record<string, unknown> {
  instance_ids?: string[];
  concurrency: number;
  max_failures: number;
}

export interface RekeyStackParams extends Record<string, unknown> {
  instance_id: string;
  rekey_job_id: string;
}

export interface RekeyStackResult extends Record<string, unknown> {
  instance_id: string;
  status: PassphraseChange["status"];
}

export interface RekeyOutcome {
  instance_id: string;
  /** `moved`, `already` (was on the provisioner's passphrase), `failed`, or `skipped` (not started, or its stack is gone). */
  status: "moved" | "already" | "failed" | "skipped";
  job_id?: string;
  error?: string;
}

export interface RekeySummary extends Record<string, unknown> {
  total: number;
  moved: number;
  already: number;
  failed: number;
  skipped: number;
  stopped_early: boolean;
  instances: RekeyOutcome[];
}

interface RekeyState extends Record<string, unknown> {
  /** The tenants of this run, fixed when it first started. */
  instance_ids: string[];
  /** Child job per tenant, once started. */
  children: Record<string, string>;
  /** Tenants whose child a restart interrupted and that got a second one. */
  retried: string[];
}

export interface RekeyDeps {
  config: ProvisionerConfig;
  stacks: TenantStacks;
  runner: JobRunner;
  log: Logger;
  engineUnavailable?: string;
}

export class RekeyService {
  private readonly rekeys: JobQueue<RekeyParams>;
  private readonly children: JobQueue<RekeyStackParams>;

  constructor(private readonly d: RekeyDeps) {
    // The parent only waits for its children: no global slot, no time limit of its own, resumed after a restart.
    this.rekeys = d.runner.define<RekeyParams>("rekey", (ctx) => this.run(ctx), { usesGlobalSlot: false, resumable: true, timeoutMs: null });
    this.children = d.runner.define<RekeyStackParams>("rekey-stack", (ctx) => this.moveOne(ctx));
  }

  /**
   * `POST /system/rekey`. Answers the rekey still queued or running, if any (`existing`), instead of
   * queueing a second. @throws Failure unavailable without the engine or with a KMS secrets provider
   */
  rekey(options: RekeyOptions = {}): { job: JobRecord; existing: boolean } {
    if (this.d.engineUnavailable) throw new Failure("unavailable", `Rekey is not available in this environment: ${this.d.engineUnavailable}`);
    const provider = this.d.config.pulumiSecretsProvider;
    if (provider && provider !== "passphrase") {
      throw new Failure("unavailable", "Rekey does not apply: the tenant stacks use a KMS secrets provider (PULUMI_SECRETS_PROVIDER), not a passphrase");
    }
    const running = this.d.runner.list({ kind: "rekey" }).find((j) => !isFinished(j));
    if (running) return { job: running, existing: true };
    const params: RekeyParams = {
      ...(options.instance_ids ? { instance_ids: [...new Set(options.instance_ids)] } : {}),
      concurrency: options.concurrency ?? this.d.config.concurrency,
      max_failures: options.max_failures ?? 1,
    };
    return { job: this.rekeys.submit(REKEY_QUEUE, params), existing: false };
  }

  private async run(ctx: JobContext<RekeyParams>): Promise<RekeySummary> {
    const p = ctx.params;
    const saved = ctx.job.state as Partial<RekeyState> | undefined;
    let ids = saved?.instance_ids;
    if (!ids) {
      const listed = p.instance_ids ?? (await this.d.stacks.list({ tags: false }).catch((err: unknown) => {
        throw new Failure("failed", `Rekey could not list the tenant stacks: ${shortReason(err)}`);
      })).map((s) => s.instanceId);
      ids = [...new Set(listed)].sort((a, b) => Number(a) - Number(b));
    }
    const state: RekeyState = { children: {}, retried: [], ...saved, instance_ids: ids };
    ctx.checkpoint(state);
    const outcomes = new Map<string, RekeyOutcome>();
    const inFlight = new Map<string, Promise<RekeyOutcome>>();
    const failed = () => [...outcomes.values()].filter((o) => o.status === "failed").length;
    const done = (o: RekeyOutcome) => {
      outcomes.set(o.instance_id, o);
      inFlight.delete(o.instance_id);
      ctx.onProgress({ at: new Date().toISOString(), message: `${outcomes.size}/${ids.length} instance ${o.instance_id}: ${o.status}${o.error ? `: ${o.error}` : ""}` });
      ctx.report(summary(ids, outcomes, false));
    };
    const track = (id: string, jobId: string) => inFlight.set(id, this.settle(id, jobId, state, ctx));
    for (const [id, jobId] of Object.entries(state.children)) track(id, jobId);
    const pending = ids.filter((id) => !(id in state.children));
    if (Object.keys(state.children).length > 0) ctx.onProgress({ at: new Date().toISOString(), message: `resumed: ${Object.keys(state.children).length} started before the restart, ${pending.length} to go` });
    else ctx.onProgress({ at: new Date().toISOString(), message: `moving ${ids.length} tenant stack(s) to the provisioner's passphrase` });
    while (pending.length > 0 || inFlight.size > 0) {
      while (pending.length > 0 && inFlight.size < p.concurrency && failed() < p.max_failures && !ctx.signal.aborted) {
        const id = pending.shift()!;
        try {
          const child = await this.submitChild(id, ctx.job.job_id);
          state.children[id] = child.job_id;
          ctx.checkpoint(state);
          track(id, child.job_id);
        } catch (err) {
          done({ instance_id: id, status: "failed", error: err instanceof Failure ? err.detail : shortReason(err) });
        }
      }
      if (inFlight.size === 0) break;
      done(await Promise.race(inFlight.values()));
    }
    if (ctx.signal.aborted) throw new Failure("failed", `Rekey stopped (shutdown or abort) after ${outcomes.size} of ${ids.length} instances`);
    for (const id of pending) outcomes.set(id, { instance_id: id, status: "skipped" });
    const result = summary(ids, outcomes, pending.length > 0);
    ctx.onProgress({
      at: new Date().toISOString(),
      message: `finished: ${result.moved} moved, ${result.already} already on the passphrase, ${result.failed} failed, ${result.skipped} skipped${result.stopped_early ? ` (stopped after ${result.failed} failure(s), max_failures ${p.max_failures})` : ""}`,
    });
    return result;
  }

  /** One child in the tenant's queue, in arrival order with the tenant's other requests. */
  private submitChild(id: string, rekeyJobId: string): Promise<JobRecord> {
    return this.d.runner.inOrder(id, () => this.children.submit(id, { instance_id: id, rekey_job_id: rekeyJobId }));
  }

  /** Waits for a child; one a restart interrupted gets a second run (once). */
  private async settle(id: string, jobId: string, state: RekeyState, ctx: JobContext<RekeyParams>): Promise<RekeyOutcome> {
    let job = this.d.runner.get(jobId);
    while (job && !isFinished(job) && !ctx.signal.aborted) job = await this.d.runner.wait(jobId, 60_000, ctx.signal);
    if (!job) return { instance_id: id, status: "failed", job_id: jobId, error: `job ${jobId} is gone (pruned)` };
    if (job.status === "failed" && job.interrupted && !state.retried.includes(id) && !ctx.signal.aborted) {
      state.retried.push(id);
      const again = await this.submitChild(id, ctx.job.job_id);
      state.children[id] = again.job_id;
      ctx.checkpoint(state);
      return this.settle(id, again.job_id, state, ctx);
    }
    if (job.status === "succeeded") return { instance_id: id, status: (job.result as RekeyStackResult).status, job_id: jobId };
    if (job.status === "failed" && job.error?.status_code === 404) return { instance_id: id, status: "skipped", job_id: jobId, error: job.error.detail };
    if (job.status === "failed") return { instance_id: id, status: "failed", job_id: jobId, error: job.error?.detail };
    return { instance_id: id, status: "skipped", job_id: jobId, error: "rekey stopped before this instance finished" };
  }

  /** The child: one stack moved (or found moved already). */
  private async moveOne(ctx: JobContext<RekeyStackParams>): Promise<RekeyStackResult> {
    const id = ctx.params.instance_id;
    try {
      const { status } = await this.d.stacks.changePassphrase(id, { onProgress: ctx.onProgress, signal: ctx.signal });
      return { instance_id: id, status };
    } catch (err) {
      if (err instanceof StackNotFound) throw new Failure("not_found", `Instance ${id} has no stack (uninstalled meanwhile?); nothing to move`);
      if (err instanceof StackBusy) throw new Failure("conflict", err.message);
      if (err instanceof EngineError) throw new Failure("failed", shortReason(err, 300));
      this.d.log.error({ instance_id: id, err: shortReason(err) }, "rekey of a tenant stack failed unexpectedly");
      throw new Failure("failed", `Rekey of instance ${id} failed unexpectedly; see provisioner logs`);
    }
  }
}

function summary(ids: string[], outcomes: Map<string, RekeyOutcome>, stoppedEarly: boolean): RekeySummary {
  const list = ids.flatMap((id) => (outcomes.has(id) ? [outcomes.get(id)!] : []));
  const count = (s: RekeyOutcome["status"]) => list.filter((o) => o.status === s).length;
  return { total: ids.length, moved: count("moved"), already: count("already"), failed: count("failed"), skipped: count("skipped"), stopped_early: stoppedEarly, instances: list };
}
