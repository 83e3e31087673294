/**
 * Provisioner configuration, read once at boot (as upstream: restart to change). Every variable of
 * spec provisioner.md §2 plus the project's own; secrets come from `NAME` or, when that is unset or
 * empty, from the file named by `NAME_FILE` (content trimmed; the env value is not). Invalid values
 * stop the boot with one line naming the variable and the fix.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { z } from "zod";

/** The trusted-upstream settings (13 upstream, 3 project): env suffix → tenant value key under `trustedUpstreamAuth`. */
export const TRUSTED_UPSTREAM_KEYS = {
  ENABLED: "enabled",
  USER_ID_HEADER: "userIdHeader",
  EMAIL_HEADER: "emailHeader",
  MATRIX_USER_ID_HEADER: "matrixUserIdHeader",
  EMAIL_TO_MATRIX_USER_ID_TEMPLATE: "emailToMatrixUserIdTemplate",
  REQUIRE_JWT: "requireJwt",
  JWT_HEADER: "jwtHeader",
  JWKS_URL: "jwksUrl",
  JWT_AUDIENCE: "jwtAudience",
  JWT_ISSUER: "jwtIssuer",
  JWT_EMAIL_CLAIM: "jwtEmailClaim",
  JWT_USER_ID_CLAIM: "jwtUserIdClaim",
  JWT_MATRIX_USER_ID_CLAIM: "jwtMatrixUserIdClaim",
  // Project: how the tenant Ingress admits the identity headers (infra/trusted-upstream.ts).
  AUTH_URL: "authUrl",
  AUTH_SIGNIN: "authSignin",
  ACKNOWLEDGE_UNVERIFIED_HEADERS: "acknowledgeUnverifiedHeaders",
} as const;

export type TrustedUpstreamKey = (typeof TRUSTED_UPSTREAM_KEYS)[keyof typeof TRUSTED_UPSTREAM_KEYS];

export interface ProvisionerConfig {
  /** Bearer token of `/system/*`; empty → every request 401 (fail closed). */
  apiKey: string;
  /** Preferred root of derived secrets (§6.5); empty → `apiKey`. */
  credentialsEncryptionSecret: string;
  platformDomain: string;
  /** Tenant URLs and `baseDomain`: `INSTANCE_BASE_DOMAIN`, else `PLATFORM_DOMAIN`. */
  baseDomain: string;
  storageClassName: string;
  mindroomImage: string;
  mindroomImagePullPolicy: string;
  synapseImage: string;
  synapseImagePullPolicy: string;
  /** Raw comma-separated list; split and trimmed where used. */
  imagePullSecretNames: string;
  matrixHomeserverStartupTimeoutSeconds: string;
  /** `INSTANCE_SEED_CONFIG_PATH` made absolute: the tenants' seed `config.yaml` (`seedConfigPath`); empty → the project's. */
  seedConfigPath: string;
  trustedUpstream: Record<TrustedUpstreamKey, string>;
  matrixOidcEnabled: string;
  matrixOidcIssuer: string;
  matrixOidcClientId: string;
  matrixOidcClientSecret: string;
  openrouterProvisioningApiKey: string;
  /** OpenRouter API root; overridable so tests and staging can point at a stub. */
  openrouterApiUrl: string;
  sandboxProxyToken: string;
  supabaseUrl: string;
  supabaseAnonKey: string;
  supabaseServiceKey: string;
  /** Upstream `ENVIRONMENT` (default `production`): OpenAPI docs off and log redaction in production. */
  environment: string;
  /** Environment part of tenant stack names and tags, e.g. `staging`. */
  mindroomEnvironment: string;
  port: number;
  /** Listen address; default all interfaces (a pod answers probes on its IP). `127.0.0.1` for local runs and tests. */
  host?: string;
  dataDir: string;
  pulumiBackendUrl: string;
  pulumiConfigPassphrase: string;
  /** `PULUMI_PREVIOUS_CONFIG_PASSPHRASE[_FILE]`: the tenant stacks' passphrase before a rekey (docs/rekey.md); temporary, empty when no move is under way. */
  pulumiPreviousConfigPassphrase: string;
  /** KMS or other secrets-provider URL; empty → passphrase provider. */
  pulumiSecretsProvider: string;
  pulumiCliPath: string;
  pulumiHome: string;
  /** Root of the per-tenant work directories (one persistent directory per stack). */
  workDir: string;
  /** Global cap on concurrent stack operations (each spawns the CLI plus providers). */
  concurrency: number;
  jobRetentionHours: number;
  operationTimeoutSeconds: number;
  uninstallWaitSeconds: number;
  readinessTimeoutSeconds: number;
  readinessBackgroundSeconds: number;
  /** Pod IP accepted as Host (trusted hosts, §3.1). */
  podIp: string;
  logLevel: string;
}

