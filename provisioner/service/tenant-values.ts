/**
 * Tenant component values for one provisioning run (spec provisioner.md §6.9): the upstream Helm
 * arguments, in upstream order and with upstream keys, typed the way `helm --set` typed them, plus
 * the ten tenant Secret values (Deviation 6: the tenant stack owns the Secret).
 */
import type { ProvisionerConfig } from "../config";
import { truthy } from "../../infra/truthy";
import { profileOverrides } from "./plans";
import { tenantObjectNames } from "../../infra/tenant-names";

/** The ten tenant Secret keys (§6.8). */
export const SECRET_KEYS = [
  "openai_key",
  "anthropic_key",
  "google_key",
  "deepseek_key",
  "openrouter_key",
  "supabase_service_key",
  "sandbox_proxy_token",
  "credentials_encryption_key",
  "matrix_oidc_client_secret",
  "matrix_registration_shared_secret",
] as const;
export type TenantSecrets = Record<(typeof SECRET_KEYS)[number], string>;

export const AUTO_JOIN_ROOM_KEYS = [
  "analysis", "automation", "business", "communication", "dev", "docs", "finance", "help",
  "home", "lobby", "news", "ops", "personal", "productivity", "research", "science",
] as const;

/** How `helm --set` types a value (Helm strvals `typedVal`); `--set-string` values stay strings. */
export function helmTyped(raw: string): string | number | boolean | null {
  const lower = raw.toLowerCase();
  if (lower === "true") return true;
  if (lower === "false") return false;
  if (lower === "null") return null;
  if (raw === "0") return 0;
  if (raw.length > 0 && raw[0] !== "0" && /^[-+]?\d+$/.test(raw)) {
    const n = Number(raw);
    if (Number.isSafeInteger(n)) return n;
  }
  return raw;
}

/** Upstream's truthy test for the OIDC room-access block (§6.9 rows 18–19): trimmed, then the charts' test. */
export function isTruthyFlag(raw: string): boolean {
  return truthy(raw.trim());
}

export interface TenantValuesInput {
  instanceId: string;
  /** The request's `account_id` as sent (null → the literal `None`, upstream defect kept). */
  accountId: string | null;
  tier: string;
  ownerMxid: string | null;
  storageClassName: string | null;
  secrets: TenantSecrets;
  hash: string;
}

export function buildTenantValues(config: ProvisionerConfig, input: TenantValuesInput): Record<string, unknown> {
  const v: Record<string, unknown> = {
    customer: helmTyped(input.instanceId),
    baseDomain: helmTyped(config.baseDomain),
    accountId: helmTyped(input.accountId === null ? "None" : input.accountId),
    supabaseUrl: helmTyped(config.supabaseUrl),
    supabaseAnonKey: helmTyped(config.supabaseAnonKey),
    instanceSecrets: { create: true, name: tenantObjectNames(input.instanceId).apiKeysSecret, hash: input.hash },
  };
  if (input.storageClassName) v.storageClassName = input.storageClassName;
  Object.assign(v, profileOverrides(input.tier));
  if (config.mindroomImage) v.mindroom_image = helmTyped(config.mindroomImage);
  if (config.mindroomImagePullPolicy) v.mindroom_image_pull_policy = helmTyped(config.mindroomImagePullPolicy);
  if (input.ownerMxid) v.authorizationGlobalUsers = [input.ownerMxid];
  const pullSecrets = config.imagePullSecretNames.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
  if (pullSecrets.length > 0) v.imagePullSecrets = pullSecrets.map((name) => ({ name }));
  if (config.matrixHomeserverStartupTimeoutSeconds) {
    v.matrixHomeserverStartupTimeoutSeconds = helmTyped(config.matrixHomeserverStartupTimeoutSeconds);
  }
  if (config.synapseImage) v.synapse_image = helmTyped(config.synapseImage);
  if (config.synapseImagePullPolicy) v.synapse_image_pull_policy = helmTyped(config.synapseImagePullPolicy);
  if (config.seedConfigPath) v.seedConfigPath = config.seedConfigPath; // a path: never helm-typed
  const trusted = Object.fromEntries(
    Object.entries(config.trustedUpstream).filter(([, raw]) => raw !== "").map(([key, raw]) => [key, helmTyped(raw)]),
  );
  if (Object.keys(trusted).length > 0) v.trustedUpstreamAuth = trusted;
  const oidc: Record<string, unknown> = {};
  if (config.matrixOidcEnabled) oidc.enabled = helmTyped(config.matrixOidcEnabled);
  if (isTruthyFlag(config.matrixOidcEnabled)) {
    v.matrixRoomAccess = { mode: "multi_user", multiUserJoinRule: "public", publishToRoomDirectory: false, reconcileExistingRooms: true };
    v.matrixAutoJoinRoomKeys = [...AUTO_JOIN_ROOM_KEYS];
  }
  if (config.matrixOidcIssuer) oidc.issuer = helmTyped(config.matrixOidcIssuer);
  if (config.matrixOidcClientId) oidc.clientId = helmTyped(config.matrixOidcClientId);
  // Secret values (Deviation 6), under the component's value names; the adapter wraps them as secrets.
  const s = input.secrets;
  oidc.clientSecret = s.matrix_oidc_client_secret;
  v.matrixOidc = oidc;
  Object.assign(v, {
    openai_key: s.openai_key,
    anthropic_key: s.anthropic_key,
    google_key: s.google_key,
    deepseek_key: s.deepseek_key,
    openrouter_key: s.openrouter_key,
    supabaseServiceKey: s.supabase_service_key,
    sandbox_proxy_token: s.sandbox_proxy_token,
    credentials_encryption_key: s.credentials_encryption_key,
    matrixRegistrationSharedSecret: s.matrix_registration_shared_secret,
  });
  return v;
}
