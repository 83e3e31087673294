/**
 * Provisioning (spec provisioner.md §6) and upgrades. `provision` runs inside the request
 * (validation, id allocation, row insert/update, the job) so the 202 carries the final id and URLs;
 * the `provision` job is the body from §6.4 on. An `upgrade` job re-applies a provisioned tenant
 * with what it has (tier, account, settings, desired state) plus the requested changes; the fleet
 * rollout submits one per tenant. Both end with the readiness wait after the tenant's slot is released.
 */
import { TENANT_NAMESPACE, tenantObjectNames } from "../../infra/tenant-names";
import { ValuesError } from "../../infra/values/errors";
import { mergeValues } from "../../infra/values/load";
import type { ProvisionerConfig } from "../config";
import { Failure, shortReason, withoutSecrets } from "../errors";
import type { JobRunner } from "../jobs/runner";
import type { JobContext, JobQueue, JobRecord } from "../jobs/types";
import { EngineError, StackBusy, StackNotFound, type DesiredState, type InstanceMirror, type TenantKube, type TenantSettings, type TenantStacks, type UpResult } from "../ports";
import type { IdAllocator } from "./ids";
import { normaliseTier } from "./plans";
import { Readiness } from "./readiness";
import type { InstanceRegistry, InstanceView, Logger } from "./registry";
import { PreparationFailed, recordedSettings, TenantSpecBuilder, type TenantInput } from "./tenant-spec";
import { tenantUrls, type TenantUrls } from "./urls";

export interface ProvisionRequest {
  subscription_id?: string;
  /** Omitted on a re-provision: the tenant keeps its account. `null`: no owner (upstream `None`). */
  account_id?: string | null;
  /** Omitted: `free` for a new tenant, the tenant's own tier on a re-provision. */
  tier?: string;
  instance_id?: number | string | null;
  enable_credentials_encryption?: boolean;
}

/** Job parameters: everything `run` needs, nothing secret (secrets are derived again in the job). */
export interface ProvisionParams extends Record<string, unknown> {
  instance_id: string;
  is_new: boolean;
  account_id: string | null;
  tier: string;
  enable_credentials_encryption: boolean;
  /** The DB integer for a new row, the given id's string form for a re-provision (upstream). */
  customer_id: number | string;
  /** A new tenant's subscription, to write its row again if a crash lost it (records before this field lack it). */
  subscription_id?: string | null;
}

/** A provision up to its job: the job's params, and the row write the job depends on. */
interface Admission {
  params: ProvisionParams;
  row: Promise<void>;
}

/**
 * A row write on the request path as the error the caller gets, marked handled at once: it is
 * awaited only when the job record is (JobRunner.submitDurable), a few ticks later.
 */
function rowWrite(what: "insert" | "update", write: Promise<void>): Promise<void> {
  const row = write.catch((err: unknown) => {
    throw new Failure("failed", `Failed to ${what} instance: ${shortReason(err)}`);
  });
  row.catch(() => undefined);
  return row;
}

/** What an upgrade changes; nothing re-applies the tenant as it is (the current component). */
export type UpgradeChanges = Pick<TenantSettings, "mindroomImage" | "synapseImage" | "values">;

export interface UpgradeParams extends Record<string, unknown> {
  instance_id: string;
  changes: UpgradeChanges;
  /** The rollout that submitted it, if any. */
  rollout_job_id?: string;
}

export interface ProvisionResult extends TenantUrls {
  customer_id: number | string;
  success: true;
  message: string;
}

export interface UpgradeResult {
  instance_id: string;
  success: true;
  message: string;
  desired_state: DesiredState;
  /** Resource changes of the `up`, e.g. {update: 1, same: 11}. */
  changes: Record<string, number>;
}

export const READY_MESSAGE = "Instance provisioned successfully";
export const NOT_READY_MESSAGE = "Provisioning started; instance is getting ready";

