/**
 * Chart-compatible values → {@link PlatformArgs}. User values are deep-merged onto the upstream
 * defaults exactly as Helm merges onto `values.yaml` (a partial `resources.frontend.requests`
 * keeps the default limits; an explicit `null` survives and means "empty"), then zod checks types.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { mergeValues, type Values } from "../../infra/values/load";
import { parseOrThrow } from "../../infra/values/errors";
import type { PlatformArgs, SecretInput } from "./args";
import { TRUSTED_UPSTREAM_AUTH_DEFAULTS } from "../../infra/trusted-upstream";
import { truthy } from "../../infra/truthy";
import { usesFileBackend, validatePlatformArgs } from "./validate";

/** The upstream chart's values.yaml (platform.md §2) plus the project's `provisioner` workload keys. */
export const PLATFORM_DEFAULTS: Values = {
  environment: "staging",
  domain: "mindroom.chat",
  registry: "ghcr.io/mindroom-ai",
  imageTag: "latest",
  frontendImageTag: "",
  backendImageTag: "",
  imagePullPolicy: "Always",
  imagePullSecrets: [],
  replicas: 1,
  resources: {
    frontend: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "512Mi" } },
    backend: { requests: { cpu: "250m", memory: "512Mi" }, limits: { cpu: "1000m", memory: "1Gi" } },
  },
  autoscaling: {
    enabled: false,
    frontend: { minReplicas: 1, maxReplicas: 3, targetCPUUtilizationPercentage: 70 },
    backend: { minReplicas: 1, maxReplicas: 4, targetCPUUtilizationPercentage: 65 },
  },
  cleanupScheduler: { enabled: "true" },
  platformSecrets: { create: true, name: "platform-secrets" },
  supabase: { url: "", anonKey: "", serviceKey: "" },
  stripe: { publishableKey: "", secretKey: "", webhookSecret: "" },
  provisioner: {
    apiKey: "",
    instanceCredentialsEncryptionSecret: "",
    instanceBaseDomain: "",
    instanceStorageClassName: "",
    instanceMindroomImage: "",
    instanceMindroomImagePullPolicy: "",
    instanceSynapseImage: "",
    instanceSynapseImagePullPolicy: "",
    instanceImagePullSecretNames: [],
    trustedUpstreamAuth: { ...TRUSTED_UPSTREAM_AUTH_DEFAULTS },
    enabled: false,
    image: "",
    imagePullPolicy: "",
    resources: { requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2", memory: "3Gi" } },
    backendUrl: "",
    pulumiConfigPassphrase: "",
    previousPulumiConfigPassphrase: "",
    secretName: "mindroom-provisioner-secrets",
    storage: { enabled: null, size: "10Gi", storageClassName: "" },
    extraEnv: {},
    terminationGracePeriodSeconds: 300,
    podSecurityContext: {
      runAsNonRoot: true,
      runAsUser: 1000,
      runAsGroup: 1000,
      fsGroup: 1000,
      seccompProfile: { type: "RuntimeDefault" },
    },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  },
  matrixOidc: { enabled: "false", issuer: "", clientId: "mindroom-synapse", clientSecret: "", privateKey: "", keyId: "mindroom-platform" },
  apiKeys: { openai: "", anthropic: "", openrouter: "", openrouterProvisioning: "", google: "", deepseek: "" },
  ingress: { enableConfigurationSnippet: false, proxyReadTimeout: "300", proxySendTimeout: "300" },
  apexRedirect: { enabled: false },
  monitoring: {
    enabled: false,
    releaseLabel: "monitoring",
    scrapeInterval: "30s",
    scrapeTimeout: "10s",
    alerts: {
      blockedIpThreshold: 0,
      blockedIpFor: "5m",
      adminUnauthorizedWindow: "5m",
      adminUnauthorizedThreshold: 5,
      adminUnauthorizedFor: "1m",
      blockedRequestWindow: "5m",
      blockedRequestThreshold: 10,
      blockedRequestFor: "2m",
    },
  },
};


