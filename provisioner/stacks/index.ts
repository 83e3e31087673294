/**
 * Factory of the Automation API adapter. `main.ts` calls it once at boot; a missing Pulumi CLI
 * rejects with a one-line `PulumiCliUnavailable`.
 */
import { tenantProgram, type TenantKubeAccess } from "../../stacks/tenant";
import { join, resolve } from "node:path";
import pino from "pino";
import type { TenantStacks } from "../ports";
import { checkCliVersion, findPulumiCli, type PulumiCommandLike } from "./cli";
import { backendUrl, passphraseEnv, previousPassphraseEnv, privateDir, scrubbedSecrets, type Env } from "./environment";
import { resolveKubeAccess } from "./kube-access";
import { LocalTenantStacks, type TenantProgramFactory } from "./tenant-stacks";

export { PulumiCliUnavailable, CLI_NOT_FOUND, type PulumiCommandLike } from "./cli";
export { tenantStackName, TENANT_PROJECT, STACK_NAME_PATTERN } from "./naming";
export { TAG_KEYS, LocalTenantStacks } from "./tenant-stacks";

export interface TenantStacksOptions {
  /** Environment in stack names (`<environment>-<id>`) and in the root StackReference. Required: it keeps environments apart in a shared backend. */
  environment: string;
  /** Provisioner data dir; holds `state/` (default backend), `passphrase` (generated default), `pulumi-home/`, `workspaces/`. */
  dataDir: string;
  /** Default `PULUMI_BACKEND_URL`, else `file://<dataDir>/state`: a single-host service needs nothing more (pulumi.md §6). */
  backendUrl?: string;
  /** Passphrase value. Default: `PULUMI_CONFIG_PASSPHRASE_FILE`, then `PULUMI_CONFIG_PASSPHRASE`, then a generated `<dataDir>/passphrase`. */
  passphrase?: string;
  /** Passphrase file; preferred over a value because the passphrase then is in no process environment. */
  passphraseFile?: string;
  /**
   * The passphrase the tenant stacks had before (docs/rekey.md): `changePassphrase` moves a stack from
   * it to the passphrase above. Default `PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE`, then
   * `PULUMI_PREVIOUS_CONFIG_PASSPHRASE`; unset when there is nothing to move from.
   */
  previousPassphrase?: string;
  /** File of the previous passphrase; preferred over a value. */
  previousPassphraseFile?: string;
  /** KMS secrets provider URL (e.g. `awskms://…`); default none = passphrase provider. Must match the root stacks' (pulumi.md §2.5). */
  secretsProvider?: string;
  /** Default `PULUMI_CLI_PATH`, else `pulumi` on PATH. */
  pulumiCliPath?: string;
  /** Default `<dataDir>/pulumi-home`: one fixed home so plugins and the current-stack records stay private to the service. */
  pulumiHome?: string;
  /** Root of the per-tenant workDirs; default `<dataDir>/workspaces`. */
  workspacesDir?: string;
  /** Default: in-cluster when KUBERNETES_SERVICE_HOST is set, else KUBECONFIG contents, else the root stack's kubeconfig output. */
  kube?: TenantKubeAccess;
  /** Test seam: a fake CLI (pulumi.md §2.9). Default: the CLI found at boot. */
  pulumiCommand?: PulumiCommandLike;
  /** Test seam: the tenant program factory. Default `tenantProgram` of `stacks/tenant.ts`. */
  program?: TenantProgramFactory;
  /** Environment to read (never written). Default `process.env`. */
  env?: Env;
  logger?: pino.Logger;
}

export async function createTenantStacks(options: TenantStacksOptions): Promise<TenantStacks> {
  const env = options.env ?? process.env;
  const logger = options.logger ?? pino({ level: "silent" });
  const dataDir = resolve(options.dataDir);
  privateDir(dataDir);
  // The embedded defaults (state dir, generated passphrase and its warning) are set up before the
  // CLI is looked for, so a first boot without the CLI already shows what it will use.
  const backend = backendUrl(dataDir, options.backendUrl || env.PULUMI_BACKEND_URL);
  const envVars: Record<string, string | undefined> = {
    ...scrubbedSecrets(env),
    PULUMI_BACKEND_URL: backend,
    PULUMI_SKIP_UPDATE_CHECK: "true",
    // Server-side apply with force for every tenant object, creates included. The provider reads
    // only this variable (and a per-object annotation), not the program's enablePatchForce: without
    // it, the upsert of an object a dead run had created (its create in flight when the provisioner
    // died, dropped from state by the recovery's refresh) failed with a field conflict against the
    // dead run's field manager on every value that changed since (test/engine/provisioner-crash.test.ts).
    PULUMI_K8S_ENABLE_PATCH_FORCE: "true",
    // The CLI inherits process.env, where PULUMI_CONFIG_PASSPHRASE (even empty) beats the file:
    // unset (undefined: Node's spawn drops the variable) whichever source was not chosen.
    PULUMI_CONFIG_PASSPHRASE: undefined,
    PULUMI_CONFIG_PASSPHRASE_FILE: undefined,
    ...passphraseEnv({ ...options, dataDir, env, logger }),
  };
  const pulumiCommand = options.pulumiCommand ?? (await findPulumiCli(options.pulumiCliPath || env.PULUMI_CLI_PATH));
  checkCliVersion(pulumiCommand);
  return new LocalTenantStacks({
    environment: options.environment,
    workspacesDir: resolve(options.workspacesDir ?? join(dataDir, "workspaces")),
    pulumiHome: resolve(options.pulumiHome ?? join(dataDir, "pulumi-home")),
    backendUrl: backend,
    secretsProvider: options.secretsProvider || undefined,
    envVars,
    previousPassphrase: previousPassphraseEnv({ ...options, env }),
    kube: options.kube ?? resolveKubeAccess(env, options.environment),
    pulumiCommand,
    program: options.program ?? tenantProgram,
    logger,
  });
}
