/**
 * Applies the chart defaults to {@link MindroomInstanceArgs}, giving every builder one plain,
 * fully defaulted view of the tenant. Secret values stay `Input`s; everything that decides which
 * objects exist is a plain value. This is the one place the defaults are applied, for parsed
 * values files and TypeScript args alike (values.ts gives only `customer` its `demo`, since the
 * args require it).
 */
import type * as pulumi from "@pulumi/pulumi";
import { join } from "node:path";
import { TRUSTED_UPSTREAM_AUTH_DEFAULTS as TUA_DEFAULTS, type TrustedUpstreamAuthSettings } from "../../infra/trusted-upstream";
import { TENANT_NAMESPACE } from "../../infra/tenant-names";
import { truthy } from "../../infra/truthy";
import { dropNulls, type ResourcesOverDefault } from "../../infra/values/fields";
import { mergeValues, type Values } from "../../infra/values/load";
import type { ContainerResources, MindroomInstanceArgs } from "./args";

export const NAMESPACE = TENANT_NAMESPACE;
export const DEFAULT_MINDROOM_IMAGE = "ghcr.io/mindroom-ai/mindroom:latest";
export const DEFAULT_SYNAPSE_IMAGE = "matrixdotorg/synapse:latest";
/** The project's catalogue, the default tenant seed. */
export const DEFAULT_SEED_CONFIG_PATH = join(__dirname, "seed-config.yaml");