/** What an operator runs when the provisioner could not remove the records itself (same selection as `deleteHelmReleaseRecords`). */
export const manualHelmRecordRemoval = (instanceId: string) =>
  `kubectl -n ${TENANT_NAMESPACE} delete secret -l owner=helm,name=${tenantObjectNames(instanceId).helmRelease} --field-selector type=helm.sh/release.v1`;

export interface ProvisioningDeps {
  config: ProvisionerConfig;
  stacks: TenantStacks;
  kube: TenantKube;
  mirror: InstanceMirror;
  registry: InstanceRegistry;
  ids: IdAllocator;
  runner: JobRunner;
  log: Logger;
  fetch?: typeof fetch;
  /** Readiness poll interval (default 5 s); tests shorten it. */
  readinessPollMs?: number;
  /** Set when the Pulumi engine is unusable (known at boot): provisioning answers 503 before any write. */
  engineUnavailable?: string;
}

/** Accepted: the job, and what the 202 reports about the tenant. */
export interface Accepted {
  job: JobRecord;
  params: ProvisionParams;
}

export class ProvisioningService {
  private readonly acceptingSubscriptions = new Map<string, Promise<Admission>>();
  private readonly specs: TenantSpecBuilder;
  private readonly readiness: Readiness;
  private readonly provisionJobs: JobQueue<ProvisionParams>;
  private readonly upgradeJobs: JobQueue<UpgradeParams>;

  constructor(private readonly d: ProvisioningDeps) {
    this.specs = new TenantSpecBuilder(d);
    this.readiness = new Readiness({ kube: d.kube, registry: d.registry, log: d.log, backgroundSeconds: d.config.readinessBackgroundSeconds, pollMs: d.readinessPollMs });
    this.provisionJobs = d.runner.define<ProvisionParams>("provision", (ctx) => this.run(ctx.params, ctx));
    this.upgradeJobs = d.runner.define<UpgradeParams>("upgrade", (ctx) => this.runUpgrade(ctx.params, ctx));
  }

  /**
   * `POST /system/provision` up to the 202: a new id is known to nobody before its 202; a given one
   * keeps its place among that instance's requests (an uninstall sent after it runs after it).
   */
  async provision(req: ProvisionRequest, jobId: string): Promise<Accepted> {
    this.requireEngine("Tenant provisioning");
    const admit = async (): Promise<Accepted> => {
      const { params, row } = await this.accept(req, jobId);
      // The row write and the job record go to disk at the same time; the job runs only if both landed.
      return { params, job: await this.provisionJobs.submitDurable(params.instance_id, params, jobId, row) };
    };
    const reprovision = req.instance_id !== undefined && req.instance_id !== null;
    return reprovision ? this.d.runner.inOrder(String(req.instance_id), admit) : admit();
  }

  /** Queues an upgrade of one provisioned tenant behind its other operations. @throws Failure not_found */
  async upgrade(instanceId: string, changes: UpgradeChanges, rolloutJobId?: string): Promise<JobRecord> {
    this.requireEngine("Tenant upgrade");
    return this.d.runner.inOrder(instanceId, () => {
      const view = this.d.registry.get(instanceId);
      if (!view || view.status === "deprovisioned") throw new Failure("not_found", `Instance ${instanceId} is not provisioned; nothing to upgrade`);
      return this.upgradeJobs.submit(instanceId, { instance_id: instanceId, changes, ...(rolloutJobId ? { rollout_job_id: rolloutJobId } : {}) });
    });
  }

  urls(instanceId: string): TenantUrls {
    return tenantUrls(instanceId, this.d.config.baseDomain);
  }

