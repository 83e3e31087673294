/**
 * Builds the `TenantSpec` of one stack operation (spec provisioner.md §6.4–§6.10): the owner MXID,
 * the storage class to keep, the ten tenant Secret values, the chart values, and the operator's
 * settings (images, value overrides) over them. A provision, an upgrade and a preview build the
 * spec the same way, so a preview shows exactly what the upgrade would apply.
 */
import { derivationRoot, deriveInstanceSecret } from "../../infra/derived-secrets";
import { mergeValues } from "../../infra/values/load";
import type { ProvisionerConfig } from "../config";
import { Failure, shortReason } from "../errors";
import type { DesiredState, InstanceMirror, TenantKube, TenantSettings, TenantSpec } from "../ports";
import { openrouterKeyFor } from "./openrouter";
import { normaliseUuid, ownerMxid } from "./owner";
import type { InstanceRegistry, Logger } from "./registry";
import { rolloutHash } from "./rollout-hash";
import { credentialsKey, readTenantSecret, sandboxToken, storageClassFor, storedValue } from "./tenant-secrets";
import { buildTenantValues, type TenantSecrets } from "./tenant-values";
import { tenantUrls, urlColumns } from "./urls";

/** Who the tenant is and what it should run: everything but the secrets, which are derived here. */
export interface TenantInput {
  instanceId: string;
  isNew: boolean;
  accountId: string | null;
  tier: string;
  desiredState: DesiredState;
  settings: TenantSettings;
}

export interface BuiltSpec {
  spec: TenantSpec;
  /** Every secret value of the spec, for redacting error messages. */
  secretValues: string[];
}

export interface TenantSpecDeps {
  config: ProvisionerConfig;
  kube: TenantKube;
  mirror: InstanceMirror;
  registry: InstanceRegistry;
  log: Logger;
  fetch?: typeof fetch;
}

interface Prepared {
  storageClassName: string | null;
  ownerMxid: string | null;
  /** The live tenant Secret (null for new ids or when absent). */
  live: Record<string, string> | null;
}

/** Failed before any secret was derived or any stack ran (the row stays `provisioning`, as upstream). */
export class PreparationFailed extends Error {
  constructor(readonly cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "PreparationFailed";
  }
}

export class TenantSpecBuilder {
  constructor(private readonly d: TenantSpecDeps) {}

  /**
   * `dryRun` (a preview): no row writes and no new OpenRouter key; an existing key is reused, and
   * a tenant that would get a new one shows its Secret changing.
   * @throws PreparationFailed when the owner, storage class or live Secret cannot be read
   */
  async build(input: TenantInput, options: { dryRun?: boolean } = {}): Promise<BuiltSpec> {
    let prepared: Prepared;
    try {
      prepared = await this.prepare(input, options.dryRun === true);
    } catch (err) {
      throw new PreparationFailed(err);
    }
    const secrets = await this.secrets(input, prepared.live, options.dryRun === true);
    const base = buildTenantValues(this.d.config, {
      instanceId: input.instanceId,
      accountId: input.accountId,
      tier: input.tier,
      ownerMxid: prepared.ownerMxid,
      storageClassName: prepared.storageClassName,
      secrets,
      hash: rolloutHash(secrets),
    });
    return {
      spec: {
        instanceId: input.instanceId,
        values: withSettings(base, input.settings, input.desiredState),
        tags: {
          customer: input.instanceId,
          account: input.accountId ?? "",
          tier: input.tier,
          desiredState: input.desiredState,
          // Recorded so a retry by subscription finds its tenant after a restart, also without Supabase.
          subscription: this.d.registry.get(input.instanceId)?.subscription_id ?? "",
        },
        settings: input.settings,
      },
      secretValues: Object.values(secrets),
    };
  }

