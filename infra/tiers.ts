/**
 * The plan tiers (upstream `saas-platform/pricing-config.yaml`): the names the provisioner API
 * accepts (provisioner/service/plans.ts re-exports these) and the capacity CLI refuses others with.
 */
export const TIERS = ["free", "byok", "hobby", "pro", "enterprise"] as const;
export type Tier = (typeof TIERS)[number];

/** Tier names of the first pricing model, mapped as upstream's migration renamed them. */
export const LEGACY_TIERS: Readonly<Record<string, Tier>> = { starter: "byok", professional: "pro" };

/** The API's message for any other name. */
export const TIER_ERROR = `tier must be one of ${TIERS.join(", ")}`;
