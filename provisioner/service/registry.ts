/**
 * The provisioner's view of every tenant: built at boot from the stacks (the truth) and the
 * Supabase mirror, then kept current by this process. Status reads are answered from memory; every
 * status change goes through `record`, which also writes the mirror row (with `stack_name`,
 * `last_job_id`, `last_error`), so the two never drift apart by our own doing.
 */
import type { DesiredState, InstanceMirror, InstanceRow, InstanceStatus, TenantStacks } from "../ports";
import { shortReason } from "../errors";

export interface InstanceView extends Omit<InstanceRow, "instance_id"> {
  instance_id: string;
  /** Memory only (the stack's tag is the durable copy). */
  desired_state?: DesiredState;
  /** Memory only: the last drift report's finding for this tenant. */
  drift?: "clean" | "drifted";
  drift_checked_at?: string;
}

export interface Logger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export class InstanceRegistry {
  private readonly views = new Map<string, InstanceView>();
  /**
   * Tenants by lower-cased subscription id, and the highest numeric id: both are asked on every
   * provision, where a scan of the fleet (a sort and a copy of every view) grows with it.
   */
  private readonly bySubscription = new Map<string, Set<string>>();
  private highest = 0;

  constructor(
    private readonly stacks: TenantStacks,
    private readonly mirror: InstanceMirror,
    private readonly log: Logger,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Loads stacks and mirror rows; a failing source is logged and skipped (sync repairs later).
   * Resolves true when every source was read, so the id allocator need not read them again.
   */
  async load(): Promise<boolean> {
    let complete = true;
    try {
      for (const s of await this.stacks.list()) {
        if (s.unreadable) {
          // Its tags are unknown: what the mirror says stands; the tenant is listed, not hidden.
          this.merge(s.instanceId, { stack_name: s.stackName, status: "error", last_error: `Stack unreadable at boot: ${s.unreadable}` });
          continue;
        }
        // A destroyed (empty) stack keeps its last desired-state tag; a deprovisioned tenant claims none.
        const deprovisioned = s.resourceCount === 0;
        this.merge(s.instanceId, {
          stack_name: s.stackName,
          desired_state: deprovisioned ? undefined : s.desiredState,
          tier: s.tier ?? null,
          ...(s.account ? { account_id: s.account } : {}),
          ...(s.subscription ? { subscription_id: s.subscription } : {}),
          status: deprovisioned ? "deprovisioned" : (s.desiredState ?? "running"),
        });
      }
    } catch (err) {
      this.log.warn({ err: shortReason(err) }, "could not list tenant stacks at boot");
      complete = false;
    }
    if (!this.mirror.enabled) return complete;
    try {
      for (const row of await this.mirror.list()) {
        if (row.instance_id === null || row.instance_id === undefined || row.instance_id === "") continue;
        const { instance_id, ...rest } = row;
        this.merge(String(instance_id), rest);
      }
    } catch (err) {
      this.log.warn({ err: shortReason(err) }, "could not read the instances mirror at boot");
      complete = false;
    }
    return complete;
  }

  get(id: string): InstanceView | undefined {
    const v = this.views.get(id);
    return v ? { ...v } : undefined;
  }

  has(id: string): boolean {
    return this.views.has(id);
  }

  all(): InstanceView[] {
    return [...this.views.values()].sort((a, b) => Number(a.instance_id) - Number(b.instance_id)).map((v) => ({ ...v }));
  }

  ids(): string[] {
    return [...this.views.keys()];
  }

  /** The highest numeric instance id known (0 when none). */
  highestId(): number {
    return this.highest;
  }

  /**
   * The tenant a subscription has, unless it was deprovisioned (subscription ids compare without
   * case); the lowest id when several claim it (rows that predate the one-tenant rule).
   */
  forSubscription(subscriptionId: string): InstanceView | undefined {
    let found: InstanceView | undefined;
    for (const id of this.bySubscription.get(subscriptionId.toLowerCase()) ?? []) {
      const view = this.views.get(id)!;
      if (view.status !== "deprovisioned" && (!found || Number(id) < Number(found.instance_id))) found = view;
    }
    return found ? { ...found } : undefined;
  }

  /** Updates memory without writing the mirror (facts learned from the mirror or the stacks). */
  merge(id: string, patch: Partial<InstanceView>): void {
    const before = this.views.get(id);
    const after = { ...before, ...patch, instance_id: id };
    this.views.set(id, after);
    if (/^\d+$/.test(id)) this.highest = Math.max(this.highest, Number(id));
    const was = subscriptionKey(before?.subscription_id);
    const now = subscriptionKey(after.subscription_id);
    if (was === now) return;
    if (was) this.bySubscription.get(was)?.delete(id);
    if (now) this.bySubscription.set(now, (this.bySubscription.get(now) ?? new Set()).add(id));
  }

  /**
   * Records a change and mirrors it. Mirror writes are durable (outbox) and best-effort from the
   * caller's point of view: a failure is logged and never changes the operation's outcome, unless
   * `strict` (the row insert/update that a provision must not proceed without).
   */
  async record(id: string, patch: Partial<Omit<InstanceView, "instance_id">> & { status?: InstanceStatus }, strict = false): Promise<void> {
    const at = this.now().toISOString();
    const { desired_state: _state, drift: _drift, drift_checked_at: _checked, ...fields } = patch;
    this.merge(id, { ...patch, updated_at: at });
    if (!this.mirror.enabled) return;
    const view = this.views.get(id)!;
    // The project columns ride along on every write so the row always names its stack and job;
    // one this process does not know (e.g. right after a restart) is left out, never nulled.
    const known = Object.fromEntries(
      (["stack_name", "last_job_id", "last_error"] as const).filter((k) => view[k] !== undefined).map((k) => [k, view[k]]),
    );
    const row: InstanceRow = { ...fields, ...known, instance_id: /^\d+$/.test(id) ? Number(id) : id, updated_at: at };
    try {
      await this.mirror.write(row);
    } catch (err) {
      if (strict) throw err;
      this.log.warn({ instance_id: id, err: shortReason(err) }, "failed to queue the instances mirror write");
    }
  }
}

function subscriptionKey(subscriptionId: unknown): string | undefined {
  return typeof subscriptionId === "string" && subscriptionId !== "" ? subscriptionId.toLowerCase() : undefined;
}
