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
  type PassphraseChange,
  type PreviewResult,
  type StackSummary,
  type TenantSpec,
  type TenantStacks,
  type UpResult,
} from "../ports";
import { tenantVolumes } from "../../infra/tenant-names";
import type { FakeTenantKube } from "./kube";

export interface FakeStack {
  spec: TenantSpec;
  desiredState: DesiredState;
  resourceCount: number;
  lastUpdate: string;
}

export type FakeCall =
  | { op: "up"; instanceId: string; spec: TenantSpec }
  | { op: "destroy"; instanceId: string }
  | { op: "setDesiredState"; instanceId: string; state: DesiredState }
  | { op: "recover" | "release"; instanceId: string }
  | { op: "changePassphrase"; instanceId: string }
  | { op: "list" | "outputs" | "preview"; instanceId?: string };

export class FakeTenantStacks implements TenantStacks {
  readonly stacks = new Map<string, FakeStack>();
  readonly calls: FakeCall[] = [];
  /** Runs inside `up`/`destroy` before the fake changes anything: delay, gate or throw from here. */
  beforeUp?: (spec: TenantSpec, options?: OperationOptions) => Promise<void>;
  beforeDestroy?: (instanceId: string) => Promise<void>;
  /** Tenants whose cluster objects were changed behind the stack's back: their preview shows an update. */
  readonly drifted = new Set<string>();
  /** Runs inside `preview` before it answers: delay, gate or throw from here. */
  beforePreview?: (spec: TenantSpec) => Promise<void>;
  /** Tenants whose stack is still on the previous passphrase: `changePassphrase` moves them (then `already`). */
  readonly onPreviousPassphrase = new Set<string>();
  /** Runs inside `changePassphrase` before it answers: delay, gate or throw from here. */
  beforeChangePassphrase?: (instanceId: string, options?: OperationOptions) => Promise<void>;
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
    this.drifted.delete(id);
    return { outputs: { customer: id, settings: spec.settings ?? {} }, changes: existed ? { update: 1 } : { create: 12 } };
  }

  /** A diff of the values against the last `up` (top-level keys), plus any drift a test injected. */
  async preview(spec: TenantSpec): Promise<PreviewResult> {
    this.calls.push({ op: "preview", instanceId: spec.instanceId });
    await this.beforePreview?.(spec);
    const stack = this.stacks.get(spec.instanceId);
    if (!stack || stack.resourceCount === 0) throw new StackNotFound(spec.instanceId);
    // A PVC created without a class records the component's default, which a re-provision then
    // passes explicitly: the same rendered objects, so no change (as the real engine sees it).
    const rendered = (v: Record<string, unknown>): Record<string, unknown> => ({ storageClassName: "hcloud-volumes", ...v });
    const [before, after] = [rendered(stack.spec.values), rendered(spec.values)];
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    const diffs = [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
    if (this.drifted.has(spec.instanceId) && diffs.length === 0) diffs.push("spec");
    const resources = diffs.length > 0 ? [{ type: "kubernetes:apps/v1:Deployment", name: `mindroom-${spec.instanceId}`, op: "update", diffs }] : [];
    return { changes: resources.length > 0 ? { same: stack.resourceCount - 1, update: 1 } : { same: stack.resourceCount }, resources };
  }

  async destroy(instanceId: string, options?: OperationOptions): Promise<DestroyResult> {
    this.calls.push({ op: "destroy", instanceId });
    await this.beforeDestroy?.(instanceId);
    options?.onProgress?.({ at: new Date().toISOString(), message: `destroying stack ${this.stackName(instanceId)}` });
    const stack = this.stacks.get(instanceId);
    if (!stack) return { keptVolumes: [] };
    stack.resourceCount = 0;
    this.kube?.destroyTenant(instanceId);
    return { keptVolumes: tenantVolumes(instanceId) };
  }

  async outputs(instanceId: string): Promise<Record<string, unknown>> {
    this.calls.push({ op: "outputs", instanceId });
    const stack = this.stacks.get(instanceId);
    if (!stack) throw new StackNotFound(instanceId);
    return { customer: instanceId, settings: stack.spec.settings ?? {} };
  }

  async list(): Promise<StackSummary[]> {
    this.calls.push({ op: "list" });
    if (this.listError) throw this.listError;
    return [...this.stacks.entries()].map(([id, s]) => ({
      instanceId: id,
      stackName: this.stackName(id),
      desiredState: s.desiredState,
      tier: s.spec.tags.tier,
      account: s.spec.tags.account || undefined,
      subscription: s.spec.tags.subscription || undefined,
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

  async release(instanceId: string): Promise<void> {
    this.calls.push({ op: "release", instanceId });
  }

  async changePassphrase(instanceId: string, options?: OperationOptions): Promise<PassphraseChange> {
    this.calls.push({ op: "changePassphrase", instanceId });
    await this.beforeChangePassphrase?.(instanceId, options);
    const stack = this.stacks.get(instanceId);
    if (!stack || stack.resourceCount === 0) throw new StackNotFound(instanceId);
    if (!this.onPreviousPassphrase.delete(instanceId)) return { status: "already" };
    options?.onProgress?.({ at: new Date().toISOString(), message: `re-encrypting stack ${this.stackName(instanceId)} with the provisioner's passphrase` });
    return { status: "moved" };
  }

  /** Calls that change something (not list/outputs), for "no state change" assertions. */
  mutations(): FakeCall[] {
    return this.calls.filter((c) => c.op !== "list" && c.op !== "outputs" && c.op !== "preview");
  }
}