  /**
   * What an upgrade of this tenant would apply: its tier, account and desired state from its
   * record, its settings from its stack (the last `up`'s `settings` output) with `changes` over them.
   * @throws Failure not_found when the tenant is not provisioned or has no stack (still on Helm)
   */
  async upgradeInput(id: string, changes: UpgradeChanges): Promise<TenantInput> {
    const view = this.d.registry.get(id);
    if (!view || view.status === "deprovisioned") throw new Failure("not_found", `Instance ${id} is not provisioned; nothing to upgrade`);
    const recorded = await this.recorded(id);
    if (recorded === null) throw new Failure("not_found", `Instance ${id} has no stack (a Helm-era tenant?): re-provision it once with instance_id ${id}, then upgrade`);
    return {
      instanceId: id,
      isNew: false,
      accountId: view.account_id ?? null,
      tier: normaliseTier(view.tier) ?? "free",
      desiredState: desiredStateOf(view),
      settings: mergeSettings(recorded, changes),
    };
  }

  /** The settings a tenant's stack recorded; null when it has no stack. */
  private async recorded(id: string): Promise<TenantSettings | null> {
    try {
      return recordedSettings(await this.d.stacks.outputs(id));
    } catch (err) {
      if (err instanceof StackNotFound) return null;
      throw new Failure("failed", `Cannot read the stack of instance ${id}: ${shortReason(err)}`);
    }
  }

  /**
   * §6.1: before the 202. Re-provision → row to `provisioning` (404 when unknown); new → allocate
   * and insert. The registry knows the tenant when this resolves; its row is on its way to the
   * outbox (`row`, a Failure when it cannot be written).
   */
  private async accept(req: ProvisionRequest, jobId: string): Promise<Admission> {
    if (req.instance_id !== undefined && req.instance_id !== null) {
      const id = String(req.instance_id);
      if (!(await this.known(id))) throw new Failure("not_found", `Instance ${id} not found`);
      return this.acceptExisting(id, req, jobId, { customerId: id, viaSubscription: false });
    }
    // A retry for the same subscription (an interrupted or failed provision, a lost answer) must not
    // create a second tenant: concurrent first requests for one subscription wait for each other,
    // then an instance that subscription already has (and that is not uninstalled) is re-provisioned.
    const sub = req.subscription_id ? req.subscription_id.toLowerCase() : null;
    if (!sub) return this.acceptNew(req, jobId);
    const prior = this.acceptingSubscriptions.get(sub);
    const mine = (async () => {
      if (prior) await prior.catch(() => undefined);
      const existing = this.d.registry.forSubscription(sub);
      if (!existing) return this.acceptNew(req, jobId);
      const id = existing.instance_id;
      this.d.log.info({ instance_id: id }, `Provisioning for subscription ${req.subscription_id}: instance ${id} already exists, re-provisioning it`);
      return this.acceptExisting(id, req, jobId, { customerId: /^\d+$/.test(id) ? Number(id) : id, viaSubscription: true });
    })();
    this.acceptingSubscriptions.set(sub, mine);
    try {
      return await mine;
    } finally {
      if (this.acceptingSubscriptions.get(sub) === mine) this.acceptingSubscriptions.delete(sub);
    }
  }

  /** A re-provision keeps what the tenant has (tier, account, subscription) unless the request sets it. */
  private acceptExisting(
    id: string,
    req: ProvisionRequest,
    jobId: string,
    how: { customerId: number | string; viaSubscription: boolean },
  ): Admission {
    const view = this.d.registry.get(id);
    const tier = normaliseTier(req.tier) ?? normaliseTier(view?.tier) ?? "free";
    const account = req.account_id !== undefined ? req.account_id : (view?.account_id ?? null);
    const changes = {
      status: "provisioning" as const,
      tier,
      account_id: account,
      ...(req.subscription_id && !how.viaSubscription ? { subscription_id: req.subscription_id } : {}),
      stack_name: this.d.stacks.stackName(id),
      last_job_id: jobId,
      last_error: null,
    };
    const row = rowWrite("update", this.d.registry.record(id, changes, true));
    this.d.log.info({ instance_id: id, tier }, `Re-provisioning instance ${id} with tier ${tier}`);
    // A retry of a first provision (same subscription) of a tenant this project created (it has a
    // stack name) keeps the encryption a new tenant gets, even when its first run died before the Secret existed.
    const optIn = req.enable_credentials_encryption === true || (how.viaSubscription && Boolean(view?.stack_name));
    return { params: { instance_id: id, is_new: false, account_id: account, tier, enable_credentials_encryption: optIn, customer_id: how.customerId }, row };
  }

