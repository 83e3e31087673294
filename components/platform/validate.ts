/**
 * Constructor validations (platform.md §10, in that order, plus the project's own), each a
 * one-line error naming the value and the fix. They run before any child registers, both from
 * `parsePlatformValues` (so the renderer fails early) and from the `Platform` constructor (for
 * callers that build args by hand).
 */
import * as pulumi from "@pulumi/pulumi";
import { ValuesError } from "../../infra/values/errors";
import type { PlatformArgs, SecretInput } from "./args";
import { PROVISIONER_DATA_PATH, platformNamespace } from "./names";
import { PROVISIONER_OWNED_ENV } from "./provisioner";
import { trustedUpstreamAuthProblem } from "../../infra/trusted-upstream";
import { truthy } from "../../infra/truthy";

/** An Output cannot be inspected synchronously; the stack's `requireSecret` already refuses a missing value. */
const isSet = (value: SecretInput): boolean => pulumi.Output.isInstance(value) || value !== "";

/** Env names the provisioner reads as secrets: they must come from mounted files, never from plain env. */
export const PROVISIONER_SECRET_ENV = [
  "PROVISIONER_API_KEY",
  "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET",
  "SUPABASE_SERVICE_KEY",
  "PULUMI_CONFIG_PASSPHRASE",
  "PULUMI_PREVIOUS_CONFIG_PASSPHRASE",
  "INSTANCE_MATRIX_OIDC_CLIENT_SECRET",
  "OPENROUTER_PROVISIONING_API_KEY",
  "SANDBOX_PROXY_TOKEN",
];

/** URL schemes of Pulumi state backends: the DIY backends and Pulumi Cloud (or a self-hosted service). */
const BACKEND_SCHEMES = ["file", "s3", "gs", "azblob", "postgres", "https", "http"];

/** True when the provisioner keeps its Pulumi state as files in its data directory. */
export const usesFileBackend = (backendUrl: string): boolean => backendUrl === "" || backendUrl.startsWith("file://");

/** Every secret value of the values surface, by its values path. */
export function secretValues(args: PlatformArgs): [string, SecretInput][] {
  return [
    ["supabase.serviceKey", args.supabase.serviceKey],
    ["stripe.secretKey", args.stripe.secretKey],
    ["stripe.webhookSecret", args.stripe.webhookSecret],
    ["provisioner.apiKey", args.provisioner.apiKey],
    ["provisioner.instanceCredentialsEncryptionSecret", args.provisioner.instanceCredentialsEncryptionSecret],
    ["provisioner.pulumiConfigPassphrase", args.provisioner.pulumiConfigPassphrase],
    ["provisioner.previousPulumiConfigPassphrase", args.provisioner.previousPulumiConfigPassphrase],
    ["matrixOidc.clientSecret", args.matrixOidc.clientSecret],
    ["matrixOidc.privateKey", args.matrixOidc.privateKey],
    ["apiKeys.openai", args.apiKeys.openai],
    ["apiKeys.anthropic", args.apiKeys.anthropic],
    ["apiKeys.openrouter", args.apiKeys.openrouter],
    ["apiKeys.openrouterProvisioning", args.apiKeys.openrouterProvisioning],
    ["apiKeys.google", args.apiKeys.google],
    ["apiKeys.deepseek", args.apiKeys.deepseek],
  ];
}

export function validatePlatformArgs(args: PlatformArgs): void {
  const fail = (message: string): never => {
    throw new ValuesError(message);
  };
  const ns = platformNamespace(args.environment);
  if (args.namespace !== undefined && args.namespace !== ns) {
    fail(`namespace: the platform lives in ${ns} (mindroom-{environment}), not ${args.namespace}; set environment to match or use namespace ${ns}`);
  }

  const trusted = trustedUpstreamAuthProblem(args.provisioner.trustedUpstreamAuth, "provisioner.trustedUpstreamAuth.", "emailHeaderFirst");
  if (trusted) fail(trusted);

  if (args.platformSecrets.create && truthy(args.matrixOidc.enabled)) {
    if (!isSet(args.matrixOidc.clientSecret)) fail("matrixOidc.clientSecret: required when matrixOidc.enabled is true; set it or disable Matrix OIDC");
    if (!isSet(args.matrixOidc.privateKey)) fail("matrixOidc.privateKey: required when matrixOidc.enabled is true; set the PEM signing key or disable Matrix OIDC");
  }

  if (!args.platformSecrets.create) {
    const given = secretValues(args).find(([, value]) => isSet(value));
    if (given) {
      fail(`${given[0]}: platformSecrets.create=false mounts the pre-created Secret, so this value would be ignored; put it into that Secret and remove it from the values`);
    }
  }

  const prov = args.provisioner;
  if (prov.enabled) {
    // Unset, the tenant stacks' passphrase is generated and kept by the Secret's state, which then
    // ignores changes to its data: a previous passphrase added beside it would never land.
    if (args.platformSecrets.create && isSet(prov.previousPulumiConfigPassphrase) && !isSet(prov.pulumiConfigPassphrase)) {
      fail("provisioner.pulumiConfigPassphrase: required while provisioner.previousPulumiConfigPassphrase is set (a generated passphrase is kept from the Secret's state and could not replace the one there); set the tenant stacks' own new passphrase, never the platform stack's (docs/rekey.md)");
    }
    const url = prov.backendUrl;
    // First, so no later message (they quote the URL) can echo the password.
    if (/^([a-z0-9+.-]+:\/\/)?[^/@]*:[^/@]*@|[?&](ssl)?password=/i.test(url)) {
      fail("provisioner.backendUrl: must not embed a password (it would sit in the Deployment in plain text); give the backend's credentials another way");
    }
    const scheme = /^([a-z0-9+.-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
    if (url !== "" && (scheme === undefined || !BACKEND_SCHEMES.includes(scheme))) {
      fail(`provisioner.backendUrl: ${url} is not a Pulumi state backend URL; use s3://, gs://, azblob://, postgres://, https:// or leave it empty for file state on the data volume`);
    }
    if (scheme === "file" && !`${url.slice("file://".length).split("?")[0]}/`.startsWith(`${PROVISIONER_DATA_PATH}/`)) {
      fail(`provisioner.backendUrl: ${url} is outside the data volume, so the state of every tenant stack would vanish with the pod; use file://${PROVISIONER_DATA_PATH}/state or leave it empty`);
    }
    if (usesFileBackend(url) && !prov.storage.enabled) {
      fail("provisioner.storage.enabled: false puts the file backend's state (every tenant stack) on an emptyDir that a restart erases; leave it unset or set a remote provisioner.backendUrl");
    }
    const secretEnv = Object.keys(prov.extraEnv).find((name) => PROVISIONER_SECRET_ENV.includes(name.replace(/_FILE$/, "")));
    if (secretEnv) {
      fail(`provisioner.extraEnv.${secretEnv}: secrets reach the provisioner as mounted files only; set the value through the platform values instead`);
    }
    const clash = Object.keys(prov.extraEnv).find((name) => PROVISIONER_OWNED_ENV.has(name));
    if (clash) {
      fail(`provisioner.extraEnv.${clash}: the component sets it from the platform values (see docs/platform.md); set the matching value there instead`);
    }
  }
}
