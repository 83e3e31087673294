/**
 * Start, stop, restart (spec provisioner.md §4.2–§4.4, §7) act on the Deployments directly, as
 * upstream; uninstall (§4.5, §7.4, Deviation 9) is a destroy job on the tenant's queue.
 */
import type { JobRunner } from "../jobs/runner";
import type { JobContext, JobQueue, JobRecord } from "../jobs/types";
import { EngineError, StackBusy, StackNotFound, type DesiredState, type TenantKube, type TenantStacks } from "../ports";
import { Failure, shortReason } from "../errors";
import type { InstanceRegistry, Logger } from "./registry";
import { TENANT_NAMESPACE, tenantObjectNames, tenantVolumes } from "../../infra/tenant-names";

export interface ActionResult {
  success: boolean;
  message: string;
}

export interface UninstallResult extends ActionResult {
  /** PVCs left in the cluster (Deviation 9); empty when `delete_data=true`. */
  kept_volumes: string[];
}

export interface UninstallParams extends Record<string, unknown> {
  instance_id: string;
  delete_data: boolean;
}

type Verb = "start" | "stop" | "restart";

const names = tenantObjectNames;

export interface LifecycleDeps {
  stacks: TenantStacks;
  kube: TenantKube;
  registry: InstanceRegistry;
  runner: JobRunner;
  log: Logger;
  /** Set when the Pulumi engine is unusable (known at boot): uninstall answers 503 before any write. */
  engineUnavailable?: string;
  /** Set when no Kubernetes credentials exist (known at boot): start/stop/restart answer 503 with the fix. */
  kubeUnavailable?: string;
}

export class LifecycleService {
  private readonly uninstallJobs: JobQueue<UninstallParams>;

  constructor(private readonly d: LifecycleDeps) {
    this.uninstallJobs = d.runner.define<UninstallParams>("uninstall", (ctx) => this.uninstall(ctx.params, ctx));
  }

  /** Queues the destroy behind the instance's earlier requests (an uninstall never overtakes a re-provision). */
  requestUninstall(id: string, deleteData: boolean): Promise<JobRecord> {
    if (this.d.engineUnavailable) throw new Failure("unavailable", `Tenant uninstall is not available in this environment: ${this.d.engineUnavailable}`);
    return this.d.runner.inOrder(id, () => this.uninstallJobs.submit(id, { instance_id: id, delete_data: deleteData }));
  }

  start(id: string): Promise<ActionResult> {
    return this.act(id, "start", [names(id).synapse, names(id).mindroom], (name) => this.d.kube.scale(name, 1), "running");
  }

  stop(id: string): Promise<ActionResult> {
    // MindRoom first, so the app does not keep reconnecting to a vanished homeserver.
    return this.act(id, "stop", [names(id).mindroom, names(id).synapse], (name) => this.d.kube.scale(name, 0), "stopped");
  }

  restart(id: string): Promise<ActionResult> {
    return this.act(id, "restart", [names(id).synapse, names(id).mindroom], (name) => this.d.kube.restart(name), null);
  }

  private async act(id: string, verb: Verb, order: string[], action: (name: string) => Promise<void>, state: DesiredState | null): Promise<ActionResult> {
    // Upstream answers 404 for any failed read; without credentials at all that would hide the cause.
    if (this.d.kubeUnavailable) throw new Failure("unavailable", `Instance ${verb} is not available in this environment: ${this.d.kubeUnavailable}`);
    const past = { start: "started", stop: "stopped", restart: "restarted" }[verb];
    const label = { start: "Starting", stop: "Stopping", restart: "Restarting" }[verb];
    // Upstream treats every read failure as "missing" (masks real errors; kept).
    const exists = await this.d.kube.deploymentExists(names(id).mindroom).catch(() => false);
    if (!exists) throw new Failure("not_found", `Deployment deployment/${names(id).mindroom} not found`);
    this.d.log.info({ instance_id: id }, `${label} instance ${id}`);
    for (const name of order) {
      try {
        await action(name);
      } catch (err) {
        const what = verb === "restart" ? "rollout restart" : "scale";
        throw new Failure("failed", `Failed to ${verb} instance: Kubernetes ${what} failed for deployment/${name}: ${shortReason(err)}`);
      }
    }
    if (state) {
      // Recorded on the stack so list/sync know the intent; a tenant without a stack (still on Helm) is fine.
      await this.d.stacks.setDesiredState(id, state).catch((err) => {
        if (!(err instanceof StackNotFound)) this.d.log.warn({ instance_id: id, err: shortReason(err) }, "could not record the desired state on the stack");
      });
      await this.d.registry.record(id, { status: state, desired_state: state });
    }
    return { success: true, message: `Instance ${id} ${past} successfully` };
  }

