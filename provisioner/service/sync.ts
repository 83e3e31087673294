/**
 * `POST /system/sync-instances` (spec provisioner.md §8): reconciles the Supabase mirror with the
 * tenant Deployments row by row, with upstream's rules, and adds what only the project knows:
 * tenant stacks that have no row yet get one, so the mirror is repaired from the truth, and the
 * answer names the tenants the last drift report found drifted.
 *
 * The whole fleet is read in a fixed number of calls, whatever its size: one mirror list, one list
 * of the MindRoom Deployments, one `stack ls` (no per-stack tag reads). Deviation from upstream,
 * which read each Deployment on its own and counted a failed read as "missing" (marking a healthy
 * tenant `error`): a failed list ends the sync with a 500 and changes nothing.
 */
import { tenantObjectNames } from "../../infra/tenant-names";
import { Failure, shortReason } from "../errors";
import type { InstanceMirror, InstanceRow, InstanceStatus, StackSummary, TenantKube, TenantStacks } from "../ports";
import type { InstanceRegistry, Logger } from "./registry";

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
  /** Tenants the last drift report (POST /system/drift) found drifted and no upgrade has re-applied since. */
  drifted: string[];
}

const numericId = (id: string): number | string => (/^\d+$/.test(id) ? Number(id) : id);

export class SyncService {
  private running: Promise<SyncResult> | null = null;

  constructor(private readonly d: { stacks: TenantStacks; kube: TenantKube; mirror: InstanceMirror; registry: InstanceRegistry; log: Logger }) {}

  /** Concurrent calls share one run (a second walk would only repeat it). */
  sync(): Promise<SyncResult> {
    this.running ??= this.walk().finally(() => (this.running = null));
    return this.running;
  }