type Env = Record<string, string | undefined>;

/** `NAME`, or when unset/empty the trimmed content of the file named by `NAME_FILE`. */
export function readSecret(env: Env, name: string): string {
  const direct = env[name];
  if (direct) return direct;
  const file = env[`${name}_FILE`];
  if (!file) return "";
  try {
    return readFileSync(file, "utf8").trim();
  } catch (err) {
    throw new Error(`${name}_FILE: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? "error"}); point it at a readable file or set ${name}`);
  }
}

const str = (fallback = "") => z.string().optional().transform((v) => v ?? fallback);
const int = (name: string, fallback: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v === "") return fallback;
      const n = Number(v);
      if (!/^\d+$/.test(v.trim()) || n < min || n > max) {
        ctx.addIssue({ code: "custom", message: `${name} must be an integer from ${min} to ${max} (got "${v}")` });
        return z.NEVER;
      }
      return n;
    });

const plainSchema = z.object({
  PLATFORM_DOMAIN: str("mindroom.chat"),
  INSTANCE_BASE_DOMAIN: str(),
  INSTANCE_STORAGE_CLASS_NAME: str(),
  INSTANCE_MINDROOM_IMAGE: str(),
  INSTANCE_MINDROOM_IMAGE_PULL_POLICY: str(),
  INSTANCE_SYNAPSE_IMAGE: str(),
  INSTANCE_SYNAPSE_IMAGE_PULL_POLICY: str(),
  INSTANCE_IMAGE_PULL_SECRET_NAMES: str(),
  INSTANCE_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: str(),
  INSTANCE_SEED_CONFIG_PATH: str(),
  INSTANCE_MATRIX_OIDC_ENABLED: str(),
  INSTANCE_MATRIX_OIDC_ISSUER: str(),
  INSTANCE_MATRIX_OIDC_CLIENT_ID: str(),
  OPENROUTER_API_URL: z.url({ message: "OPENROUTER_API_URL must be an http(s) URL such as https://openrouter.ai/api/v1" }).optional(),
  // Empty means unset (mirror off), as upstream's `os.getenv(...) or ""` did: a ConfigMap that always
  // carries the key must not stop the boot.
  SUPABASE_URL: z.preprocess(
    (v) => (v === "" ? undefined : v),
    z.url({ message: "SUPABASE_URL must be a URL such as https://xyz.supabase.co (or unset it to turn the mirror off)" }).optional(),
  ),
  SUPABASE_ANON_KEY: str(),
  ENVIRONMENT: str("production"),
  MINDROOM_ENVIRONMENT: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,30}[a-z0-9])?$/, "MINDROOM_ENVIRONMENT must be a short DNS label such as staging or production")
    .optional(),
  PORT: int("PORT", 8080, 0, 65535),
  HOST: z.union([z.ipv4(), z.ipv6()], { message: "HOST must be an IP address to listen on, e.g. 127.0.0.1 (default: all interfaces)" }).optional(),
  MINDROOM_DATA_DIR: str("./.mindroom"),
  PULUMI_BACKEND_URL: str(),
  PULUMI_SECRETS_PROVIDER: str(),
  PULUMI_CLI_PATH: str(),
  PULUMI_HOME: str(),
  PROVISIONER_WORK_DIR: str(),
  PROVISIONER_CONCURRENCY: int("PROVISIONER_CONCURRENCY", 2, 1, 16),
  PROVISIONER_JOB_RETENTION_HOURS: int("PROVISIONER_JOB_RETENTION_HOURS", 24, 1, 24 * 30),
  PROVISIONER_OPERATION_TIMEOUT_SECONDS: int("PROVISIONER_OPERATION_TIMEOUT_SECONDS", 900, 10, 86_400),
  PROVISIONER_UNINSTALL_WAIT_SECONDS: int("PROVISIONER_UNINSTALL_WAIT_SECONDS", 240, 0, 3600),
  PROVISIONER_READINESS_TIMEOUT_SECONDS: int("PROVISIONER_READINESS_TIMEOUT_SECONDS", 180, 0, 3600),
  PROVISIONER_READINESS_BACKGROUND_SECONDS: int("PROVISIONER_READINESS_BACKGROUND_SECONDS", 600, 0, 86_400),
  POD_IP: str(),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace"], { message: "LOG_LEVEL must be one of fatal, error, warn, info, debug, trace" }).optional(),
});

