/**
 * The provisioning routine (spec provisioner.md §6). `accept` runs inside the request (validation,
 * id allocation, row insert/update) so the 202 carries the final id and URLs; `run` is the job
 * body from §6.4 on: owner MXID, derived secrets, live-object decisions, the stack update, removal
 * of a Helm-era tenant's release records, then the readiness wait after the tenant's slot is released.
 */
import { derivationRoot, deriveInstanceSecret } from "../../infra/derived-secrets";
import { TENANT_NAMESPACE, tenantObjectNames } from "../../infra/tenant-names";
import { ValuesError } from "../../infra/values/errors";
import type { ProvisionerConfig } from "../config";
import type { JobContext } from "../jobs/runner";
import { EngineError, StackBusy, StackNotFound, type InstanceMirror, type TenantKube, type TenantStacks } from "../ports";
import { Failure, shortReason, withoutSecrets } from "../errors";
import type { IdAllocator } from "./ids";
import { openrouterKeyFor } from "./openrouter";
import { normaliseUuid, ownerMxid } from "./owner";
import type { InstanceRegistry, Logger } from "./registry";
import { rolloutHash } from "./rollout-hash";
import { credentialsKey, readTenantSecret, sandboxToken, storageClassFor, storedValue } from "./tenant-secrets";
import { buildTenantValues, type TenantSecrets } from "./tenant-values";
import { tenantUrls, urlColumns, type TenantUrls } from "./urls";

export interface ProvisionRequest {
  subscription_id?: string;
  account_id?: string | null;
  tier: string;
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
}

export interface ProvisionResult extends TenantUrls {
  customer_id: number | string;
  success: true;
  message: string;
}

interface Prepared {
  storageClassName: string | null;
  ownerMxid: string | null;
  /** The live tenant Secret (null for new ids or when absent). */
  live: Record<string, string> | null;
}

export const READY_MESSAGE = "Instance provisioned successfully";

/** What an operator runs when the provisioner could not remove the records itself (same selection as `deleteHelmReleaseRecords`). */
export const manualHelmRecordRemoval = (instanceId: string) =>
  `kubectl -n ${TENANT_NAMESPACE} delete secret -l owner=helm,name=${tenantObjectNames(instanceId).helmRelease} --field-selector type=helm.sh/release.v1`;
export const NOT_READY_MESSAGE = "Provisioning started; instance is getting ready";

export interface ProvisioningDeps {
  config: ProvisionerConfig;
  stacks: TenantStacks;
  kube: TenantKube;
  mirror: InstanceMirror;
  registry: InstanceRegistry;
  ids: IdAllocator;
  log: Logger;
  fetch?: typeof fetch;
  /** Readiness poll interval (default 5 s); tests shorten it. */
  readinessPollMs?: number;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const onAbort = () => (clearTimeout(t), resolve());
    const t = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

export class ProvisioningService {
  private readonly background = new Set<string>();
  private readonly acceptingSubscriptions = new Map<string, Promise<ProvisionParams>>();

  constructor(private readonly d: ProvisioningDeps) {}

  /** §6.1: before the 202. Re-provision → row to `provisioning` (404 when unknown); new → allocate and insert. */
  async accept(req: ProvisionRequest, jobId: string): Promise<ProvisionParams> {
    const { registry, stacks } = this.d;
    const account = req.account_id ?? null;
    if (req.instance_id !== undefined && req.instance_id !== null) {
      const id = String(req.instance_id);
      if (!(await this.known(id))) throw new Failure("not_found", `Instance ${id} not found`);
      try {
        await registry.record(id, { status: "provisioning", stack_name: stacks.stackName(id), last_job_id: jobId, last_error: null }, true);
      } catch (err) {
        throw new Failure("failed", `Failed to update instance: ${shortReason(err)}`);
      }
      this.d.log.info({ instance_id: id, tier: req.tier }, `Re-provisioning instance ${id} with tier ${req.tier}`);
      return { instance_id: id, is_new: false, account_id: account, tier: req.tier, enable_credentials_encryption: req.enable_credentials_encryption === true, customer_id: id };
    }
    // A retry for the same subscription (an interrupted or failed provision, a lost answer) must not
    // create a second tenant: concurrent first requests for one subscription wait for each other,
    // then an instance that subscription already has (and that is not uninstalled) is re-provisioned.
    const sub = req.subscription_id ? req.subscription_id.toLowerCase() : null;
    if (!sub) return this.acceptNew(req, jobId);
    const prior = this.acceptingSubscriptions.get(sub);
    const mine = (async () => {
      if (prior) await prior.catch(() => undefined);
      const existing = this.d.registry
        .all()
        .find((v) => typeof v.subscription_id === "string" && v.subscription_id.toLowerCase() === sub && v.status !== "deprovisioned");
      if (!existing) return this.acceptNew(req, jobId);
      const id = existing.instance_id;
      try {
        await registry.record(id, { status: "provisioning", tier: req.tier, stack_name: stacks.stackName(id), last_job_id: jobId, last_error: null }, true);
      } catch (err) {
        throw new Failure("failed", `Failed to update instance: ${shortReason(err)}`);
      }
      this.d.log.info({ instance_id: id, tier: req.tier }, `Provisioning for subscription ${req.subscription_id}: instance ${id} already exists, re-provisioning it with tier ${req.tier}`);
      // A tenant this project created (it has a stack name) keeps the encryption a new tenant gets,
      // even when its first run died before the Secret existed.
      const optIn = req.enable_credentials_encryption === true || Boolean(existing.stack_name);
      return { instance_id: id, is_new: false, account_id: account ?? existing.account_id ?? null, tier: req.tier, enable_credentials_encryption: optIn, customer_id: /^\d+$/.test(id) ? Number(id) : id };
    })();
    this.acceptingSubscriptions.set(sub, mine);
    try {
      return await mine;
    } finally {
      if (this.acceptingSubscriptions.get(sub) === mine) this.acceptingSubscriptions.delete(sub);
    }
  }