  private async walk(): Promise<SyncResult> {
    const { mirror, registry } = this.d;
    if (!mirror.enabled) return this.walkStacks();
    let rows: InstanceRow[];
    try {
      rows = await mirror.list();
    } catch (err) {
      throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
    }
    const replicas = await this.replicas();
    const result: SyncResult = { total: rows.length, synced: 0, errors: 0, updates: [], drifted: [] };
    const seen = new Set<string>();
    const writes: InstanceRow[] = [];
    const now = new Date().toISOString();
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
      const count = replicas.get(tenantObjectNames(key).mindroom);
      if (count === undefined && (old === "error" || old === "deprovisioned")) continue;
      const actual: InstanceStatus = count === undefined ? "error" : count > 0 ? "running" : "stopped";
      if (actual === old) continue;
      const reason = count === undefined ? "deployment_not_found" : "status_mismatch";
      writes.push({ instance_id: row.instance_id ?? key, status: actual, kubernetes_synced_at: now, updated_at: now });
      registry.merge(key, { status: actual, kubernetes_synced_at: now });
      if (reason === "status_mismatch") this.d.log.info({ instance_id: key }, `Instance ${key} status ${old} → ${actual} (status_mismatch)`);
      result.updates.push({ instance_id: row.instance_id ?? key, old_status: old, new_status: actual, reason });
      result.synced++;
    }
    // Upstream defect kept: a failing write ends the sync with a 500 (the rows are queued together).
    try {
      await mirror.writeMany(byStatus(writes));
    } catch (err) {
      throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
    }
    await this.addMissingRows(seen, replicas, result);
    result.drifted = this.drifted();
    this.d.log.info({ total: result.total, synced: result.synced, errors: result.errors, drifted: result.drifted.length }, "Sync completed");
    return result;
  }

  /**
   * Without the mirror the stacks are still the truth: every tenant stack's Deployment is checked by
   * the same rules and the in-memory status (what `GET /system/instances/{id}` answers) is corrected.
   * `total` = stacks; nothing is written to Supabase.
   */
  private async walkStacks(): Promise<SyncResult> {
    const { registry } = this.d;
    const summaries = await this.stackSummaries(true);
    const replicas = await this.replicas();
    const result: SyncResult = { total: summaries.length, synced: 0, errors: 0, updates: [], drifted: [] };
    const now = new Date().toISOString();
    for (const s of summaries) {
      const id = s.instanceId;
      const old = registry.get(id)?.status || "unknown";
      const count = replicas.get(tenantObjectNames(id).mindroom);
      if (count === undefined && (old === "error" || old === "deprovisioned")) continue;
      const actual = statusOf(count, s);
      if (actual === old) continue;
      await registry.record(id, { status: actual, kubernetes_synced_at: now });
      const reason = count === undefined ? "deployment_not_found" : "status_mismatch";
      this.d.log.info({ instance_id: id }, `Instance ${id} status ${old} → ${actual} (${reason})`);
      result.updates.push({ instance_id: numericId(id), old_status: old, new_status: actual, reason });
      result.synced++;
    }
    result.drifted = this.drifted();
    this.d.log.info({ total: result.total, synced: result.synced, errors: result.errors, mirror: "off" }, "Sync completed (Supabase not configured: stacks and Deployments only)");
    return result;
  }

  /** Stacks without a row: the mirror lost or never got them. Status from the Deployment, as above. */
  private async addMissingRows(seen: Set<string>, replicas: Map<string, number>, result: SyncResult): Promise<void> {
    let summaries: StackSummary[];
    try {
      summaries = await this.stackSummaries(false);
    } catch (err) {
      this.d.log.warn({ err: shortReason(err) }, "could not list tenant stacks during sync");
      result.errors++;
      return;
    }
    const inserts: Array<{ id: string; status: InstanceStatus; written: Promise<void> }> = [];
    for (const s of summaries) {
      if (seen.has(s.instanceId)) continue;
      result.total++;
      // `instances.subscription_id` is NOT NULL: a row can only be recreated when this process still
      // knows the subscription (it provisioned the tenant). Otherwise the write would only end up in
      // the outbox's rejected file, so say what to do instead.
      const known = this.d.registry.get(s.instanceId);
      if (!known?.subscription_id) {
        this.d.log.warn({ instance_id: s.instanceId }, `Instance ${s.instanceId} has a stack but no instances row, and its subscription is unknown: insert the row or re-provision with its subscription_id`);
        result.updates.push({ instance_id: numericId(s.instanceId), old_status: "missing", new_status: "missing", reason: "missing_row_subscription_unknown" });
        result.errors++;
        continue;
      }
      const status = statusOf(replicas.get(tenantObjectNames(s.instanceId).mindroom), s);
      const row = { subscription_id: known.subscription_id, account_id: known.account_id ?? null, status, stack_name: s.stackName, tier: known.tier ?? null };
      // Queued together, so they reach Supabase as one bulk upsert (rows of one shape).
      inserts.push({ id: s.instanceId, status, written: this.d.registry.record(s.instanceId, { ...row, kubernetes_synced_at: new Date().toISOString() }, true) });
    }
    const outcomes = await Promise.allSettled(inserts.map((i) => i.written));
    inserts.forEach(({ id, status }, n) => {
      const outcome = outcomes[n];
      if (outcome.status === "fulfilled") {
        result.updates.push({ instance_id: numericId(id), old_status: "missing", new_status: status, reason: "missing_row" });
        result.synced++;
      } else {
        this.d.log.warn({ instance_id: id, err: shortReason(outcome.reason) }, "could not add the missing row");
        result.errors++;
      }
    });
  }

  /** One list of the MindRoom Deployments. @throws Failure (nothing changed yet) */
  private async replicas(): Promise<Map<string, number>> {
    try {
      return await this.d.kube.mindroomReplicas();
    } catch (err) {
      throw new Failure("failed", `Failed to sync instances: cannot list the tenant Deployments (${shortReason(err)}); nothing was changed`);
    }
  }

  /** One `stack ls` (no tags: the registry has them). `strict`: a failure ends the sync. */
  private async stackSummaries(strict: boolean): Promise<StackSummary[]> {
    try {
      return await this.d.stacks.list({ tags: false });
    } catch (err) {
      if (!strict) throw err;
      throw new Failure("failed", `Failed to sync instances: ${shortReason(err)}`);
    }
  }

  private drifted(): string[] {
    return this.d.registry
      .all()
      .filter((v) => v.drift === "drifted" && v.status !== "deprovisioned")
      .map((v) => v.instance_id);
  }
}

/**
 * The corrections grouped by new status (statuses in order of first appearance, rows in id order
 * within each): the mirror sends a run of rows with identical changes as one UPDATE … IN (…), so in
 * id order (stopped, error, stopped, …) it sent one request per run instead of one per status.
 */
function byStatus(rows: InstanceRow[]): InstanceRow[] {
  const groups = new Map<string, InstanceRow[]>();
  for (const row of rows) {
    const key = String(row.status);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return [...groups.values()].flat();
}

/** Running/stopped by replicas; without a Deployment, error, or deprovisioned when the stack is empty. */
function statusOf(replicas: number | undefined, stack: StackSummary): InstanceStatus {
  if (replicas === undefined) return stack.resourceCount === 0 ? "deprovisioned" : "error";
  return replicas > 0 ? "running" : "stopped";
}

function rowKey(row: InstanceRow): string | null {
  const id = row.instance_id;
  if (id !== null && id !== undefined && String(id) !== "") return String(id);
  const subdomain = (row as InstanceRow & { subdomain?: string | null }).subdomain;
  return subdomain ? subdomain : null;
}