export const DEFAULT_MINDROOM_RESOURCES: ContainerResources = { requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" } };
export const DEFAULT_SYNAPSE_RESOURCES: ContainerResources = { requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" } };
export const DEFAULT_SANDBOX_RUNNER_RESOURCES: ContainerResources = { requests: { memory: "256Mi", cpu: "100m" }, limits: { memory: "1Gi", cpu: "500m" } };
/** Scratch room for a tenant's agents, small beside a node's disk (40 GB on the smallest Hetzner types) that many tenants share. */
export const DEFAULT_SANDBOX_WORKSPACE_SIZE_LIMIT = "2Gi";


/** The ten tenant Secret values, as given (undefined = not given). */
export interface SecretInputs {
  openaiKey?: pulumi.Input<string>;
  anthropicKey?: pulumi.Input<string>;
  openrouterKey?: pulumi.Input<string>;
  googleKey?: pulumi.Input<string>;
  deepseekKey?: pulumi.Input<string>;
  supabaseServiceKey?: pulumi.Input<string>;
  sandboxProxyToken?: pulumi.Input<string>;
  credentialsEncryptionKey?: pulumi.Input<string>;
  matrixOidcClientSecret?: pulumi.Input<string>;
  matrixRegistrationSharedSecret?: pulumi.Input<string>;
  matrixAdminPassword?: pulumi.Input<string>;
  synapseMacaroonSecretKey?: pulumi.Input<string>;
  synapseFormSecret?: pulumi.Input<string>;
}

/** The settings in the string form the chart hashes, with both switches evaluated once. */
export interface TrustedUpstreamAuth extends TrustedUpstreamAuthSettings {
  /** `enabled` is truthy. */
  on: boolean;
  /** Strict mode: enabled and `requireJwt` truthy. */
  strict: boolean;
}

export interface ResolvedInstance {
  /** String form: names, labels, hosts (Deviation 1). */
  customer: string;
  /** As given: only `…_LABELS_JSON` keeps the type. */
  customerRaw: string | number;
  baseDomain: string;
  accountId: string;
  storage: string;
  storageClassName: string;
  storageAccessMode: string;
  synapseStorageAccessMode: string;
  storagePath: string;
  mindroomResources: ContainerResources;
  synapseResources: ContainerResources;
  sandboxRunnerResources: ContainerResources;
  sandboxWorkspaceSizeLimit: string;
  mindroomImage: string;
  mindroomImagePullPolicy: string;
  synapseImage: string;
  synapseImagePullPolicy: string;
  synapseImageRunsAsNonRoot: boolean;
  imagePullSecrets: { name: string }[];
  matrixOidc: { enabled: string; on: boolean; issuer: string; clientId: string };
  authorizationGlobalUsers: string[];
  /** The seed `config.yaml` to read: `seedConfigPath`, else the project's seed. */
  seedConfigPath: string;
  matrixRoomAccess: { mode: string; multiUserJoinRule: string; publishToRoomDirectory: boolean; inviteOnlyRooms: string[]; reconcileExistingRooms: boolean };
  matrixAutoJoinRoomKeys: string[];
  matrixHomeserverStartupTimeoutSeconds: string;
  workerBackend: string;
  workerCleanupIntervalSeconds: string;
  controlPlaneNodeName: string;
  /** 0 when stopped, else 1. */
  replicas: number;
  kubernetesWorker: {
    image: string;
    imagePullPolicy: string;
    serviceAccountName: string;
    namePrefix: string;
    storageSubpathPrefix: string;
    port: string;
    readyTimeoutSeconds: string;
    idleTimeoutSeconds: string;
    enableServiceLinks: string;
  };
  instanceSecrets: { create: boolean; name: string; hash: string };
  supabaseUrl: string;
  supabaseAnonKey: string;
  trustedUpstreamAuth: TrustedUpstreamAuth;
  secrets: SecretInputs;
  retainData: boolean;
}

const str = (v: string | number | boolean | undefined | null, fallback = ""): string => (v === undefined || v === null ? fallback : String(v));
/** Helm's `default`: an empty string falls back too. */
const orDefault = (v: string | number | undefined, fallback: string): string => (v === undefined || v === "" ? fallback : String(v));

export function resolveInstance(args: MindroomInstanceArgs): ResolvedInstance {
  const oidc = args.matrixOidc ?? {};
  const rooms = args.matrixRoomAccess ?? {};
  const secrets = args.instanceSecrets ?? {};
  const tua = args.trustedUpstreamAuth ?? {};
  const mindroomImage = orDefault(args.mindroomImage, DEFAULT_MINDROOM_IMAGE);
  const mindroomImagePullPolicy = orDefault(args.mindroomImagePullPolicy, "Always");
  const customer = String(args.customer);
  const trusted: TrustedUpstreamAuth = {
    enabled: str(tua.enabled, TUA_DEFAULTS.enabled),
    userIdHeader: str(tua.userIdHeader),
    emailHeader: str(tua.emailHeader),
    matrixUserIdHeader: str(tua.matrixUserIdHeader),
    emailToMatrixUserIdTemplate: str(tua.emailToMatrixUserIdTemplate),
    requireJwt: str(tua.requireJwt, TUA_DEFAULTS.requireJwt),
    jwtHeader: str(tua.jwtHeader),
    jwksUrl: str(tua.jwksUrl),
    jwtAudience: str(tua.jwtAudience),
    jwtIssuer: str(tua.jwtIssuer),
    jwtEmailClaim: orDefault(tua.jwtEmailClaim, TUA_DEFAULTS.jwtEmailClaim),
    jwtUserIdClaim: str(tua.jwtUserIdClaim),
    jwtMatrixUserIdClaim: str(tua.jwtMatrixUserIdClaim),
    authUrl: str(tua.authUrl),
    authSignin: str(tua.authSignin),
    acknowledgeUnverifiedHeaders: str(tua.acknowledgeUnverifiedHeaders),
    on: truthy(tua.enabled),
    strict: truthy(tua.enabled) && truthy(tua.requireJwt),
  };
  return {
    customer,
    customerRaw: args.customer,
    baseDomain: str(args.baseDomain, "mindroom.chat"),
    accountId: str(args.accountId),
    storage: str(args.storage, "10Gi"),
    storageClassName: str(args.storageClassName, "hcloud-volumes"),
    storageAccessMode: orDefault(args.storageAccessMode, "ReadWriteOnce"),
    synapseStorageAccessMode: orDefault(args.synapseStorageAccessMode, "ReadWriteOnce"),
    storagePath: str(args.storagePath, "/mindroom_data"),
    mindroomResources: resources(args.mindroomResources, DEFAULT_MINDROOM_RESOURCES),
    synapseResources: resources(args.synapseResources, DEFAULT_SYNAPSE_RESOURCES),
    sandboxRunnerResources: resources(args.sandboxRunnerResources, DEFAULT_SANDBOX_RUNNER_RESOURCES),
    sandboxWorkspaceSizeLimit: orDefault(args.sandboxWorkspaceSizeLimit, DEFAULT_SANDBOX_WORKSPACE_SIZE_LIMIT),
    mindroomImage,
    mindroomImagePullPolicy,
    synapseImage: orDefault(args.synapseImage, DEFAULT_SYNAPSE_IMAGE),
    synapseImagePullPolicy: orDefault(args.synapseImagePullPolicy, "Always"),
    synapseImageRunsAsNonRoot: args.synapseImageRunsAsNonRoot ?? false,
    imagePullSecrets: args.imagePullSecrets ?? [],
    matrixOidc: {
      enabled: str(oidc.enabled, "false"),
      on: String(oidc.enabled ?? "false") === "true",
      issuer: str(oidc.issuer),
      clientId: str(oidc.clientId, "mindroom-synapse"),
    },
    authorizationGlobalUsers: args.authorizationGlobalUsers ?? [],
    seedConfigPath: orDefault(args.seedConfigPath, DEFAULT_SEED_CONFIG_PATH),
    matrixRoomAccess: {
      mode: rooms.mode ?? "single_user_private",
      multiUserJoinRule: rooms.multiUserJoinRule ?? "public",
      publishToRoomDirectory: rooms.publishToRoomDirectory ?? false,
      inviteOnlyRooms: rooms.inviteOnlyRooms ?? [],
      reconcileExistingRooms: rooms.reconcileExistingRooms ?? false,
    },
    matrixAutoJoinRoomKeys: args.matrixAutoJoinRoomKeys ?? [],
    matrixHomeserverStartupTimeoutSeconds: str(args.matrixHomeserverStartupTimeoutSeconds, "0"),
    workerBackend: orDefault(args.workerBackend, "static_runner"),
    workerCleanupIntervalSeconds: str(args.workerCleanupIntervalSeconds, "30"),
    controlPlaneNodeName: str(args.controlPlaneNodeName),
    replicas: args.stopped === true ? 0 : 1,
    kubernetesWorker: {
      image: orDefault(args.kubernetesWorkerImage, mindroomImage),
      imagePullPolicy: orDefault(args.kubernetesWorkerImagePullPolicy, mindroomImagePullPolicy),
      serviceAccountName: orDefault(args.kubernetesWorkerServiceAccountName, "default"),
      // Project default: one prefix per tenant, so two tenants never name a worker alike (worker-admission.ts).
      namePrefix: orDefault(args.kubernetesWorkerNamePrefix, `mindroom-worker-${customer}`),
      storageSubpathPrefix: str(args.kubernetesWorkerStorageSubpathPrefix, "workers"),
      port: str(args.kubernetesWorkerPort, "8766"),
      readyTimeoutSeconds: str(args.kubernetesWorkerReadyTimeoutSeconds, "60"),
      idleTimeoutSeconds: str(args.kubernetesWorkerIdleTimeoutSeconds, "1800"),
      enableServiceLinks: str(args.kubernetesWorkerEnableServiceLinks, "false"),
    },
    instanceSecrets: {
      create: secrets.create === undefined ? true : truthy(secrets.create),
      name: orDefault(secrets.name, `mindroom-api-keys-${customer}`),
      hash: str(secrets.hash),
    },
    supabaseUrl: str(args.supabaseUrl),
    supabaseAnonKey: str(args.supabaseAnonKey),
    trustedUpstreamAuth: trusted,
    secrets: {
      openaiKey: args.openaiKey,
      anthropicKey: args.anthropicKey,
      openrouterKey: args.openrouterKey,
      googleKey: args.googleKey,
      deepseekKey: args.deepseekKey,
      supabaseServiceKey: args.supabaseServiceKey,
      sandboxProxyToken: args.sandboxProxyToken,
      credentialsEncryptionKey: args.credentialsEncryptionKey,
      matrixOidcClientSecret: oidc.clientSecret,
      matrixRegistrationSharedSecret: args.matrixRegistrationSharedSecret,
      matrixAdminPassword: args.matrixAdminPassword,
      synapseMacaroonSecretKey: args.synapseMacaroonSecretKey,
      synapseFormSecret: args.synapseFormSecret,
    },
    retainData: args.retainData ?? true,
  };
}

/**
 * The chart's resources coalesced with the given map, as Helm merges a values file over the
 * chart's: `undefined` → the default; `null` → `{}` (upstream's `toYaml (… | default dict)`); a map
 * merges over the default key by key, and a `null` in it removes that default key. Done here, the
 * one place the defaults are applied, for values files and TypeScript args alike.
 */
function resources(given: ResourcesOverDefault | null | undefined, fallback: ContainerResources): ContainerResources {
  if (given === null) return {};
  if (given === undefined) return fallback;
  return dropNulls(mergeValues(fallback as Values, given as Values)) as ContainerResources;
}