  /** A new tenant: allocate an id and insert its row. */
  private async acceptNew(req: ProvisionRequest, jobId: string): Promise<ProvisionParams> {
    const { registry, stacks } = this.d;
    const account = req.account_id ?? null;
    const numeric = await this.d.ids.allocate();
    const id = String(numeric);
    const now = new Date().toISOString();
    try {
      await registry.record(
        id,
        {
          subscription_id: req.subscription_id ?? null,
          account_id: account,
          status: "provisioning",
          tier: req.tier,
          created_at: now,
          stack_name: stacks.stackName(id),
          last_job_id: jobId,
          last_error: null,
        },
        true,
      );
    } catch (err) {
      throw new Failure("failed", `Failed to insert instance: ${shortReason(err)}`);
    }
    this.d.log.info({ instance_id: id, tier: req.tier }, `Provisioning for subscription ${req.subscription_id}, new id ${id}, tier ${req.tier}`);
    return { instance_id: id, is_new: true, account_id: account, tier: req.tier, enable_credentials_encryption: req.enable_credentials_encryption === true, customer_id: numeric };
  }

  urls(instanceId: string): TenantUrls {
    return tenantUrls(instanceId, this.d.config.baseDomain);
  }

  /** The job body. Failures before the deploy block leave the row `provisioning`; inside it, `error`. */
  async run(params: ProvisionParams, ctx: JobContext): Promise<ProvisionResult> {
    const id = params.instance_id;
    const urls = this.urls(id);
    // Every row write of this run names the stack and this job, also after a restart emptied memory.
    this.d.registry.merge(id, { stack_name: this.d.stacks.stackName(id), last_job_id: ctx.job.job_id });
    let prepared: Prepared;
    try {
      prepared = await this.prepare(params, urls);
    } catch (err) {
      await this.d.registry.record(id, { last_error: errorDetail(err), last_job_id: ctx.job.job_id });
      throw err;
    }
    let secretValues: string[] = [];
    try {
      const secrets = await this.secrets(params, prepared.live);
      secretValues = Object.values(secrets);
      const values = buildTenantValues(this.d.config, {
        instanceId: id,
        accountId: params.account_id,
        tier: params.tier,
        ownerMxid: prepared.ownerMxid,
        storageClassName: prepared.storageClassName,
        secrets,
        hash: rolloutHash(secrets),
      });
      await this.d.stacks.up(
        { instanceId: id, values, tags: { customer: id, account: params.account_id ?? "", tier: params.tier, desiredState: "running" } },
        { onProgress: ctx.onProgress, signal: ctx.signal },
      );
    } catch (err) {
      const failure = this.deployFailure(err, ctx.signal, id, secretValues);
      await this.d.registry.record(id, { status: "error", last_error: failure.detail, last_job_id: ctx.job.job_id });
      throw failure;
    }
    // Only after a successful up: until the stack owns the objects, Helm must keep owning the tenant.
    await this.removeHelmRecords(id, ctx);
    const pending: ProvisionResult = { customer_id: params.customer_id, ...urls, success: true, message: NOT_READY_MESSAGE };
    ctx.release(pending);
    const ready = await this.waitReady(id, this.d.config.readinessTimeoutSeconds * 1000, ctx.signal);
    // The tenant's slot is free by now: a later job (an uninstall, a re-provision) may already own
    // the row, and a readiness answer about the old objects must not overwrite its status.
    if (this.isLatestJob(id, ctx.job.job_id)) {
      await this.d.registry.record(id, { status: ready ? "running" : "provisioning", desired_state: "running", last_error: null });
      if (!ready) this.waitInBackground(id, ctx.job.job_id);
    }
    return { ...pending, message: ready ? READY_MESSAGE : NOT_READY_MESSAGE };
  }

