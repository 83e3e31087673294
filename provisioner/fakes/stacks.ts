/**
 * In-memory `TenantStacks` for tests and benches. With a `FakeTenantKube` attached, `up` and
 * `destroy` also change the objects a real tenant stack owns (Deployments, Secret, PVCs), with the
 * Deviation 9 rule: PVCs and the Secret survive a destroy unless data is deleted (Secret always).
 */
import {
  StackNotFound,
  type DesiredState,
  type DestroyResult,
  type OperationOptions,
  type StackSummary,
  type TenantSpec,
  type TenantStacks,
  type UpResult,
} from "../ports";
import { tenantVolumes } from "../tenant-names";
import type { FakeTenantKube } from "./kube";

export interface FakeStack {
  spec: TenantSpec;
  desiredState: DesiredState;
  resourceCount: number;
  lastUpdate: string;
}

export type FakeCall =
  | { op: "up"; instanceId: string; spec: TenantSpec }
  | { op: "destroy"; instanceId: string; deleteData: boolean }
  | { op: "setDesiredState"; instanceId: string; state: DesiredState }
  | { op: "recover"; instanceId: string }
  | { op: "list" | "outputs"; instanceId?: string };

export class FakeTenantStacks implements TenantStacks {
  readonly stacks = new Map<string, FakeStack>();
  readonly calls: FakeCall[] = [];
  /** Runs inside `up`/`destroy` before the fake changes anything: delay, gate or throw from here. */
  beforeUp?: (spec: TenantSpec, options?: OperationOptions) => Promise<void>;
  beforeDestroy?: (instanceId: string, deleteData: boolean) => Promise<void>;
  /** Error thrown by `list` (backend unreachable). */
  listError?: Error;

  constructor(private readonly kube?: FakeTenantKube) {}

  stackName(instanceId: string): string {
    return `instance-${instanceId}`;
  }

  async up(spec: TenantSpec, options?: OperationOptions): Promise<UpResult> {
    this.calls.push({ op: "up", instanceId: spec.instanceId, spec });
    options?.onProgress?.({ at: new Date().toISOString(), message: `updating stack ${this.stackName(spec.instanceId)}` });
    await this.beforeUp?.(spec, options);
    const id = spec.instanceId;
    const existed = this.stacks.get(id);
    this.stacks.set(id, { spec, desiredState: spec.tags.desiredState, resourceCount: 12, lastUpdate: new Date().toISOString() });
    this.kube?.applyTenant(id, spec.values);
    options?.onProgress?.({ at: new Date().toISOString(), message: existed ? "update complete" : "create complete" });
    return { outputs: { customer: id }, changes: existed ? { update: 1 } : { create: 12 } };
  }

  async destroy(instanceId: string, deleteData: boolean, options?: OperationOptions): Promise<DestroyResult> {
    this.calls.push({ op: "destroy", instanceId, deleteData });
    await this.beforeDestroy?.(instanceId, deleteData);
    options?.onProgress?.({ at: new Date().toISOString(), message: `destroying stack ${this.stackName(instanceId)}` });
    const stack = this.stacks.get(instanceId);
    if (!stack) return { keptVolumes: [] };
    stack.resourceCount = 0;
    this.kube?.destroyTenant(instanceId, deleteData);
    return { keptVolumes: deleteData ? [] : tenantVolumes(instanceId) };
  }

  async outputs(instanceId: string): Promise<Record<string, unknown>> {
    this.calls.push({ op: "outputs", instanceId });
    if (!this.stacks.has(instanceId)) throw new StackNotFound(instanceId);
    return { customer: instanceId };
  }

  async list(): Promise<StackSummary[]> {
    this.calls.push({ op: "list" });
    if (this.listError) throw this.listError;
    return [...this.stacks.entries()].map(([id, s]) => ({
      instanceId: id,
      stackName: this.stackName(id),
      desiredState: s.desiredState,
      tier: s.spec.tags.tier,
      account: s.spec.tags.account,
      lastUpdate: s.lastUpdate,
      resourceCount: s.resourceCount,
    }));
  }

  async setDesiredState(instanceId: string, state: DesiredState): Promise<void> {
    this.calls.push({ op: "setDesiredState", instanceId, state });
    const stack = this.stacks.get(instanceId);
    if (!stack) throw new StackNotFound(instanceId);
    stack.desiredState = state;
  }

  async recover(instanceId: string): Promise<void> {
    this.calls.push({ op: "recover", instanceId });
  }

  /** Calls that change something (not list/outputs), for "no state change" assertions. */
  mutations(): FakeCall[] {
    return this.calls.filter((c) => c.op !== "list" && c.op !== "outputs");
  }
}
