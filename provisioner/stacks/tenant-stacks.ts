/**
 * `TenantStacks` over the Automation API: one `LocalWorkspace` per operation on a persistent
 * per-tenant workDir, one `PulumiCommand` for the process, the tenant program inline with its
 * secrets in the closure. See docs/provisioner-adapters.md for the layout and the error mapping.
 */
import {
  CommandError,
  LocalWorkspace,
  Stack,
  StackAlreadyExistsError,
  StackNotFoundError,
  type EngineEvent,
  type OutputMap,
  type PulumiCommand,
  type PulumiFn,
  type StepEventMetadata,
} from "@pulumi/pulumi/automation";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type pino from "pino";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { writeFileAtomic } from "../atomic-file";
import { SemVer } from "semver";
import type { TenantKubeAccess, TenantProgramOptions } from "../../stacks/tenant";
import {
  EngineError,
  type DesiredState,
  type DestroyResult,
  type OperationOptions,
  type PassphraseChange,
  type PreviewResult,
  type ResourceChange,
  type StackSummary,
  type TenantSpec,
  type TenantStacks,
  type UpResult,
} from "../ports";
import { runWithInput, type PulumiCommandLike } from "./cli";
import { mapStackError, scrub, secretNeedles } from "./errors";
import { tenantVolumes } from "../../infra/tenant-names";
import { prepareDiyRecovery } from "./diy-recovery";
import { eventForwarder } from "./events";
import { instanceIdOf, tenantStackName, TENANT_PROJECT } from "./naming";
import { opensState, passphraseOf, type PassphraseVars } from "./passphrase";

/** Builds the inline program for validated values (the signature of `stacks/tenant.ts`). */
export type TenantProgramFactory = (
  values: Record<string, unknown>,
  options: TenantProgramOptions,
) => () => Promise<Record<string, unknown>>;

/** Stack tags recording the non-secret bookkeeping of `TenantSpec.tags` (pulumi.md §6: not `pulumi:*`). */
export const TAG_KEYS = {
  customer: "mindroom:customer",
  account: "mindroom:account",
  tier: "mindroom:tier",
  desiredState: "mindroom:desired-state",
  subscription: "mindroom:subscription",
} as const;

/** First CLI release that stores tags on DIY backends (PR #19882). */
const DIY_TAGS_SINCE = new SemVer("3.211.0");

/** Folder name for the workspace used by `list()`; never a valid stack name, so no collision. */
const PROJECT_WORKSPACE = "_project";

const EMPTY_PROGRAM: PulumiFn = async () => ({});

/** CLI processes `list()` runs at once to read tags (short reads; a Go process each). */
const LIST_CONCURRENCY = 4;

export interface ResolvedTenantStacksSettings {
  environment: string;
  workspacesDir: string;
  pulumiHome: string;
  backendUrl: string;
  secretsProvider?: string;
  /** Per-call environment; an undefined value removes a variable the CLI would inherit from process.env. */
  envVars: Record<string, string | undefined>;
  /** The passphrase the tenant stacks had before the move to the one in `envVars` (docs/rekey.md); unset: nothing to move from. */
  previousPassphrase?: PassphraseVars;
  kube: TenantKubeAccess;
  pulumiCommand: PulumiCommandLike;
  program: TenantProgramFactory;
  logger: pino.Logger;
  /** How long `recover` waits for a CLI of a dead provisioner that still holds the stack before killing it (default 30 s). */
  recoveryGraceMs?: number;
}

type Metadata = Partial<Record<keyof typeof TAG_KEYS, string>>;

export class LocalTenantStacks implements TenantStacks {
  /**
   * Tags where the backend stores them, otherwise plaintext (non-secret) stack config. Decided by
   * backend kind and CLI version only: a failing tag command is an I/O error of that operation.
   */
  private readonly useTags: boolean;

  constructor(private readonly s: ResolvedTenantStacksSettings) {
    const diy = !/^https?:\/\//.test(s.backendUrl);
    const version = s.pulumiCommand.version;
    this.useTags = !diy || (version !== null && version.compare(DIY_TAGS_SINCE) >= 0);
    if (!this.useTags) {
      s.logger.warn(
        { cliVersion: version?.toString() ?? "unknown" },
        "Pulumi CLI older than 3.211 cannot tag stacks on a DIY backend; recording tenant bookkeeping as plaintext stack config",
      );
    }
    mkdirSync(s.workspacesDir, { recursive: true, mode: 0o700 });
    mkdirSync(s.pulumiHome, { recursive: true, mode: 0o700 });
  }