  /** A new tenant: allocate an id and insert its row. */
  private async acceptNew(req: ProvisionRequest, jobId: string): Promise<Admission> {
    const account = req.account_id ?? null;
    const tier = normaliseTier(req.tier) ?? "free";
    const numeric = await this.d.ids.allocate();
    const id = String(numeric);
    const subscription = req.subscription_id ?? null;
    const row = rowWrite("insert", this.insertRow(id, { subscription_id: subscription, account_id: account, tier, last_job_id: jobId, created_at: new Date().toISOString() }));
    this.d.log.info({ instance_id: id, tier }, `Provisioning for subscription ${req.subscription_id}, new id ${id}, tier ${tier}`);
    const params = { instance_id: id, is_new: true, account_id: account, tier, enable_credentials_encryption: req.enable_credentials_encryption === true, customer_id: numeric, subscription_id: subscription };
    return { params, row };
  }

  /** A new tenant's row (registry and mirror), as accepted. */
  private insertRow(id: string, row: { subscription_id: string | null; account_id: string | null; tier: string; last_job_id: string; created_at: string }): Promise<void> {
    const fields = { ...row, status: "provisioning" as const, stack_name: this.d.stacks.stackName(id), last_error: null };
    return this.d.registry.record(id, fields, true);
  }

  /** The provision job. Failures before the deploy block leave the row `provisioning`; inside it, `error`. */
  private async run(params: ProvisionParams, ctx: JobContext<ProvisionParams>): Promise<ProvisionResult> {
    const id = params.instance_id;
    if (params.is_new && !this.d.registry.has(id)) await this.restoreRow(params, ctx.job);
    // A re-provision keeps the images and overrides a fleet upgrade gave the tenant.
    const recorded = params.is_new ? {} : ((await this.recorded(id)) ?? {});
    const settings: TenantSettings = { ...recorded, ...(params.enable_credentials_encryption || recorded.credentialsEncryption ? { credentialsEncryption: true } : {}) };
    await this.deploy({ instanceId: id, isNew: params.is_new, accountId: params.account_id, tier: params.tier, desiredState: "running", settings }, ctx);
    const pending: ProvisionResult = { customer_id: params.customer_id, ...this.urls(id), success: true, message: NOT_READY_MESSAGE };
    ctx.release(pending);
    const ready = await this.readiness.wait(id, this.d.config.readinessTimeoutSeconds * 1000, ctx.signal);
    // The tenant's slot is free by now: a later job (an uninstall, a re-provision) may already own
    // the row, and a readiness answer about the old objects must not overwrite its status.
    if (this.readiness.isLatestJob(id, ctx.job.job_id)) {
      await this.d.registry.record(id, { status: ready ? "running" : "provisioning", desired_state: "running", last_error: null });
      if (!ready) this.readiness.inBackground(id, ctx.job.job_id);
    }
    return { ...pending, message: ready ? READY_MESSAGE : NOT_READY_MESSAGE };
  }

  /**
   * A new tenant's job the boot found, but not its row: the row insert and the job record went to
   * disk together and a crash came between them. Written again, so the tenant is listed.
   */
  private async restoreRow(params: ProvisionParams, job: Readonly<JobRecord>): Promise<void> {
    const id = params.instance_id;
    if (!params.subscription_id) {
      this.d.log.warn({ instance_id: id }, `Instance ${id} has no row and its job does not name its subscription: insert the row, or re-provision with its subscription_id once this job ended`);
      return;
    }
    this.d.log.warn({ instance_id: id, job_id: job.job_id }, `Instance ${id} was accepted but its row was lost in a restart; writing it again`);
    await this.insertRow(id, { subscription_id: params.subscription_id, account_id: params.account_id, tier: params.tier, last_job_id: job.job_id, created_at: job.created_at });
  }

