/**
 * What every CLI invocation of a tenant workspace gets through `envVars` (never through
 * `process.env`, which this module only reads): backend URL, passphrase source, and blanks for the
 * provisioner's own secrets, because the SDK runs the CLI with the parent environment merged in and
 * the CLI hands its environment on to every provider plugin.
 */
import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type pino from "pino";
import type { PassphraseVars } from "./passphrase";

export type Env = Record<string, string | undefined>;

/** Provisioner secrets (spec §2) that no CLI or provider process needs. */
export const PROVISIONER_SECRET_VARS = [
  "PROVISIONER_API_KEY",
  "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET",
  "SUPABASE_SERVICE_KEY",
  "OPENROUTER_PROVISIONING_API_KEY",
  "SANDBOX_PROXY_TOKEN",
  "INSTANCE_MATRIX_OIDC_CLIENT_SECRET",
  // The passphrase the tenant stacks had before a rekey (docs/rekey.md): the CLI gets it only for the move.
  "PULUMI_PREVIOUS_CONFIG_PASSPHRASE",
] as const;

export interface PassphraseOptions {
  dataDir: string;
  /** Explicit passphrase value (e.g. read by the config from PULUMI_CONFIG_PASSPHRASE[_FILE]). */
  passphrase?: string;
  /** Explicit passphrase file. */
  passphraseFile?: string;
  /** A KMS secrets provider needs no passphrase (`passphrase`, the default provider's name, does). */
  secretsProvider?: string;
  env: Env;
  logger?: pino.Logger;
}

/**
 * The env var carrying the passphrase to the CLI. A file is preferred (the passphrase then is in no
 * process environment); the embedded default generates `<dataDir>/passphrase` once (mode 0600).
 * Losing that file makes every tenant stack's secrets undecryptable: back it up with the state.
 */
export function passphraseEnv(options: PassphraseOptions): Record<string, string> {
  const file = options.passphraseFile || options.env.PULUMI_CONFIG_PASSPHRASE_FILE;
  if (file) return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
  const value = options.passphrase || options.env.PULUMI_CONFIG_PASSPHRASE;
  if (value) return { PULUMI_CONFIG_PASSPHRASE: value };
  // `passphrase` is the CLI's name for the default provider itself, which still needs one.
  if (options.secretsProvider && options.secretsProvider !== "passphrase") return {};
  privateDir(options.dataDir);
  const generated = join(options.dataDir, "passphrase");
  if (!existsSync(generated)) {
    writeFileSync(generated, randomBytes(32).toString("base64url") + "\n", { mode: 0o600, flag: "wx" });
    options.logger?.warn(
      { file: generated },
      "generated a Pulumi passphrase for the tenant stacks; back it up with the state, or set PULUMI_CONFIG_PASSPHRASE_FILE",
    );
  }
  chmodSync(generated, 0o600);
  return { PULUMI_CONFIG_PASSPHRASE_FILE: generated };
}

/**
 * The passphrase the tenant stacks were encrypted with before the move to the provisioner's own
 * (docs/rekey.md), as the CLI variable that carries it to `stack change-secrets-provider`: a file
 * (`PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE`, or `previousPassphraseFile`) is preferred, then a value.
 * Undefined when none is set: there is then nothing to move from.
 */
export function previousPassphraseEnv(options: { previousPassphrase?: string; previousPassphraseFile?: string; env: Env }): PassphraseVars | undefined {
  const file = options.previousPassphraseFile || options.env.PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE;
  if (file) return { PULUMI_CONFIG_PASSPHRASE_FILE: file };
  const value = options.previousPassphrase || options.env.PULUMI_PREVIOUS_CONFIG_PASSPHRASE;
  return value ? { PULUMI_CONFIG_PASSPHRASE: value } : undefined;
}

/**
 * Default backend: a file backend in the data dir. A `file://` directory is created (0700) so the
 * first `stack init` works; the default `<dataDir>/state` and the data dir itself are also
 * tightened to 0700 when they already exist wider (they hold every tenant's encrypted state). A
 * configured `file://` directory that already exists is left as it is (it may be shared on purpose).
 */
export function backendUrl(dataDir: string, configured?: string): string {
  const url = configured || `file://${join(dataDir, "state")}`;
  const path = url.startsWith("file://") ? url.slice("file://".length).split("?")[0] : "";
  // The config spells the default out (PULUMI_BACKEND_URL defaults to file://<dataDir>/state there).
  if (path === join(dataDir, "state")) {
    privateDir(dataDir);
    privateDir(path);
  } else if (path.startsWith("/")) mkdirSync(path, { recursive: true, mode: 0o700 });
  return url;
}

/**
 * Creates `dir` (and missing parents) with mode 0700, and tightens it to 0700 if it already exists
 * with group or other bits. A chmod the process may not do (a directory owned by someone else, e.g.
 * a volume root) is skipped: it must not stop the boot.
 */
export function privateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    if ((statSync(dir).mode & 0o077) !== 0) chmodSync(dir, 0o700);
  } catch {
    // Not ours to change; the files inside are still written 0600 / in 0700 subdirectories.
  }
}

/** Blanks for the provisioner's secrets that are present in the parent environment. */
export function scrubbedSecrets(env: Env): Record<string, string> {
  return Object.fromEntries(PROVISIONER_SECRET_VARS.filter((name) => env[name]).map((name) => [name, ""]));
}