  stackName(instanceId: string): string {
    return tenantStackName(this.s.environment, instanceId);
  }

  async up(spec: TenantSpec, options: OperationOptions = {}): Promise<UpResult> {
    const stackName = this.stackName(spec.instanceId);
    // Validates the values now: a ValuesError surfaces before any CLI process starts.
    const program = this.tenantProgram(spec);
    const needles = secretNeedles(spec.values);
    const log = this.s.logger.child({ stack: stackName });
    try {
      const ws = await this.workspace(stackName, program);
      const { stack, existed } = await this.createOrSelect(ws, stackName);
      await this.recordMetadata(ws, stackName, spec.tags);
      let summaryChanges: Record<string, number> | undefined;
      const forward = eventForwarder(options.onProgress);
      const result = await stack.up({
        // A re-provision refreshes first so drift (e.g. a stop's replicas: 0) is seen and overwritten (spec §6.11).
        refresh: existed,
        onEvent: (event: EngineEvent) => {
          if (event.summaryEvent) summaryChanges = event.summaryEvent.resourceChanges as Record<string, number>;
          forward?.(event);
        },
        onOutput: (out) => log.debug({ out: scrub(out, needles) }, "pulumi up"),
        onError: (out) => log.debug({ out: scrub(out, needles) }, "pulumi up (stderr)"),
        signal: options.signal,
      });
      return {
        outputs: plainOutputs(result.outputs),
        changes: (result.summary?.resourceChanges as Record<string, number> | undefined) ?? summaryChanges ?? {},
      };
    } catch (err) {
      throw this.failure(err, spec.instanceId, "Tenant stack update", needles, log, options.signal);
    }
  }

  async preview(spec: TenantSpec, options: OperationOptions = {}): Promise<PreviewResult> {
    const stackName = this.stackName(spec.instanceId);
    // The program `up` would run (values validated now: a ValuesError surfaces before any CLI
    // process), so the diff is exactly what the next up of these values does.
    const program = this.tenantProgram(spec);
    const needles = secretNeedles(spec.values);
    const log = this.s.logger.child({ stack: stackName });
    try {
      const ws = await this.workspace(stackName, program);
      // Select, never create: a missing stack is StackNotFoundError, which failure() maps to StackNotFound.
      const stack = await Stack.select(stackName, ws);
      const resources: ResourceChange[] = [];
      const forward = eventForwarder(options.onProgress, true);
      // `preview --refresh`: the engine first reads every resource back from the cluster (refresh
      // steps, in preview mode), then diffs the program against that, so drift behind the stack's
      // back shows as an update. Nothing is persisted, the refreshed state included: a preview runs
      // without a snapshot manager and writes no history. On a DIY backend it takes no stack lock
      // either (only update/refresh/destroy/import do), so it may overlap an `up` of the stack;
      // the job runner runs it in the tenant's queue all the same. No `--diff`: it changes only the
      // CLI's printed text (more of it in the debug log); the engine events carry the diff anyway.
      const result = await stack.preview({
        refresh: true,
        onEvent: (event: EngineEvent) => {
          const change = resourceChange(event);
          if (change) resources.push(change);
          forward?.(event);
        },
        onOutput: (out) => log.debug({ out: scrub(out, needles) }, "pulumi preview"),
        onError: (out) => log.debug({ out: scrub(out, needles) }, "pulumi preview (stderr)"),
        signal: options.signal,
      });
      // The SDK takes changeSummary from the summaryEvent ({} without one); `same` counts the stack and the provider too.
      return { changes: { ...(result.changeSummary as Record<string, number>) }, resources };
    } catch (err) {
      throw this.failure(err, spec.instanceId, "Tenant stack preview", needles, log, options.signal);
    }
  }