  /** The upgrade job: stopped tenants stay stopped; a running one must become ready in time, or the job fails. */
  private async runUpgrade(params: UpgradeParams, ctx: JobContext<UpgradeParams>): Promise<UpgradeResult> {
    const id = params.instance_id;
    const input = await this.upgradeInput(id, params.changes ?? {});
    const up = await this.deploy(input, ctx);
    const result: UpgradeResult = { instance_id: id, success: true, message: `Instance ${id} upgraded`, desired_state: input.desiredState, changes: up.changes };
    ctx.release(result);
    if (input.desiredState === "stopped") {
      if (this.readiness.isLatestJob(id, ctx.job.job_id)) await this.d.registry.record(id, { status: "stopped", desired_state: "stopped", last_error: null });
      return { ...result, message: `Instance ${id} upgraded (stopped, left stopped)` };
    }
    const seconds = this.d.config.readinessTimeoutSeconds;
    const ready = await this.readiness.wait(id, seconds * 1000, ctx.signal);
    if (!ready) {
      const detail = `Instance ${id} was upgraded but is not ready after ${seconds} s; check its pods (GET /system/instances/${id}/logs) and upgrade again or roll back with the previous image`;
      if (this.readiness.isLatestJob(id, ctx.job.job_id)) {
        await this.d.registry.record(id, { status: "provisioning", last_error: detail });
        this.readiness.inBackground(id, ctx.job.job_id);
      }
      throw new Failure("failed", detail);
    }
    if (this.readiness.isLatestJob(id, ctx.job.job_id)) await this.d.registry.record(id, { status: "running", desired_state: "running", last_error: null });
    return result;
  }

  /** The stack update shared by provision and upgrade, then the removal of Helm-era release records. */
  private async deploy(input: TenantInput, ctx: JobContext<Record<string, unknown>>): Promise<UpResult> {
    const id = input.instanceId;
    // Every row write of this run names the stack and this job, also after a restart emptied memory.
    this.d.registry.merge(id, { stack_name: this.d.stacks.stackName(id), last_job_id: ctx.job.job_id });
    let secretValues: string[] = [];
    let up: UpResult;
    try {
      const built = await this.specs.build(input);
      secretValues = built.secretValues;
      up = await this.d.stacks.up(built.spec, { onProgress: ctx.onProgress, signal: ctx.signal });
    } catch (err) {
      if (err instanceof PreparationFailed) {
        await this.d.registry.record(id, { last_error: errorDetail(err.cause), last_job_id: ctx.job.job_id });
        throw err.cause;
      }
      const failure = this.deployFailure(err, ctx.signal, id, secretValues);
      await this.d.registry.record(id, { status: "error", last_error: failure.detail, last_job_id: ctx.job.job_id });
      throw failure;
    }
    // The up refreshed and re-applied the stack: whatever a drift report found is gone.
    if (this.d.registry.get(id)?.drift) this.d.registry.merge(id, { drift: "clean", drift_checked_at: new Date().toISOString() });
    // Only after a successful up: until the stack owns the objects, Helm must keep owning the tenant.
    await this.removeHelmRecords(id, ctx);
    return up;
  }

