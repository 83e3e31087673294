/**
 * `POST /system/sync-instances` (spec provisioner.md §8): reconciles the Supabase mirror with the
 * tenant Deployments row by row, with upstream's rules, and adds what only the project knows:
 * tenant stacks that have no row yet get one, so the mirror is repaired from the truth.
 */
import type { InstanceMirror, InstanceRow, InstanceStatus, TenantKube, TenantStacks } from "../ports";
import { Failure, shortReason } from "../errors";
import type { InstanceRegistry, Logger } from "./registry";
import { tenantObjectNames } from "../../infra/tenant-names";

export interface SyncUpdate {
  instance_id: number | string;
  old_status: string;
  /** `missing` only with `missing_row_subscription_unknown`: the row could not be recreated. */
  new_status: InstanceStatus | "missing";
  reason: "deployment_not_found" | "status_mismatch" | "missing_row" | "missing_row_subscription_unknown";
}

export interface SyncResult {
  total: number;
  synced: number;
  errors: number;
  updates: SyncUpdate[];
}

export class SyncService {
  private running: Promise<SyncResult> | null = null;

  constructor(private readonly d: { stacks: TenantStacks; kube: TenantKube; mirror: InstanceMirror; registry: InstanceRegistry; log: Logger }) {}

  /** Concurrent calls share one run (rows are walked sequentially; a second walk would only repeat it). */
  sync(): Promise<SyncResult> {
    this.running ??= this.walk().finally(() => (this.running = null));
    return this.running;
  }

  private async walk(): Promise<SyncResult> {
    const { mirror, registry, kube, stacks } = this.d;
    if (!mirror.enabled) return this.walkStacks();
    let rows: InstanceRow[];
    try {
      rows = await mirror.list();
    } catch (err) {
      throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
    }
    const result: SyncResult = { total: rows.length, synced: 0, errors: 0, updates: [] };
    const seen = new Set<string>();
    for (const row of rows) {
      const { instance_id: _id, ...fields } = row;
      const key = rowKey(row);
      if (!key) {
        this.d.log.warn({}, "Instance row has neither instance_id nor subdomain; skipping");
        result.errors++;
        continue;
      }
      seen.add(key);
      registry.merge(key, fields);
      const old = row.status || "unknown";
      const name = tenantObjectNames(key).mindroom;
      const present = await kube.deploymentExists(name).catch(() => false);
      const now = new Date().toISOString();
      if (!present) {
        if (old === "error" || old === "deprovisioned") continue;
        // Upstream defect kept: no per-row guard here, a failing write ends the sync with a 500.
        try {
          await mirror.write({ instance_id: row.instance_id ?? key, status: "error", kubernetes_synced_at: now, updated_at: now });
        } catch (err) {
          throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
        }
        registry.merge(key, { status: "error", kubernetes_synced_at: now });
        result.updates.push({ instance_id: row.instance_id ?? key, old_status: old, new_status: "error", reason: "deployment_not_found" });
        result.synced++;
        continue;
      }
      try {
        const replicas = await kube.replicas(name);
        if (replicas === null) continue;
        const actual: InstanceStatus = replicas > 0 ? "running" : "stopped";
        if (actual === old) continue;
        await mirror.write({ instance_id: row.instance_id ?? key, status: actual, kubernetes_synced_at: now, updated_at: now });
        registry.merge(key, { status: actual, kubernetes_synced_at: now });
        this.d.log.info({ instance_id: key }, `Instance ${key} status ${old} → ${actual} (status_mismatch)`);
        result.updates.push({ instance_id: row.instance_id ?? key, old_status: old, new_status: actual, reason: "status_mismatch" });
        result.synced++;
      } catch (err) {
        this.d.log.warn({ instance_id: key, err: shortReason(err) }, "sync of one instance failed");
        result.errors++;
      }
    }
    await this.addMissingRows(stacks, seen, result);
    this.d.log.info({ total: result.total, synced: result.synced, errors: result.errors }, "Sync completed");
    return result;
  }

