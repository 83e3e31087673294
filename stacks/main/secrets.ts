/**
 * Reads the root stack's secret config (`pulumi config set --secret ...`) and checks it before any
 * resource exists: a secret stored in plain text, or a credential the stack's settings need but
 * nobody set, is one line naming the key and the command that fixes it. All such lines are
 * reported together, so one run shows everything to fix.
 */
import { readFileSync } from "node:fs";
import * as pulumi from "@pulumi/pulumi";
import { truthy } from "../../infra/truthy";
import { ValuesError } from "../../infra/values/errors";
import { CONFIG_NAMESPACE, PLATFORM_SECRET_KEYS, type StackConfig } from "../config";
import type { MainSecrets } from "./program";

/** Where config comes from: the engine at run time, a plain map in tests. */
export interface ConfigSource {
  /** Value of a full key such as `mindroom:provisionerApiKey`; undefined when unset. */
  get(key: string): string | undefined;
  /** True when the key was stored encrypted (`pulumi config set --secret`). */
  isSecret(key: string): boolean;
}

/**
 * The engine's config. `isConfigSecret` is the SDK's own test behind `Config.getSecret`; it is
 * exported at run time but left out of the typings, hence the narrow cast.
 */
export function engineConfigSource(): ConfigSource {
  const all = pulumi.runtime.allConfig();
  const runtime = pulumi.runtime as unknown as { isConfigSecret(key: string): boolean };
  return { get: (key) => all[key], isSecret: (key) => runtime.isConfigSecret(key) };
}

const HCLOUD_TOKEN_KEY = "hcloud:token";

/** Credentials the running provisioner cannot work without (it answers 401 to everything without an API key). */
const PROVISIONER_CREDENTIALS: Record<string, string> = {
  provisionerApiKey: 'pulumi config set --secret provisionerApiKey "$(openssl rand -hex 32)"',
};

const TENANT_PASSPHRASE_FIX = 'pulumi config set --secret tenantStacksPassphrase "$(openssl rand -hex 32)" (or pulumi config rm tenantStacksPassphrase to have one generated)';

/**
 * This stack's own passphrase, as the CLI running the program has it (PULUMI_CONFIG_PASSPHRASE, else
 * the trimmed PULUMI_CONFIG_PASSPHRASE_FILE); undefined with a KMS provider or an unreadable file.
 */