  async destroy(instanceId: string, options: OperationOptions = {}): Promise<DestroyResult> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    // The stack's `volumes` output is preferred; these names serve a stack that recorded none.
    let volumes = tenantVolumes(instanceId);
    try {
      const ws = await this.workspace(stackName, EMPTY_PROGRAM);
      const stack = await Stack.select(stackName, ws).catch((err: unknown) => {
        if (err instanceof StackNotFoundError) return undefined;
        throw err;
      });
      if (stack) {
        const recorded = (await stack.outputs().catch(() => ({}) as OutputMap)).volumes?.value;
        if (Array.isArray(recorded) && recorded.every((v) => typeof v === "string") && recorded.length) volumes = recorded;
        await stack.destroy({
          onEvent: eventForwarder(options.onProgress),
          onOutput: (out) => log.debug({ out }, "pulumi destroy"),
          onError: (out) => log.debug({ out }, "pulumi destroy (stderr)"),
          signal: options.signal,
        });
        await ws.removeStack(stackName);
      }
      // The PVCs carry retainOnDelete (Deviation 9), so the destroy left them; deleting data is the service's call.
      return { keptVolumes: stack ? volumes : [] };
    } catch (err) {
      throw this.failure(err, instanceId, "Tenant stack destroy", [], log, options.signal);
    }
  }

  async outputs(instanceId: string): Promise<Record<string, unknown>> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    try {
      // `stack output --stack` fails with StackNotFound by itself; no `stack select` (see setDesiredState).
      const ws = await this.workspace(stackName);
      return plainOutputs(await ws.stackOutputs(stackName));
    } catch (err) {
      throw this.failure(err, instanceId, "Reading tenant stack outputs", [], log);
    }
  }

  async list(options: { tags?: boolean } = {}): Promise<StackSummary[]> {
    const log = this.s.logger.child({ stack: PROJECT_WORKSPACE });
    try {
      const ws = await this.workspace(PROJECT_WORKSPACE);
      const tenants = (await ws.listStacks()).flatMap((entry) => {
        const instanceId = instanceIdOf(this.s.environment, entry.name);
        return instanceId ? [{ entry, instanceId }] : [];
      });
      // One `stack tag ls` process per stack: sequential, a boot listing of hundreds of tenants
      // took minutes. These commands pass --stack and write no current-stack record, so a few at once are safe.
      const withTags = options.tags !== false;
      return await mapLimit(tenants, withTags ? LIST_CONCURRENCY : tenants.length || 1, async ({ entry, instanceId }): Promise<StackSummary> => {
        const stackName = this.stackName(instanceId);
        let meta: Metadata = {};
        let unreadable: string | undefined;
        if (withTags) {
          // One damaged stack (a blob a killed CLI left half written) must not hide every tenant.
          try {
            meta = await this.readMetadata(ws, entry.name, stackName);
          } catch (err) {
            const mapped = this.failure(err, instanceId, "Reading the tenant stack's tags", [], log);
            unreadable = mapped instanceof Error ? mapped.message : String(mapped);
            log.warn({ stack: stackName, err: unreadable }, "listing the tenant stack without its tags");
          }
        }
        return {
          ...(unreadable ? { unreadable } : {}),
          instanceId,
          stackName,
          desiredState: meta.desiredState === "running" || meta.desiredState === "stopped" ? meta.desiredState : undefined,
          tier: meta.tier,
          account: meta.account,
          ...(meta.subscription ? { subscription: meta.subscription } : {}),
          lastUpdate: entry.lastUpdate,
          resourceCount: entry.resourceCount,
        };
      });
    } catch (err) {
      throw this.failure(err, "*", "Listing tenant stacks", [], log);
    }
  }

  async setDesiredState(instanceId: string, state: DesiredState): Promise<void> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    try {
      // Start/stop call this outside the tenant's job queue, so it may run beside that tenant's `up`:
      // only commands with an explicit --stack (which fail with StackNotFound on their own), never a
      // `stack select` rewriting the current-stack record the job's CLI uses (pulumi.md §2.10 #1).
      const ws = await this.workspace(stackName);
      await this.recordMetadata(ws, stackName, { desiredState: state });
    } catch (err) {
      throw this.failure(err, instanceId, "Recording the desired state", [], log);
    }
  }

  async release(instanceId: string): Promise<void> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    try {
      await this.releaseStack(stackName, log);
    } catch (err) {
      throw this.failure(err, instanceId, "Releasing the tenant stack from a dead run", [], log);
    }
  }

  /**
   * File backend: first no CLI of ours may still hold the stack (a provisioner killed without its
   * process group leaves its child running), then the blobs a killed CLI left half written go.
   * Then processes a dead run left in the workDir (provider plugins run in their own process group) go.
   */
  private async releaseStack(stackName: string, log: pino.Logger): Promise<void> {
    await prepareDiyRecovery(this.s.backendUrl, TENANT_PROJECT, stackName, { graceMs: this.s.recoveryGraceMs, workDir: join(this.s.workspacesDir, stackName), log });
  }

  async recover(instanceId: string): Promise<void> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    try {
      await this.releaseStack(stackName, log);
      const ws = await this.workspace(stackName, EMPTY_PROGRAM);
      const stack = await Stack.select(stackName, ws).catch((err: unknown) => {
        if (err instanceof StackNotFoundError) return undefined;
        throw err;
      });
      if (!stack) return;
      // Only the job runner calls this, for a run of its own that died: no live process holds the lock.
      await stack.cancel().catch((err: unknown) => {
        if (!(err instanceof CommandError)) throw err;
        log.debug({ err: err.message }, "pulumi cancel found nothing to cancel");
      });
      // While a move of passphrases is under way (docs/rekey.md) the stack may still be on the
      // previous one (or half moved, if the crash hit a move): the refresh below needs ours.
      if (this.s.previousPassphrase) await this.movePassphrase(instanceId, stackName, log, {});
      await stack.refresh({
        clearPendingCreates: true,
        onOutput: (out) => log.debug({ out }, "pulumi refresh"),
        onError: (out) => log.debug({ out }, "pulumi refresh (stderr)"),
      });
      log.info("recovered tenant stack: lock cleared, pending operations refreshed");
    } catch (err) {
      throw this.failure(err, instanceId, "Recovering the tenant stack", this.passphraseNeedles(), log);
    }
  }

  async changePassphrase(instanceId: string, options: OperationOptions = {}): Promise<PassphraseChange> {
    const stackName = this.stackName(instanceId);
    const log = this.s.logger.child({ stack: stackName });
    try {
      await this.workspace(stackName);
      return { status: await this.movePassphrase(instanceId, stackName, log, options) };
    } catch (err) {
      throw this.failure(err, instanceId, "Moving the tenant stack to the provisioner's passphrase", this.passphraseNeedles(), log, options.signal);
    }
  }

  /**
   * `pulumi stack change-secrets-provider passphrase` when the stack is not on the provisioner's
   * passphrase yet: the old passphrase (whichever opens the checkpoint) as the CLI's
   * PULUMI_CONFIG_PASSPHRASE(_FILE), the new one on stdin, never in argv or an environment. Before
   * and after, {@link passphraseState} reads which passphrase opens the checkpoint and the stack
   * config; `already` when both open with ours (nothing is run or written).
   */
  private async movePassphrase(instanceId: string, stackName: string, log: pino.Logger, options: OperationOptions): Promise<PassphraseChange["status"]> {
    if (this.s.secretsProvider && this.s.secretsProvider !== "passphrase") {
      throw new EngineError(`Instance ${instanceId}: the tenant stacks use the secrets provider ${this.s.secretsProvider.split(":")[0]}://…, not a passphrase; there is no passphrase to move`);
    }
    const current = this.currentPassphrase();
    const fresh = readPassphrase(current, "PULUMI_CONFIG_PASSPHRASE_FILE");
    if (!fresh || fresh !== fresh.trim() || /[\r\n]/.test(fresh)) {
      throw new EngineError(`Instance ${instanceId}: the provisioner's passphrase is empty or has leading/trailing blanks or a line break; the CLI reads the new passphrase as one trimmed line, so set PULUMI_CONFIG_PASSPHRASE_FILE to a file holding it on one line`);
    }
    const before = await this.passphraseState(stackName, fresh);
    if (before.done) {
      log.debug({ checkpoint: before.checkpoint, config: before.config }, "tenant stack already on the provisioner's passphrase");
      return "already";
    }
    const opener = before.checkpoint !== "none" ? before.checkpoint : before.config;
    if (opener === "neither") {
      throw new EngineError(
        this.s.previousPassphrase
          ? `Instance ${instanceId}: the stack opens with neither the provisioner's passphrase nor the previous one (PULUMI_PREVIOUS_CONFIG_PASSPHRASE); set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE to the passphrase the stack was encrypted with`
          : `Instance ${instanceId}: the stack does not open with the provisioner's passphrase and no previous one is set; set PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE to the passphrase it was encrypted with (docs/rekey.md)`,
      );
    }
    const oldVars = opener === "current" ? current : this.s.previousPassphrase!;
    options.onProgress?.({ at: new Date().toISOString(), message: `re-encrypting stack ${stackName} with the provisioner's passphrase` });
    const needles = this.passphraseNeedles();
    const out = await runWithInput(
      this.s.pulumiCommand,
      ["stack", "change-secrets-provider", "passphrase", "--stack", stackName],
      join(this.s.workspacesDir, stackName),
      // The old passphrase the way the CLI reads an existing stack's; its own test switch must not make it prompt.
      { PULUMI_HOME: this.s.pulumiHome, ...this.s.envVars, PULUMI_CONFIG_PASSPHRASE: undefined, PULUMI_CONFIG_PASSPHRASE_FILE: undefined, ...oldVars, PULUMI_TEST_PASSPHRASE: undefined },
      fresh,
      options.signal,
    );
    log.debug({ out: scrub(out, needles) }, "pulumi stack change-secrets-provider");
    const after = await this.passphraseState(stackName, fresh);
    if (!after.done) {
      throw new EngineError(`Instance ${instanceId}: the stack still does not open with the provisioner's passphrase after change-secrets-provider (checkpoint: ${after.checkpoint}, stack config: ${after.config}); see provisioner logs`);
    }
    log.info({ from: opener }, "tenant stack moved to the provisioner's passphrase");
    options.onProgress?.({ at: new Date().toISOString(), message: `stack ${stackName} is on the provisioner's passphrase` });
    return "moved";
  }

  /**
   * Which passphrase opens the stack's checkpoint (`stack export` without `--show-secrets`: only
   * ciphertexts and the secrets-provider state, no passphrase needed) and its stack config (the
   * `encryptionsalt` of `Pulumi.<stack>.yaml` in the workDir): `current`, `previous`, `neither`, or
   * `none` when there is no such state. `done` when neither still needs the previous passphrase.
   */
  private async passphraseState(stackName: string, fresh: string): Promise<{ checkpoint: Opener; config: Opener; done: boolean }> {
    const workDir = join(this.s.workspacesDir, stackName);
    const exported = (await this.s.pulumiCommand.run(["stack", "export", "--stack", stackName], workDir, { PULUMI_HOME: this.s.pulumiHome, ...this.s.envVars } as Record<string, string>)) as { stdout: string };
    const providers = (JSON.parse(exported.stdout || "{}") as { deployment?: { secrets_providers?: { type?: string; state?: { salt?: unknown } } } }).deployment?.secrets_providers;
    if (providers?.type && providers.type !== "passphrase") {
      throw new EngineError(`Stack ${stackName} keeps its secrets with the ${providers.type} secrets provider, not a passphrase; there is no passphrase to move`);
    }
    const file = join(workDir, `Pulumi.${stackName}.yaml`);
    const configSalt = existsSync(file) ? (parseYaml(readFileSync(file, "utf8")) as { encryptionsalt?: unknown } | null)?.encryptionsalt : undefined;
    const previous = this.s.previousPassphrase ? readPassphrase(this.s.previousPassphrase, "PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE") : undefined;
    // The checkpoint and the stack config usually carry the same state: each one is checked once.
    const seen = new Map<string, Promise<Opener>>();
    const which = (state: unknown): Promise<Opener> => {
      if (typeof state !== "string" || state === "") return Promise.resolve("none");
      if (!seen.has(state)) {
        seen.set(state, (async () => ((await opensState(fresh, state)) ? "current" : previous !== undefined && (await opensState(previous, state)) ? "previous" : "neither"))());
      }
      return seen.get(state)!;
    };
    const [checkpoint, config] = await Promise.all([which(providers?.state?.salt), which(configSalt)]);
    const ours = (o: Opener) => o === "current" || o === "none";
    return { checkpoint, config, done: ours(checkpoint) && ours(config) };
  }

  /** The CLI variables of the provisioner's own passphrase (the one `envVars` passes). */
  private currentPassphrase(): PassphraseVars {
    const { PULUMI_CONFIG_PASSPHRASE, PULUMI_CONFIG_PASSPHRASE_FILE } = this.s.envVars;
    return PULUMI_CONFIG_PASSPHRASE_FILE ? { PULUMI_CONFIG_PASSPHRASE_FILE } : { PULUMI_CONFIG_PASSPHRASE: PULUMI_CONFIG_PASSPHRASE ?? "" };
  }

  /** Both passphrases, cut out of anything logged or reported about a move. */
  private passphraseNeedles(): string[] {
    const values: string[] = [];
    for (const vars of [this.currentPassphrase(), this.s.previousPassphrase]) {
      try {
        if (vars) values.push(passphraseOf(vars));
      } catch {
        // An unreadable file fails the move itself, with its own message.
      }
    }
    return values.filter(Boolean);
  }

  /**
   * The tenant program for these values (validated now: a ValuesError throws here), its outputs
   * extended by `settings`, the operator's non-secret choices, so the next up starts from them.
   */
  private tenantProgram(spec: TenantSpec): PulumiFn {
    const program = this.s.program(spec.values, { kube: this.s.kube, retainData: true });
    const settings = spec.settings ?? {};
    return async () => ({ ...(await program()), settings });
  }

  private async workspace(dir: string, program?: PulumiFn): Promise<LocalWorkspace> {
    const workDir = join(this.s.workspacesDir, dir);
    mkdirSync(workDir, { recursive: true, mode: 0o700 });
    // Not `projectSettings`: LocalWorkspace rewrites Pulumi.yaml in place (truncate, then write) on
    // every construction, and a CLI process of a concurrent operation on this workDir (a list()
    // beside a list(), setDesiredState beside a job) could read it empty.
    const project = join(workDir, "Pulumi.yaml");
    const settings = stringifyYaml({ name: TENANT_PROJECT, runtime: "nodejs", backend: { url: this.s.backendUrl } });
    if (!existsSync(project) || readFileSync(project, "utf8") !== settings) writeFileAtomic(project, settings, "none");
    return LocalWorkspace.create({
      workDir,
      pulumiHome: this.s.pulumiHome,
      pulumiCommand: this.s.pulumiCommand as unknown as PulumiCommand,
      envVars: this.s.envVars as Record<string, string>,
      program,
      secretsProvider: this.s.secretsProvider,
    });
  }

  /** `stack select`, falling back to `stack init`; `existed` tells a re-provision from a first one. */
  private async createOrSelect(ws: LocalWorkspace, stackName: string): Promise<{ stack: Stack; existed: boolean }> {
    try {
      return { stack: await Stack.select(stackName, ws), existed: true };
    } catch (err) {
      if (!(err instanceof StackNotFoundError)) throw err;
    }
    try {
      return { stack: await Stack.create(stackName, ws), existed: false };
    } catch (err) {
      if (!(err instanceof StackAlreadyExistsError)) throw err;
      return { stack: await Stack.select(stackName, ws), existed: true };
    }
  }

  private async recordMetadata(ws: LocalWorkspace, stackName: string, meta: Metadata): Promise<void> {
    const entries = Object.entries(meta).map(([k, v]) => [TAG_KEYS[k as keyof Metadata], v || "none"] as const);
    if (this.useTags) {
      const current = await ws.listTags(stackName);
      for (const [key, value] of entries) {
        if (current[key] !== value) await ws.setTag(stackName, key, value);
      }
      return;
    }
    await ws.setAllConfig(stackName, Object.fromEntries(entries.map(([k, v]) => [k, { value: v, secret: false }])));
  }

  private async readMetadata(ws: LocalWorkspace, listedName: string, stackName: string): Promise<Metadata> {
    const fromMap = (map: Record<string, unknown>): Metadata =>
      Object.fromEntries(
        Object.entries(TAG_KEYS)
          .filter(([, key]) => typeof map[key] === "string" && map[key] !== "none")
          .map(([field, key]) => [field, map[key] as string]),
      );
    // Plaintext config lives in the tenant's own Pulumi.<stack>.yaml; read the file, never `config --show-secrets`.
    // It is read under the tags too: a stack last written by a CLI older than 3.211 has only config.
    const file = join(this.s.workspacesDir, stackName, `Pulumi.${stackName}.yaml`);
    const config = existsSync(file) ? ((parseYaml(readFileSync(file, "utf8")) as { config?: Record<string, unknown> } | null)?.config ?? {}) : {};
    return fromMap(this.useTags ? { ...config, ...(await ws.listTags(listedName)) } : config);
  }

  private failure(err: unknown, instanceId: string, action: string, needles: string[], log: pino.Logger, signal?: AbortSignal): unknown {
    if (err instanceof CommandError) log.debug({ err: scrub(err.message, needles) }, `${action} failed (full CLI output)`);
    const mapped = mapStackError(err, instanceId, action, needles, signal?.aborted ?? false);
    if (mapped !== err) log.warn({ error: (mapped as Error).message }, `${action} failed`);
    return mapped;
  }
}