  /** The destroy job: missing stack counts as already uninstalled; PVCs kept unless `delete_data`. */
  private async uninstall(params: UninstallParams, ctx: JobContext<UninstallParams>): Promise<UninstallResult> {
    const id = params.instance_id;
    this.d.log.info({ instance_id: id, delete_data: params.delete_data }, `Uninstalling instance ${id}`);
    // From now on this job owns the row: an earlier provision still waiting for readiness stays quiet.
    if (this.d.registry.has(id)) this.d.registry.merge(id, { last_job_id: ctx.job.job_id });
    let kept: string[];
    try {
      kept = (await this.d.stacks.destroy(id, { onProgress: ctx.onProgress, signal: ctx.signal })).keptVolumes;
    } catch (err) {
      const failure =
        err instanceof StackBusy
          ? new Failure("conflict", err.message)
          : ctx.signal.aborted
            ? new Failure("failed", `Failed to uninstall instance: the destroy of instance ${id} was aborted (timeout or shutdown)`)
            : err instanceof EngineError
              ? new Failure("failed", `Failed to uninstall instance: ${shortReason(err)}`)
              : new Failure("failed", "Failed to uninstall instance: unexpected error; see provisioner logs");
      if (!(err instanceof EngineError || err instanceof StackBusy)) this.d.log.error({ instance_id: id, err: shortReason(err) }, "uninstall failed unexpectedly");
      if (this.d.registry.has(id)) await this.d.registry.record(id, { last_error: failure.detail, last_job_id: ctx.job.job_id });
      throw failure;
    }
    if (params.delete_data) {
      // The one place tenant data is deleted. Without a stack (uninstalled before, kept data) the
      // tenant's PVCs still go by their names; a missing PVC counts as deleted.
      const volumes = kept.length > 0 ? kept : tenantVolumes(id);
      const failed: string[] = [];
      for (const pvc of volumes) {
        try {
          await this.d.kube.deletePvc(pvc);
        } catch (err) {
          failed.push(pvc);
          this.d.log.error({ instance_id: id, pvc, err: shortReason(err) }, "could not delete a PVC after the destroy");
        }
      }
      if (failed.length > 0) {
        const detail =
          `Failed to uninstall instance: stack destroyed but could not delete PVC(s) ${failed.join(", ")}; ` +
          `finish with: kubectl -n ${TENANT_NAMESPACE} delete pvc ${failed.join(" ")}`;
        if (this.d.registry.has(id)) await this.d.registry.record(id, { status: "deprovisioned", desired_state: undefined, last_error: detail, last_job_id: ctx.job.job_id });
        throw new Failure("failed", detail);
      }
      ctx.onProgress({ at: new Date().toISOString(), message: `deleted volumes ${volumes.join(", ")}` });
      kept = [];
    }
    if (this.d.registry.has(id)) {
      // Nothing of the tenant runs or should: the view drops its desired state (as the boot load does).
      await this.d.registry.record(id, { status: "deprovisioned", desired_state: undefined, last_error: null, last_job_id: ctx.job.job_id });
    }
    return { success: true, message: `Instance ${id} uninstalled successfully`, kept_volumes: kept };
  }
}