  /** §6.4–§6.8 before the deploy block: owner, URLs row update, root secret, storage class, live Secret read. */
  private async prepare(params: ProvisionParams, urls: TenantUrls): Promise<Prepared> {
    const { config, mirror, registry, log } = this.d;
    const id = params.instance_id;
    let mxid: string | null = null;
    const uuid = normaliseUuid(params.account_id);
    if (uuid) {
      if (!mirror.enabled) throw new Failure("failed", `Supabase not configured: cannot look up the email of account ${uuid} for Matrix owner access`);
      let email: string | null;
      try {
        email = await mirror.accountEmail(uuid);
      } catch (err) {
        throw new Failure("failed", `Failed to look up the email of account ${uuid}: ${shortReason(err)}`);
      }
      if (email === null) throw new Failure("failed", `Account ${uuid} needs an email before provisioning Matrix owner access`);
      mxid = ownerMxid(email, id, config.baseDomain);
    } else {
      log.warn({ instance_id: id }, "Skipping Matrix owner access: account id is not a UUID");
    }
    await registry.record(id, urlColumns(urls));
    if (derivationRoot(config.credentialsEncryptionSecret, config.apiKey) === "") {
      throw new Failure("failed", "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET or PROVISIONER_API_KEY must be configured");
    }
    const storageClassName = await storageClassFor(this.d.kube, id, params.is_new, config.storageClassName);
    // One read serves the credentials key (§6.7) and the sandbox token (Deviation 7); new ids have no Secret.
    const live = params.is_new ? null : await readTenantSecret(this.d.kube, id, "credentials_encryption_key");
    return { storageClassName, ownerMxid: mxid, live };
  }

  /** §6.5, §6.7, §6.8, §6.10: the ten tenant Secret values. */
  private async secrets(params: ProvisionParams, live: Record<string, string> | null): Promise<TenantSecrets> {
    const { config, kube } = this.d;
    const id = params.instance_id;
    const root = derivationRoot(config.credentialsEncryptionSecret, config.apiKey);
    const openrouterKey = await openrouterKeyFor(
      { apiUrl: config.openrouterApiUrl, managementKey: config.openrouterProvisioningApiKey, kube, registry: this.d.registry, log: this.d.log, fetch: this.d.fetch ?? fetch },
      { instanceId: id, tier: params.tier, accountId: params.account_id },
    );
    return {
      openai_key: "",
      anthropic_key: "",
      google_key: "",
      deepseek_key: "",
      openrouter_key: openrouterKey,
      supabase_service_key: config.supabaseServiceKey,
      sandbox_proxy_token: sandboxToken(config.sandboxProxyToken, storedValue(live, "sandbox_proxy_token")),
      credentials_encryption_key: credentialsKey({
        isNew: params.is_new,
        storedKey: storedValue(live, "credentials_encryption_key"),
        optIn: params.enable_credentials_encryption,
        derivedKey: deriveInstanceSecret(root, "instance-credentials", id),
      }),
      matrix_oidc_client_secret: config.matrixOidcClientSecret,
      matrix_registration_shared_secret: deriveInstanceSecret(root, "matrix-registration", id),
    };
  }

  /**
   * §6.11: a Helm-era tenant adopted by the `up` loses its Helm release records, so that nobody can
   * `helm uninstall` it any more. Best-effort: the tenant is provisioned either way, so a failure
   * is a warning and a progress event with the command to run by hand, never a failed job.
   */
  private async removeHelmRecords(id: string, ctx: JobContext): Promise<void> {
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

  /** §6.12: polls `mindroom-{id}` until rolled out or the time is up; any read error counts as not ready. */
  async waitReady(id: string, timeoutMs: number, signal?: AbortSignal): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    const poll = this.d.readinessPollMs ?? 5000;
    for (;;) {
      if (await this.d.kube.isRolledOut(tenantObjectNames(id).mindroom).catch(() => false)) return true;
      if (Date.now() + poll > deadline || signal?.aborted) return false;
      await sleep(poll, signal);
    }
  }

  /** Keeps waiting (upstream: 600 s) and marks the row running when ready; lost on restart, sync repairs it. */
  private waitInBackground(id: string, jobId: string): void {
    if (this.background.has(id)) return;
    this.background.add(id);
    void this.waitReady(id, this.d.config.readinessBackgroundSeconds * 1000)
      .then(async (ready) => {
        if (ready && this.isLatestJob(id, jobId)) await this.d.registry.record(id, { status: "running" });
      })
      .catch((err) => this.d.log.warn({ instance_id: id, err: shortReason(err) }, "background readiness wait failed"))
      .finally(() => this.background.delete(id));
  }

  /** Whether no job accepted or started after `jobId` has taken over the instance's row. */
  private isLatestJob(id: string, jobId: string): boolean {
    return this.d.registry.get(id)?.last_job_id === jobId;
  }

  /** Known = a stack, a registry entry or a mirror row exists for the id. */
  private async known(id: string): Promise<boolean> {
    if (this.d.registry.has(id)) return true;
    if (this.d.mirror.enabled) {
      try {
        if (await this.d.mirror.get(id)) return true;
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

function errorDetail(err: unknown): string {
  return err instanceof Failure ? err.detail : shortReason(err);
}