/** Keys the chart does not know are an error: a typo such as `provisioner.enabeld` must not silently change nothing. */
function obj<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}: not a value of the platform chart; check the spelling against docs/platform.md`
        : undefined,
  });
}

const scalar = z.union([z.string(), z.number(), z.boolean(), z.null()], {
  error: "must be a string, number or boolean; quote it or fix the indentation",
});
/** A scalar in its string form, as Helm's `quote` prints it; `null` (an empty YAML value) is `""`. */
const str = scalar.transform((v) => (v === null ? "" : String(v)));
const flag = scalar.transform(truthy);
const count = z.coerce.number({ error: "must be a whole number" }).int("must be a whole number");
const secret = z
  .union([z.string(), z.null(), z.custom<pulumi.Output<string>>((v) => pulumi.Output.isInstance(v))], {
    error: "must be a string or a pulumi.Output<string> (e.g. config.requireSecret(...))",
  })
  .transform((v): SecretInput => v ?? "");
const quantities = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));
const resources = z
  .object({ requests: quantities.optional(), limits: quantities.optional() })
  .nullable()
  .transform((v) => v ?? {});
const hpaTarget = obj({
  minReplicas: count.pipe(z.number().min(1, "must be at least 1")),
  maxReplicas: count.pipe(z.number().min(1, "must be at least 1")),
  targetCPUUtilizationPercentage: count.pipe(z.number().min(1, "must be a percentage above 0")),
}).refine((t) => t.maxReplicas >= t.minReplicas, {
  path: ["maxReplicas"],
  error: "must be at least minReplicas (Kubernetes rejects the HPA otherwise); raise it or lower minReplicas",
});
/** Pull policy of tenant images; empty means the tenant component's default. */
const tenantPullPolicy = str.pipe(z.enum(["", "Always", "IfNotPresent", "Never"], { error: "must be Always, IfNotPresent, Never or empty (the tenant default)" }));
const map = z.record(z.string(), z.unknown()).nullable().transform((v) => v ?? {});

const schema = obj({
  namespace: z.string().optional(),
  environment: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower-case letters, digits, '-'); it names namespace mindroom-{environment}")
    .max(54, "must be at most 54 characters so mindroom-{environment} is a valid namespace name"),
  domain: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lower-case DNS name such as mindroom.chat"),
  registry: z.string().min(1, "must name an image registry, e.g. ghcr.io/mindroom-ai"),
  imageTag: str.pipe(z.string().min(1, "must be a non-empty image tag")),
  frontendImageTag: str,
  backendImageTag: str,
  imagePullPolicy: z.enum(["Always", "IfNotPresent", "Never"], { error: "must be Always, IfNotPresent or Never" }),
  imagePullSecrets: z
    .array(z.union([z.string().transform((name) => ({ name })), obj({ name: z.string().min(1) })]))
    .nullable()
    .transform((v) => v ?? []),
  replicas: count.pipe(z.number().min(0, "must be 0 or more")),
  resources: obj({ frontend: resources, backend: resources }),
  autoscaling: obj({ enabled: flag, frontend: hpaTarget, backend: hpaTarget }),
  cleanupScheduler: obj({ enabled: str }),
  platformSecrets: obj({ create: flag, name: z.string().min(1, "must name the platform Secret") }),
  supabase: obj({
    url: str.pipe(z.union([z.literal(""), z.url({ protocol: /^https?$/, error: "must be the project's http(s) URL, e.g. https://xyz.supabase.co, or empty" })])),
    anonKey: str,
    serviceKey: secret,
  }),
  stripe: obj({ publishableKey: str, secretKey: secret, webhookSecret: secret }),
  provisioner: obj({
    apiKey: secret,
    instanceCredentialsEncryptionSecret: secret,
    instanceBaseDomain: str,
    instanceStorageClassName: str,
    instanceMindroomImage: str,
    instanceMindroomImagePullPolicy: tenantPullPolicy,
    instanceSynapseImage: str,
    instanceSynapseImagePullPolicy: tenantPullPolicy,
    instanceImagePullSecretNames: z
      .union([z.array(z.string()), z.string().transform((s) => s.split(",").filter(Boolean)), z.null()], {
        error: "must be a list of Secret names, e.g. [regcred]",
      })
      .transform((v) => v ?? []),
    trustedUpstreamAuth: obj({
      enabled: str,
      userIdHeader: str,
      emailHeader: str,
      matrixUserIdHeader: str,
      emailToMatrixUserIdTemplate: str,
      requireJwt: str,
      jwtHeader: str,
      jwksUrl: str,
      jwtAudience: str,
      jwtIssuer: str,
      jwtEmailClaim: str,
      jwtUserIdClaim: str,
      jwtMatrixUserIdClaim: str,
      authUrl: str,
      authSignin: str,
      acknowledgeUnverifiedHeaders: str,
    }),
    enabled: flag,
    image: str,
    imagePullPolicy: z.enum(["", "Always", "IfNotPresent", "Never"], { error: "must be Always, IfNotPresent, Never or empty" }),
    resources,
    backendUrl: str,
    pulumiConfigPassphrase: secret,
    previousPulumiConfigPassphrase: secret,
    secretName: z.string().min(1, "must name the provisioner Secret"),
    storage: obj({
      enabled: z.union([z.boolean(), z.string(), z.null()]),
      size: str.pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a Kubernetes quantity such as 10Gi")),
      storageClassName: str,
    }),
    extraEnv: z.record(z.string(), str).nullable().transform((v) => v ?? {}),
    terminationGracePeriodSeconds: count.pipe(z.number().min(0, "must be 0 or more")),
    podSecurityContext: map,
    securityContext: map,
  }),
  matrixOidc: obj({ enabled: str, issuer: str, clientId: str, clientSecret: secret, privateKey: secret, keyId: str }),
  apiKeys: obj({
    openai: secret,
    anthropic: secret,
    openrouter: secret,
    openrouterProvisioning: secret,
    google: secret,
    deepseek: secret,
  }),
  ingress: obj({ enableConfigurationSnippet: flag, proxyReadTimeout: str, proxySendTimeout: str }),
  apexRedirect: obj({ enabled: flag }).nullable().transform((v) => v ?? { enabled: false }),
  monitoring: obj({
    enabled: flag,
    releaseLabel: str,
    scrapeInterval: str,
    scrapeTimeout: str,
    alerts: obj({
      blockedIpThreshold: z.coerce.number({ error: "must be a number" }),
      blockedIpFor: str,
      adminUnauthorizedWindow: str,
      adminUnauthorizedThreshold: z.coerce.number({ error: "must be a number" }),
      adminUnauthorizedFor: str,
      blockedRequestWindow: str,
      blockedRequestThreshold: z.coerce.number({ error: "must be a number" }),
      blockedRequestFor: str,
    }),
  }),
});

/**
 * Parses platform chart values (upstream keys verbatim, upstream defaults; Deviation 5 turns
 * monitoring off) and runs every validation of platform.md §10, so an invalid file fails here
 * with one line `<value path>: <what is wrong and how to fix it>` before anything registers.
 */
export function parsePlatformValues(raw: Record<string, unknown>): PlatformArgs {
  const parsed = parseOrThrow(schema, mergeValues(PLATFORM_DEFAULTS, raw));
  const storageEnabled = parsed.provisioner.storage.enabled;
  const args: PlatformArgs = {
    ...parsed,
    provisioner: {
      ...parsed.provisioner,
      storage: {
        ...parsed.provisioner.storage,
        // Auto: the file backend lives in the data dir, so it must be durable; a remote backend need not be.
        enabled: storageEnabled === null || storageEnabled === "" ? usesFileBackend(parsed.provisioner.backendUrl) : truthy(storageEnabled),
      },
    },
  };
  validatePlatformArgs(args);
  return args;
}