  /** §6.4–§6.8 before the deploy block: owner, URLs row update, root secret, storage class, live Secret read. */
  private async prepare(input: TenantInput, dryRun: boolean): Promise<Prepared> {
    const { config, mirror, registry, log } = this.d;
    const id = input.instanceId;
    let mxid: string | null = null;
    const uuid = normaliseUuid(input.accountId);
    if (uuid) {
      if (!mirror.enabled) throw new Failure("failed", `Supabase not configured: cannot look up the email of account ${uuid} for Matrix owner access`);
      let email: string | null;
      try {
        email = await mirror.accountEmail(uuid);
      } catch (err) {
        throw new Failure("failed", `Failed to look up the email of account ${uuid}: ${shortReason(err)}`);
      }
      if (email === null) throw new Failure("failed", `Account ${uuid} needs an email before provisioning Matrix owner access`);
      mxid = ownerMxid(email, id, config.baseDomain);
    } else if (!dryRun) {
      log.warn({ instance_id: id }, "Skipping Matrix owner access: account id is not a UUID");
    }
    if (!dryRun) await registry.record(id, urlColumns(tenantUrls(id, config.baseDomain)));
    if (derivationRoot(config.credentialsEncryptionSecret, config.apiKey) === "") {
      throw new Failure("failed", "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET or PROVISIONER_API_KEY must be configured");
    }
    const storageClassName = await storageClassFor(this.d.kube, id, input.isNew, config.storageClassName);
    // One read serves the credentials key (§6.7) and the sandbox token (Deviation 7); new ids have no Secret.
    const live = input.isNew ? null : await readTenantSecret(this.d.kube, id, "credentials_encryption_key");
    return { storageClassName, ownerMxid: mxid, live };
  }

  /** §6.5, §6.7, §6.8, §6.10: the ten tenant Secret values. */
  private async secrets(input: TenantInput, live: Record<string, string> | null, dryRun: boolean): Promise<TenantSecrets> {
    const { config, kube } = this.d;
    const id = input.instanceId;
    const root = derivationRoot(config.credentialsEncryptionSecret, config.apiKey);
    const openrouterKey = dryRun
      ? (storedValue(live, "openrouter_key") ?? "")
      : await openrouterKeyFor(
          { apiUrl: config.openrouterApiUrl, managementKey: config.openrouterProvisioningApiKey, kube, registry: this.d.registry, log: this.d.log, fetch: this.d.fetch ?? fetch },
          { instanceId: id, tier: input.tier, accountId: input.accountId },
        );
    return {
      openai_key: "",
      anthropic_key: "",
      google_key: "",
      deepseek_key: "",
      openrouter_key: openrouterKey,
      supabase_service_key: config.supabaseServiceKey,
      sandbox_proxy_token: sandboxToken(config.sandboxProxyToken, storedValue(live, "sandbox_proxy_token")),
      credentials_encryption_key: credentialsKey({
        isNew: input.isNew,
        storedKey: storedValue(live, "credentials_encryption_key"),
        optIn: input.settings.credentialsEncryption === true,
        derivedKey: deriveInstanceSecret(root, "instance-credentials", id),
      }),
      matrix_oidc_client_secret: config.matrixOidcClientSecret,
      matrix_registration_shared_secret: deriveInstanceSecret(root, "matrix-registration", id),
    };
  }
}

/** The operator's settings over the provisioner's values; a stopped tenant renders at 0 replicas. */
export function withSettings(values: Record<string, unknown>, settings: TenantSettings, desiredState: DesiredState): Record<string, unknown> {
  let out = settings.values ? mergeValues(values, settings.values) : { ...values };
  if (settings.mindroomImage) out = { ...out, mindroom_image: settings.mindroomImage };
  if (settings.synapseImage) out = { ...out, synapse_image: settings.synapseImage };
  if (desiredState === "stopped") out = { ...out, stopped: true };
  return out;
}

/** The settings a stack recorded (its `settings` output), or none when it has not recorded any. */
export function recordedSettings(outputs: Record<string, unknown>): TenantSettings {
  const raw = outputs.settings;
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return {};
  const s = raw as Record<string, unknown>;
  return {
    ...(typeof s.mindroomImage === "string" && s.mindroomImage ? { mindroomImage: s.mindroomImage } : {}),
    ...(typeof s.synapseImage === "string" && s.synapseImage ? { synapseImage: s.synapseImage } : {}),
    ...(s.values && typeof s.values === "object" && !Array.isArray(s.values) ? { values: s.values as Record<string, unknown> } : {}),
    ...(s.credentialsEncryption === true ? { credentialsEncryption: true } : {}),
  };
}