function rootPassphrase(env: NodeJS.ProcessEnv): string | undefined {
  if (env.PULUMI_CONFIG_PASSPHRASE !== undefined) return env.PULUMI_CONFIG_PASSPHRASE;
  if (!env.PULUMI_CONFIG_PASSPHRASE_FILE) return undefined;
  try {
    return readFileSync(env.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8").trim();
  } catch {
    return undefined;
  }
}

/**
 * The tenant stacks' passphrase (docs/rekey.md): never this stack's own (the internet-facing
 * provisioner holds it, and with it the committed stack files would decrypt to the Hetzner token and
 * every platform key); one line the CLI can read back from a file or stdin; explicit beside a
 * previous one (a generated one is kept from the Secret's state and could not replace the old value).
 */
function tenantPassphraseProblems(source: ConfigSource, env: NodeJS.ProcessEnv): string[] {
  const key = `${CONFIG_NAMESPACE}:tenantStacksPassphrase`;
  const previousKey = `${CONFIG_NAMESPACE}:previousTenantStacksPassphrase`;
  const tenant = source.get(key) || undefined;
  const previous = source.get(previousKey) || undefined;
  const problems: string[] = [];
  if (tenant !== undefined) {
    const root = rootPassphrase(env);
    if (root !== undefined && root !== "" && tenant === root) {
      problems.push(`${key}: equals this stack's own passphrase (PULUMI_CONFIG_PASSPHRASE), which would hand the internet-facing provisioner the root stacks' secrets; set another: ${TENANT_PASSPHRASE_FIX}`);
    } else if (tenant !== tenant.trim() || /[\r\n]/.test(tenant)) {
      problems.push(`${key}: has leading or trailing blanks or a line break, which the provisioner's passphrase file and the CLI trim away; set it on one line: ${TENANT_PASSPHRASE_FIX}`);
    }
  }
  if (previous !== undefined && tenant === undefined) {
    problems.push(`${key}: required while previousTenantStacksPassphrase is set (a generated passphrase is kept from the provisioner Secret's state and could not replace the previous one there); run \`pulumi config set --secret tenantStacksPassphrase "$(openssl rand -hex 32)"\``);
  }
  if (previous !== undefined && previous === tenant) {
    problems.push(`${previousKey}: equals tenantStacksPassphrase, so there is nothing to move; remove it: pulumi config rm previousTenantStacksPassphrase`);
  }
  return problems;
}

function provisionerEnabled(platform: Record<string, unknown>): boolean {
  const provisioner = platform.provisioner as { enabled?: unknown } | undefined;
  const platformSecrets = platform.platformSecrets as { create?: unknown } | undefined;
  // With platformSecrets.create=false the operator pre-creates the Secrets; nothing to require here.
  return truthy(provisioner?.enabled) && (platformSecrets?.create === undefined || truthy(platformSecrets.create));
}

/**
 * The secrets `mainProgram` needs, each wrapped as a Pulumi secret. `env` supplies `HCLOUD_TOKEN`,
 * which the hcloud provider also accepts instead of `hcloud:token`.
 */
export function readStackSecrets(config: StackConfig, source: ConfigSource, env: NodeJS.ProcessEnv = process.env): MainSecrets {
  const problems: string[] = [];
  /** The value as a secret; undefined when unset, empty, or stored in plain text (reported once). */
  const read = (fullKey: string, shortKey: string): pulumi.Output<string> | undefined => {
    const value = source.get(fullKey);
    if (value === undefined || value === "") return undefined;
    if (!source.isSecret(fullKey)) {
      problems.push(`${fullKey}: stored in plain text in the stack file; remove it (pulumi config rm ${shortKey}) and set it encrypted: pulumi config set --secret ${shortKey} <value>`);
      return undefined;
    }
    return pulumi.secret(value);
  };
  const isPlaintext = (fullKey: string) => Boolean(source.get(fullKey)) && !source.isSecret(fullKey);

  const platform = Object.entries(PLATFORM_SECRET_KEYS).flatMap(([key, path]) => {
    const value = read(`${CONFIG_NAMESPACE}:${key}`, key);
    return value ? [{ path, value }] : [];
  });
  const given = new Set(platform.map(({ path }) => path.join(".")));

  const hcloudToken = read(HCLOUD_TOKEN_KEY, HCLOUD_TOKEN_KEY) ?? (env.HCLOUD_TOKEN ? pulumi.secret(env.HCLOUD_TOKEN) : undefined);
  if (config.mode === "hetzner" && !hcloudToken && !isPlaintext(HCLOUD_TOKEN_KEY)) {
    problems.push(`${HCLOUD_TOKEN_KEY}: not set; run \`pulumi config set --secret hcloud:token <read/write API token>\` (or export HCLOUD_TOKEN)`);
  }

  // A path is plain config; contents are credentials and belong encrypted (`mindroom:local` is then a secret key).
  const kubeconfig = config.local.kubeconfig;
  if (kubeconfig && /\n|^\s*\{/.test(kubeconfig) && !source.isSecret(`${CONFIG_NAMESPACE}:local`)) {
    problems.push(
      `${CONFIG_NAMESPACE}:local.kubeconfig: holds kubeconfig contents (cluster credentials) in plain text in the stack file; give the file's path instead, or store it encrypted: pulumi config set --secret --path local.kubeconfig "$(cat <file>)"`,
    );
  }

  if (config.deployPlatform && provisionerEnabled(config.platform)) {
    for (const [key, command] of Object.entries(PROVISIONER_CREDENTIALS)) {
      const fullKey = `${CONFIG_NAMESPACE}:${key}`;
      if (!given.has(PLATFORM_SECRET_KEYS[key].join(".")) && !isPlaintext(fullKey)) {
        problems.push(`${fullKey}: required while platform.provisioner.enabled is true; run \`${command}\``);
      }
    }
  }

  if (config.deployPlatform) problems.push(...tenantPassphraseProblems(source, env));

  if (problems.length > 0) throw new ValuesError(problems.join("\n"));
  return { hcloudToken, platform };
}
