/**
 * Capacity and cost model: how many tenants fit on the cluster's nodes, which limit binds (CPU
 * requests, memory requests, or the CSI limit of 16 volumes per node at two PVCs per tenant), and
 * what a tenant costs per month at the dated prices of `prices.ts`.
 */
import { LB11_EUR_PER_MONTH, PRICES_AS_OF, SERVER_TYPES, VOLUME_EUR_PER_GB_MONTH } from "./prices";

/** Requests of one tenant (MindRoom + sandbox sidecar + Synapse) and its two PVCs (instance.md §15). */
export interface TenantProfile {
  cpuMillis: number;
  memoryMiB: number;
  volumes: number;
  volumeGiB: number;
}

export const PROFILES: Record<"small" | "pro", TenantProfile> = {
  small: { cpuMillis: 250 + 100 + 250, memoryMiB: 512 + 256 + 512, volumes: 2, volumeGiB: 10 },
  pro: { cpuMillis: 500 + 250 + 500, memoryMiB: 1024 + 512 + 1024, volumes: 2, volumeGiB: 25 },
};

/** Upstream pricing-config: free, byok, hobby → small; pro, enterprise → pro; anything else → small. */
export function profileOf(tier: string): "small" | "pro" {
  return tier === "pro" || tier === "enterprise" ? "pro" : "small";
}

/** CSI driver limit of attached volumes per server. */
export const VOLUMES_PER_NODE = 16;
/** kubelet kube-reserved + system-reserved on every node (components/cluster/cloud-init.ts). */
export const NODE_RESERVED = { cpuMillis: 500, memoryMiB: 1800 };
/** ingress-nginx DaemonSet requests (chart default), on every node. */
export const PER_NODE_PODS = { cpuMillis: 100, memoryMiB: 90 };
/**
 * On the first node: platform frontend 100m/256Mi + backend 250m/512Mi + provisioner 250m/1Gi,
 * CoreDNS 100m/70Mi, metrics-server 100m/200Mi, the Hetzner CCM 100m/50Mi (chart default), and
 * the provisioner's one data volume. Charts without default requests (cert-manager, the CSI
 * driver) reserve nothing, so the scheduler does not count them either.
 */
export const FIRST_NODE_PODS = { cpuMillis: 900, memoryMiB: 2112, volumes: 1 };

/** The provisioner's data PVC (platform chart default 10Gi). */
export const PLATFORM_VOLUME_GIB = 10;

export type Limit = "cpu" | "memory" | "volumes";

export interface NodeSpec {
  type: string;
  count: number;
}

export interface NodeCapacity {
  cpuMillis: number;
  memoryMiB: number;
  volumes: number;
}

/** What is left for tenants on node number `index` (0 = the control plane, which hosts the platform). */
export function nodeCapacity(type: string, index: number): NodeCapacity {
  const server = SERVER_TYPES[type];
  if (!server) throw new Error(`unknown server type "${type}"; known: ${Object.keys(SERVER_TYPES).join(", ")}`);
  const first = index === 0 ? FIRST_NODE_PODS : { cpuMillis: 0, memoryMiB: 0, volumes: 0 };
  return {
    cpuMillis: server.vcpu * 1000 - NODE_RESERVED.cpuMillis - PER_NODE_PODS.cpuMillis - first.cpuMillis,
    memoryMiB: server.memoryGiB * 1024 - NODE_RESERVED.memoryMiB - PER_NODE_PODS.memoryMiB - first.memoryMiB,
    volumes: VOLUMES_PER_NODE - first.volumes,
  };
}

/** Tenants of one profile that fit on a node, and the limit that stops the next one. */
export function tenantsPerNode(capacity: NodeCapacity, profile: TenantProfile): { tenants: number; binding: Limit } {
  const bounds: [Limit, number][] = [
    ["cpu", Math.floor(Math.max(0, capacity.cpuMillis) / profile.cpuMillis)],
    ["memory", Math.floor(Math.max(0, capacity.memoryMiB) / profile.memoryMiB)],
    ["volumes", Math.floor(Math.max(0, capacity.volumes) / profile.volumes)],
  ];
  const [binding, tenants] = bounds.reduce((min, b) => (b[1] < min[1] ? b : min));
  return { tenants, binding };
}

export interface CapacityInput {
  nodes: NodeSpec[];
  /** Tenants per tier, e.g. `{free: 10, pro: 2}`. */
  mix: Record<string, number>;
  /** Count an LB11 (multi-node clusters put one in front of ingress). Default: when there are 2+ nodes. */
  loadBalancer?: boolean;
}

export interface NodeReport {
  name: string;
  type: string;
  /** Homogeneous maxima on this node: tenants of each profile alone, with the binding limit. */
  maxSmall: { tenants: number; binding: Limit };
  maxPro: { tenants: number; binding: Limit };
  /** Tenants placed by first-fit (pro first). */
  placed: Record<string, number>;
}