/** Parses the environment; throws one line `<VAR>: <fix>` on the first invalid value. */
export function loadConfig(env: Env = process.env): ProvisionerConfig {
  const parsed = plainSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = String(issue.path[0] ?? "environment");
    throw new Error(issue.message.startsWith(name) ? issue.message : `${name}: ${issue.message}`);
  }
  const e = parsed.data;
  const dataDir = resolve(e.MINDROOM_DATA_DIR);
  const trustedUpstream = Object.fromEntries(
    Object.entries(TRUSTED_UPSTREAM_KEYS).map(([suffix, key]) => [key, env[`INSTANCE_TRUSTED_UPSTREAM_${suffix}`] ?? ""]),
  ) as Record<TrustedUpstreamKey, string>;
  return {
    apiKey: readSecret(env, "PROVISIONER_API_KEY"),
    credentialsEncryptionSecret: readSecret(env, "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET"),
    platformDomain: e.PLATFORM_DOMAIN || "mindroom.chat",
    baseDomain: e.INSTANCE_BASE_DOMAIN || e.PLATFORM_DOMAIN || "mindroom.chat",
    storageClassName: e.INSTANCE_STORAGE_CLASS_NAME,
    mindroomImage: e.INSTANCE_MINDROOM_IMAGE,
    mindroomImagePullPolicy: e.INSTANCE_MINDROOM_IMAGE_PULL_POLICY,
    synapseImage: e.INSTANCE_SYNAPSE_IMAGE,
    synapseImagePullPolicy: e.INSTANCE_SYNAPSE_IMAGE_PULL_POLICY,
    imagePullSecretNames: e.INSTANCE_IMAGE_PULL_SECRET_NAMES,
    matrixHomeserverStartupTimeoutSeconds: e.INSTANCE_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS,
    seedConfigPath: e.INSTANCE_SEED_CONFIG_PATH ? resolve(e.INSTANCE_SEED_CONFIG_PATH) : "",
    trustedUpstream,
    matrixOidcEnabled: e.INSTANCE_MATRIX_OIDC_ENABLED,
    matrixOidcIssuer: e.INSTANCE_MATRIX_OIDC_ISSUER,
    matrixOidcClientId: e.INSTANCE_MATRIX_OIDC_CLIENT_ID,
    matrixOidcClientSecret: readSecret(env, "INSTANCE_MATRIX_OIDC_CLIENT_SECRET"),
    openrouterProvisioningApiKey: readSecret(env, "OPENROUTER_PROVISIONING_API_KEY"),
    openrouterApiUrl: (e.OPENROUTER_API_URL ?? "https://openrouter.ai/api/v1").replace(/\/+$/, ""),
    sandboxProxyToken: readSecret(env, "SANDBOX_PROXY_TOKEN"),
    supabaseUrl: e.SUPABASE_URL ?? "",
    supabaseAnonKey: e.SUPABASE_ANON_KEY,
    supabaseServiceKey: readSecret(env, "SUPABASE_SERVICE_KEY"),
    environment: e.ENVIRONMENT || "production",
    mindroomEnvironment: e.MINDROOM_ENVIRONMENT ?? (/^[a-z0-9-]+$/.test(e.ENVIRONMENT) ? e.ENVIRONMENT : "production"),
    port: e.PORT,
    host: e.HOST,
    dataDir,
    pulumiBackendUrl: e.PULUMI_BACKEND_URL || `file://${resolve(dataDir, "state")}`,
    pulumiConfigPassphrase: readSecret(env, "PULUMI_CONFIG_PASSPHRASE"),
    pulumiPreviousConfigPassphrase: readSecret(env, "PULUMI_PREVIOUS_CONFIG_PASSPHRASE"),
    pulumiSecretsProvider: e.PULUMI_SECRETS_PROVIDER,
    pulumiCliPath: e.PULUMI_CLI_PATH,
    pulumiHome: e.PULUMI_HOME ? resolve(e.PULUMI_HOME) : resolve(dataDir, "pulumi-home"),
    workDir: e.PROVISIONER_WORK_DIR ? resolve(e.PROVISIONER_WORK_DIR) : resolve(dataDir, "workspaces"),
    concurrency: e.PROVISIONER_CONCURRENCY,
    jobRetentionHours: e.PROVISIONER_JOB_RETENTION_HOURS,
    operationTimeoutSeconds: e.PROVISIONER_OPERATION_TIMEOUT_SECONDS,
    uninstallWaitSeconds: e.PROVISIONER_UNINSTALL_WAIT_SECONDS,
    readinessTimeoutSeconds: e.PROVISIONER_READINESS_TIMEOUT_SECONDS,
    readinessBackgroundSeconds: e.PROVISIONER_READINESS_BACKGROUND_SECONDS,
    podIp: e.POD_IP,
    logLevel: e.LOG_LEVEL ?? "info",
  };
}

/** True for `production`/`prod` (upstream: docs off, log redaction on). */
export function isProduction(config: Pick<ProvisionerConfig, "environment">): boolean {
  return ["production", "prod"].includes(config.environment.trim().toLowerCase());
}