  /**
   * §6.11: a Helm-era tenant adopted by the `up` loses its Helm release records, so that nobody can
   * `helm uninstall` it any more. Best-effort: the tenant is provisioned either way, so a failure
   * is a warning and a progress event with the command to run by hand, never a failed job.
   */
  private async removeHelmRecords(id: string, ctx: JobContext<Record<string, unknown>>): Promise<void> {
    const release = tenantObjectNames(id).helmRelease;
    let deleted: string[];
    try {
      deleted = await this.d.kube.deleteHelmReleaseRecords(release);
    } catch (err) {
      const reason = shortReason(err, 100);
      const command = manualHelmRecordRemoval(id);
      this.d.log.warn({ instance_id: id, release, err: reason }, `Could not remove the Helm release records of ${release}; run by hand: ${command}`);
      // The command comes first: progress messages are capped at 300 characters.
      ctx.onProgress({ at: new Date().toISOString(), message: `Helm release records of ${release} not removed; run by hand: ${command} (${reason})` });
      return;
    }
    if (deleted.length === 0) return;
    this.d.log.info({ instance_id: id, release, records: deleted }, `Removed Helm release records ${deleted.join(", ")}: helm no longer manages instance ${id}`);
    ctx.onProgress({ at: new Date().toISOString(), message: `removed Helm release records ${deleted.join(", ")}` });
  }

  private deployFailure(err: unknown, signal: AbortSignal, id: string, secretValues: string[]): Failure {
    if (err instanceof Failure) return err;
    if (err instanceof StackBusy) return new Failure("conflict", err.message);
    if (signal.aborted) return new Failure("failed", `Tenant stack update of instance ${id} was aborted (timeout or shutdown); retry the request`);
    // The adapter's message is already a whole, redacted sentence ("Tenant stack update of instance 7 failed: …").
    if (err instanceof EngineError) return new Failure("failed", shortReason(err));
    // Invalid values, thrown by the tenant program before any CLI runs: the line names the value and the fix (§6.13 wording).
    if (err instanceof ValuesError) return new Failure("failed", `Failed to deploy instance: ${withoutSecrets(shortReason(err, 300), secretValues)}`);
    // An unexpected exception may quote the value it choked on: the log gets its line without known secrets.
    this.d.log.error({ instance_id: id, err: withoutSecrets(shortReason(err), secretValues) }, "tenant deploy failed unexpectedly");
    return new Failure("failed", "Failed to deploy instance: unexpected error; see provisioner logs");
  }

  private requireEngine(what: string): void {
    if (this.d.engineUnavailable) throw new Failure("unavailable", `${what} is not available in this environment: ${this.d.engineUnavailable}`);
  }

  /** Known = a stack, a registry entry or a mirror row exists for the id. */
  private async known(id: string): Promise<boolean> {
    if (this.d.registry.has(id)) return true;
    if (this.d.mirror.enabled) {
      try {
        const row = await this.d.mirror.get(id);
        if (row) {
          const { instance_id: _id, ...fields } = row;
          this.d.registry.merge(id, fields);
          return true;
        }
      } catch (err) {
        this.d.log.warn({ instance_id: id, err: shortReason(err) }, "mirror lookup failed; checking the stacks");
      }
    }
    // One `stack output --stack <name>` answers "does it exist"; listing every stack would spawn a
    // CLI process per tenant.
    try {
      await this.d.stacks.outputs(id);
      return true;
    } catch (err) {
      if (err instanceof StackNotFound) return false;
      throw new Failure("failed", `Failed to update instance: cannot read the tenant stack (${shortReason(err)})`);
    }
  }
}

/** What the tenant should be doing: its recorded intent, else what its status says. */
export function desiredStateOf(view: InstanceView): DesiredState {
  return view.desired_state ?? (view.status === "stopped" ? "stopped" : "running");
}

/** The recorded settings with an upgrade's changes over them (values merge; images replace). */
export function mergeSettings(recorded: TenantSettings, changes: UpgradeChanges): TenantSettings {
  return {
    ...recorded,
    ...(changes.mindroomImage ? { mindroomImage: changes.mindroomImage } : {}),
    ...(changes.synapseImage ? { synapseImage: changes.synapseImage } : {}),
    ...(changes.values ? { values: mergeValues(recorded.values ?? {}, changes.values) } : {}),
  };
}

function errorDetail(err: unknown): string {
  return err instanceof Failure ? err.detail : shortReason(err);
}