  /**
   * Without the mirror the stacks are still the truth: every tenant stack's Deployment is checked by
   * the same rules and the in-memory status (what `GET /system/instances/{id}` answers) is corrected.
   * `total` = stacks; nothing is written to Supabase.
   */
  private async walkStacks(): Promise<SyncResult> {
    const { registry, kube, stacks } = this.d;
    let summaries;
    try {
      summaries = await stacks.list();
    } catch (err) {
      throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
    }
    const result: SyncResult = { total: summaries.length, synced: 0, errors: 0, updates: [] };
    for (const s of summaries) {
      const id = s.instanceId;
      const instanceId = /^\d+$/.test(id) ? Number(id) : id;
      const old = registry.get(id)?.status || "unknown";
      try {
        const replicas = await kube.replicas(tenantObjectNames(id).mindroom);
        if (replicas === null && (old === "error" || old === "deprovisioned")) continue;
        const actual: InstanceStatus =
          replicas === null ? (s.resourceCount === 0 ? "deprovisioned" : "error") : replicas > 0 ? "running" : "stopped";
        if (actual === old) continue;
        await registry.record(id, { status: actual, kubernetes_synced_at: new Date().toISOString() });
        const reason = replicas === null ? "deployment_not_found" : "status_mismatch";
        this.d.log.info({ instance_id: id }, `Instance ${id} status ${old} → ${actual} (${reason})`);
        result.updates.push({ instance_id: instanceId, old_status: old, new_status: actual, reason });
        result.synced++;
      } catch (err) {
        this.d.log.warn({ instance_id: id, err: shortReason(err) }, "sync of one instance failed");
        result.errors++;
      }
    }
    this.d.log.info({ total: result.total, synced: result.synced, errors: result.errors, mirror: "off" }, "Sync completed (Supabase not configured: stacks and Deployments only)");
    return result;
  }

  /** Stacks without a row: the mirror lost or never got them. Status from the Deployment, as above. */
  private async addMissingRows(stacks: TenantStacks, seen: Set<string>, result: SyncResult): Promise<void> {
    let summaries;
    try {
      summaries = await stacks.list();
    } catch (err) {
      this.d.log.warn({ err: shortReason(err) }, "could not list tenant stacks during sync");
      result.errors++;
      return;
    }
    for (const s of summaries) {
      if (seen.has(s.instanceId)) continue;
      result.total++;
      const instanceId = /^\d+$/.test(s.instanceId) ? Number(s.instanceId) : s.instanceId;
      // `instances.subscription_id` is NOT NULL: a row can only be recreated when this process still
      // knows the subscription (it provisioned the tenant). Otherwise the write would only end up in
      // the outbox's rejected file, so say what to do instead.
      const known = this.d.registry.get(s.instanceId);
      if (!known?.subscription_id) {
        this.d.log.warn({ instance_id: s.instanceId }, `Instance ${s.instanceId} has a stack but no instances row, and its subscription is unknown: insert the row or re-provision with its subscription_id`);
        result.updates.push({ instance_id: instanceId, old_status: "missing", new_status: "missing", reason: "missing_row_subscription_unknown" });
        result.errors++;
        continue;
      }
      try {
        const replicas = await this.d.kube.replicas(tenantObjectNames(s.instanceId).mindroom);
        const status: InstanceStatus =
          replicas === null ? (s.resourceCount === 0 ? "deprovisioned" : "error") : replicas > 0 ? "running" : "stopped";
        const row = { subscription_id: known.subscription_id, account_id: known.account_id ?? null, status, stack_name: s.stackName, tier: s.tier ?? null };
        await this.d.registry.record(s.instanceId, { ...row, kubernetes_synced_at: new Date().toISOString() }, true);
        result.updates.push({ instance_id: instanceId, old_status: "missing", new_status: status, reason: "missing_row" });
        result.synced++;
      } catch (err) {
        this.d.log.warn({ instance_id: s.instanceId, err: shortReason(err) }, "could not add the missing row");
        result.errors++;
      }
    }
  }
}

function rowKey(row: InstanceRow): string | null {
  const id = row.instance_id;
  if (id !== null && id !== undefined && String(id) !== "") return String(id);
  const subdomain = (row as InstanceRow & { subdomain?: string | null }).subdomain;
  return subdomain ? subdomain : null;
}
