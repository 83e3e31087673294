/**
 * Plans from upstream `saas-platform/pricing-config.yaml` (spec provisioner.md §9): the included
 * OpenRouter budget per tier and the resource profile whose overrides reach the tenant values.
 */
import { LEGACY_TIERS, type Tier } from "../../infra/tiers";

// The names live in infra/ so the capacity CLI refuses the same ones (infra never imports provisioner/).
export { LEGACY_TIERS, TIERS, type Tier } from "../../infra/tiers";

/** A tier name as the plans know it (legacy names mapped); undefined for none. Unknown names pass through. */
export function normaliseTier(tier: string | null | undefined): string | undefined {
  if (tier === null || tier === undefined || tier === "") return undefined;
  return LEGACY_TIERS[tier] ?? tier;
}

interface Plan {
  includedAiBudgetUsd: number;
  resourceProfile: "small" | "pro";
}

const PLANS: Record<Tier, Plan> = {
  free: { includedAiBudgetUsd: 0, resourceProfile: "small" },
  byok: { includedAiBudgetUsd: 0, resourceProfile: "small" },
  hobby: { includedAiBudgetUsd: 15, resourceProfile: "small" },
  pro: { includedAiBudgetUsd: 150, resourceProfile: "pro" },
  enterprise: { includedAiBudgetUsd: 0, resourceProfile: "pro" },
};

/** Monthly included AI budget in USD; a tier without a plan counts as 0. */
export function includedBudget(tier: string): number {
  return (PLANS as Record<string, Plan | undefined>)[tier]?.includedAiBudgetUsd ?? 0;
}

const resources = (reqMem: string, reqCpu: string, limMem: string, limCpu: string) => ({
  requests: { memory: reqMem, cpu: reqCpu },
  limits: { memory: limMem, cpu: limCpu },
});

/** The 13 `pro` overrides; `small` (and anything unknown) keeps the component defaults. */
const PROFILE_OVERRIDES: Record<string, Record<string, unknown>> = {
  pro: {
    storage: "25Gi",
    mindroomResources: resources("1Gi", "500m", "4Gi", "2000m"),
    synapseResources: resources("1Gi", "500m", "4Gi", "2000m"),
    sandboxRunnerResources: resources("512Mi", "250m", "2Gi", "1000m"),
  },
};

/** Tenant value overrides of the tier's resource profile (nested, as `--set a.b.c=v` builds them). */
export function profileOverrides(tier: string): Record<string, unknown> {
  const profile = (PLANS as Record<string, Plan | undefined>)[tier]?.resourceProfile ?? "small";
  return structuredClone(PROFILE_OVERRIDES[profile] ?? {});
}