/** The passphrase these variables carry; an unreadable file is an EngineError naming the setting (never its content). */
function readPassphrase(vars: PassphraseVars, setting: string): string {
  try {
    return passphraseOf(vars);
  } catch (err) {
    throw new EngineError(`${setting}: cannot read ${vars.PULUMI_CONFIG_PASSPHRASE_FILE} (${(err as NodeJS.ErrnoException).code ?? "error"}); point it at a readable file`);
  }
}

/** Which passphrase opens a secrets-provider state: the provisioner's, the previous one, neither, or there is no state. */
type Opener = "current" | "previous" | "neither" | "none";

/** Steps that read a resource (`read`, `refresh`), forget it (`discard`) or leave it as it is: no change to it. */
const NOT_A_CHANGE = new Set<string>(["same", "read", "refresh", "discard"]);

/**
 * A resource a preview would change, from its `resourcePreEvent` (undefined for any other event
 * and for steps that change nothing). `name` is the Kubernetes object's name (`mindroom-7`) when
 * the step's state has one, else the logical name from the URN (`instance-7-mindroom`). `diffs`
 * are the top-level properties of the step's detailed diff (the real CLI leaves `diffs` empty and
 * fills `detailedDiff` with paths like `spec.template.spec.containers[0].image`).
 */
