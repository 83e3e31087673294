/**
 * `providerCredentials` (upstream values.yaml, validate.yaml, `_helpers.tpl`): one model-provider
 * API key per entry, from an existing Secret into the provider's native env var, which the runtime
 * syncs into its credential service at startup. The checks run in upstream's order.
 */
import { z } from "zod";
import { optionalString } from "../../infra/values/fields";
import { obj } from "./values-map";

/** Upstream `providerCredentialEnvMap` (MindRoom's `PROVIDER_ENV_KEYS`). */
export const PROVIDER_ENV: Readonly<Record<string, string>> = {
  anthropic: "ANTHROPIC_API_KEY",
  azure: "AZURE_OPENAI_API_KEY",
  openai: "OPENAI_API_KEY",
  google: "GOOGLE_API_KEY",
  openrouter: "OPENROUTER_API_KEY",
  deepseek: "DEEPSEEK_API_KEY",
  cerebras: "CEREBRAS_API_KEY",
  groq: "GROQ_API_KEY",
  zai: "ZAI_API_KEY",
  ollama: "OLLAMA_HOST",
};


export const providerCredentialsSchema = z
  .array(obj({ provider: optionalString, existingSecret: optionalString, key: optionalString }), { error: "must be a list of {provider, existingSecret, key} entries" })
  .nullable()
  .transform((v) => v ?? []);

export type ProviderCredential = z.output<typeof providerCredentialsSchema>[number];
type Fail = (path: PropertyKey[], message: string) => void;

/** A Secret data key, as the API server requires it. */
export const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

export function checkProviderCredentials(entries: ProviderCredential[], extraEnv: Record<string, unknown>[], fail: Fail): boolean {
  const supported = Object.keys(PROVIDER_ENV).sort().join(", ");
  const seen = new Set<string>();
  for (const [i, e] of entries.entries()) {
    const at = (...path: string[]) => ["providerCredentials", i, ...path];
    if (!e.provider) return (fail(at("provider"), `is required; use one of: ${supported}`), true);
    if (!Object.hasOwn(PROVIDER_ENV, e.provider)) return (fail(at("provider"), `"${e.provider}" is not supported; use one of: ${supported}`), true);
    if (seen.has(e.provider)) return (fail(at("provider"), `"${e.provider}" is used by an earlier entry; give each provider one entry`), true);
    seen.add(e.provider);
    if (!e.existingSecret) return (fail(at("existingSecret"), "is required; name the Secret (in the release namespace) that holds the key"), true);
    if (!e.key) return (fail(at("key"), "is required; name the key inside the Secret"), true);
    if (!SECRET_KEY.test(e.key)) return (fail(at("key"), `"${e.key}" must be a Secret key (letters, digits, '-', '_' and '.')`), true);
    const envName = PROVIDER_ENV[e.provider];
    if (extraEnv.some((x) => (x.name ?? "") === envName)) {
      return (fail(at("provider"), `"${e.provider}" sets ${envName}, which env.extra sets too; remove one of them`), true);
    }
  }
  return false;
}