export interface CapacityReport {
  pricesAsOf: string;
  nodes: NodeReport[];
  fits: boolean;
  /** Tenants that found no node, by tier. */
  unplaced: Record<string, number>;
  /** For the first tenant that did not fit: the limit that was short on every node. */
  bindingLimit?: Limit;
  eurPerMonth: { nodes: number; loadBalancer: number; volumes: number; total: number };
  /** Total monthly cost divided by placed tenants (0 when none). */
  eurPerTenant: number;
  /**
   * Marginal monthly cost of one tenant of each tier: its share of a worker (else the control plane)
   * plus its volumes; null when not even one tenant of the tier fits on that node type.
   */
  eurPerTenantByTier: Record<string, number | null>;
}

const round2 = (n: number) => Math.round(n * 100) / 100;

function volumeCost(profile: TenantProfile): number {
  return profile.volumes * profile.volumeGiB * VOLUME_EUR_PER_GB_MONTH;
}

export function capacityModel(input: CapacityInput): CapacityReport {
  const nodes = input.nodes.flatMap((n) => Array.from({ length: n.count }, () => n.type));
  if (nodes.length === 0) throw new Error("nodes: give at least one node (e.g. cpx31:1)");
  const free = nodes.map((type, i) => ({ ...nodeCapacity(type, i) }));
  const reports: NodeReport[] = nodes.map((type, i) => ({
    name: i === 0 ? "control-plane" : `node-${i + 1}`,
    type,
    maxSmall: tenantsPerNode(nodeCapacity(type, i), PROFILES.small),
    maxPro: tenantsPerNode(nodeCapacity(type, i), PROFILES.pro),
    placed: {},
  }));

  const unplaced: Record<string, number> = {};
  let bindingLimit: Limit | undefined;
  const order = Object.entries(input.mix).sort(([a], [b]) => (profileOf(b) === "pro" ? 1 : 0) - (profileOf(a) === "pro" ? 1 : 0));
  for (const [tier, count] of order) {
    const p = PROFILES[profileOf(tier)];
    for (let t = 0; t < count; t++) {
      const i = free.findIndex((c) => c.cpuMillis >= p.cpuMillis && c.memoryMiB >= p.memoryMiB && c.volumes >= p.volumes);
      if (i < 0) {
        unplaced[tier] = (unplaced[tier] ?? 0) + 1;
        bindingLimit ??= tightest(free, p);
        continue;
      }
      free[i].cpuMillis -= p.cpuMillis;
      free[i].memoryMiB -= p.memoryMiB;
      free[i].volumes -= p.volumes;
      reports[i].placed[tier] = (reports[i].placed[tier] ?? 0) + 1;
    }
  }

  const placedCount = Object.entries(input.mix).reduce((sum, [tier, n]) => sum + n - (unplaced[tier] ?? 0), 0);
  const nodeEur = nodes.reduce((sum, type) => sum + SERVER_TYPES[type].eurPerMonth, 0);
  const lbEur = (input.loadBalancer ?? nodes.length > 1) ? LB11_EUR_PER_MONTH : 0;
  const volumeEur =
    Object.entries(input.mix).reduce((sum, [tier, n]) => sum + (n - (unplaced[tier] ?? 0)) * volumeCost(PROFILES[profileOf(tier)]), 0) +
    PLATFORM_VOLUME_GIB * VOLUME_EUR_PER_GB_MONTH;
  const total = nodeEur + lbEur + volumeEur;
  const firstType = nodes[nodes.length > 1 ? 1 : 0];
  const byTier = Object.fromEntries(
    Object.keys(input.mix).map((tier) => {
      const p = PROFILES[profileOf(tier)];
      const perNode = tenantsPerNode(nodeCapacity(firstType, nodes.length > 1 ? 1 : 0), p).tenants;
      return [tier, perNode > 0 ? round2(SERVER_TYPES[firstType].eurPerMonth / perNode + volumeCost(p)) : null];
    }),
  );
  return {
    pricesAsOf: PRICES_AS_OF,
    nodes: reports,
    fits: Object.keys(unplaced).length === 0,
    unplaced,
    bindingLimit,
    eurPerMonth: { nodes: round2(nodeEur), loadBalancer: round2(lbEur), volumes: round2(volumeEur), total: round2(total) },
    eurPerTenant: placedCount > 0 ? round2(total / placedCount) : 0,
    eurPerTenantByTier: byTier,
  };
}

/** The limit that fell shortest on the node that came closest to fitting the tenant. */
function tightest(free: NodeCapacity[], p: TenantProfile): Limit {
  let best: { limit: Limit; ratio: number } | undefined;
  for (const c of free) {
    const ratios: [Limit, number][] = [
      ["cpu", c.cpuMillis / p.cpuMillis],
      ["memory", c.memoryMiB / p.memoryMiB],
      ["volumes", c.volumes / p.volumes],
    ];
    const [limit, ratio] = ratios.reduce((m, r) => (r[1] < m[1] ? r : m));
    if (!best || ratio > best.ratio) best = { limit, ratio };
  }
  return best?.limit ?? "cpu";
}