export function resourceChange(event: EngineEvent): ResourceChange | undefined {
  const meta = event.resourcePreEvent?.metadata;
  if (!meta || NOT_A_CHANGE.has(meta.op) || meta.type === "pulumi:pulumi:Stack") return undefined;
  const change: ResourceChange = { type: meta.type, name: objectName(meta) ?? meta.urn.split("::").pop() ?? meta.urn, op: meta.op };
  const paths = [...(meta.diffs ?? []), ...Object.keys(meta.detailedDiff ?? {})];
  const diffs = [...new Set(paths.map((path) => path.split(/[.[]/)[0]).filter(Boolean))].sort();
  if (diffs.length) change.diffs = diffs;
  return change;
}

/** `metadata.name` of a Kubernetes object in a step's new state, or its old one (a delete has no new state). */
function objectName(meta: StepEventMetadata): string | undefined {
  if (!meta.type.startsWith("kubernetes:")) return undefined;
  for (const state of [meta.new, meta.old]) {
    for (const props of [state?.inputs, state?.outputs]) {
      const name = (props?.metadata as { name?: unknown } | undefined)?.name;
      if (typeof name === "string" && name !== "" && name !== "[secret]") return name;
    }
  }
  return undefined;
}

/** Stack outputs without the secret ones (the port promises masked or omitted secrets). */
function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  return Object.fromEntries(Object.entries(outputs).filter(([, o]) => !o.secret).map(([k, o]) => [k, o.value]));
}

/** `fn` over `items` with at most `limit` calls pending; results in the items' order; the first rejection wins. */
async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const at = next++;
      results[at] = await fn(items[at]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
