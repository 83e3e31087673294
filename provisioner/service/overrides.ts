/**
 * Value overrides of a fleet upgrade (docs/fleet.md): chart values an operator may set on tenants,
 * checked before anything is queued. What the provisioner owns per tenant (identity, secrets,
 * images, which have their own fields, and the stopped flag) cannot be overridden.
 */
import { parseInstanceValues } from "../../components/instance/values";
import { ValuesError } from "../../infra/values/errors";

/** Keys the provisioner sets for every tenant; an override would break the tenant or leak a secret into state as plain text. */
const OWNED_KEYS: Readonly<Record<string, string>> = {
  customer: "the tenant id",
  accountId: "the tenant's account (re-provision with account_id)",
  baseDomain: "the provisioner's BASE_DOMAIN",
  instanceSecrets: "the tenant Secret",
  stopped: "the desired state (use start/stop)",
  mindroom_image: "an image (use mindroom_image)",
  synapse_image: "an image (use synapse_image)",
  supabaseUrl: "the provisioner's Supabase settings",
  supabaseAnonKey: "the provisioner's Supabase settings",
  supabaseServiceKey: "a secret",
  openai_key: "a secret",
  anthropic_key: "a secret",
  google_key: "a secret",
  deepseek_key: "a secret",
  openrouter_key: "a secret",
  sandbox_proxy_token: "a secret",
  credentials_encryption_key: "a secret",
  matrixRegistrationSharedSecret: "a secret",
  matrix_admin_password: "a secret",
  synapseMacaroonSecretKey: "a secret",
  synapseFormSecret: "a secret",
  matrixOidc: "the provisioner's OIDC settings",
  // A path read on the provisioner's host: only its operator's setting may name one, never a request.
  seedConfigPath: "the provisioner's INSTANCE_SEED_CONFIG_PATH",
};

export interface OverrideProblem {
  path: string[];
  message: string;
}

/** The first reason `values` cannot be applied to tenants, or undefined when they can. */
export function overrideProblem(values: Record<string, unknown>): OverrideProblem | undefined {
  for (const key of Object.keys(values)) {
    const owner = OWNED_KEYS[key];
    if (owner) return { path: [key], message: `${key} is ${owner}, set by the provisioner for every tenant; it cannot be overridden` };
  }
  try {
    parseInstanceValues({ customer: "1", ...values });
  } catch (err) {
    if (err instanceof ValuesError) return { path: [], message: err.message };
    throw err;
  }
  return undefined;
}
