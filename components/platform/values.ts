/**
 * Chart-compatible values → {@link PlatformArgs}. User values are deep-merged onto the upstream
 * defaults exactly as Helm merges onto `values.yaml` (a partial `resources.frontend.requests`
 * keeps the default limits; an explicit `null` survives and means "empty"), then zod checks types.
 */
import { z } from "zod";
import { mergeValues, type Values } from "../../infra/values/load";
import { parseOrThrow } from "../../infra/values/errors";
import { coercedInt, coercedNumber, looseResources, nullableSecret, pullPolicyEnum, rawMap, scalarSizeToTi, scalarText, strictMap, truthyFlag } from "../../infra/values/fields";
import type { PlatformArgs } from "./args";
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


/** Where the unknown-key message sends the operator: the platform chart's keys, upstream's spelling. */
const PLATFORM_VALUES_DOC = "docs/platform.md#values";
/** A platform values map: exactly the chart's keys, a misspelt one named with the closest known key. */
const obj = <S extends z.ZodRawShape>(shape: S) => strictMap(shape, PLATFORM_VALUES_DOC);
// Platform secrets come from the root stack's secret config keys (stacks/config.ts), or as Outputs.
const secret = nullableSecret("in the root stack set its secret config key (pulumi config set --secret <key>), or pass config.requireSecret(...)");
const hpaTarget = obj({
  minReplicas: coercedInt.pipe(z.number().min(1, "must be at least 1")),
  maxReplicas: coercedInt.pipe(z.number().min(1, "must be at least 1")),
  targetCPUUtilizationPercentage: coercedInt.pipe(z.number().min(1, "must be a percentage above 0")),
}).refine((t) => t.maxReplicas >= t.minReplicas, {
  path: ["maxReplicas"],
  error: "must be at least minReplicas (Kubernetes rejects the HPA otherwise); raise it or lower minReplicas",
});
/** Pull policy of tenant images; empty means the tenant component's default. */
const tenantPullPolicy = scalarText.pipe(pullPolicyEnum("the tenant default"));

const schema = obj({
  namespace: z.string().optional(),
  environment: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lower-case letters, digits, '-'); it names namespace mindroom-{environment}")
    .max(54, "must be at most 54 characters so mindroom-{environment} is a valid namespace name"),
  domain: z.string().regex(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/, "must be a lower-case DNS name such as mindroom.chat"),
  registry: z.string().min(1, "must name an image registry, e.g. ghcr.io/mindroom-ai"),
  imageTag: scalarText.pipe(z.string().min(1, "must be a non-empty image tag")),
  frontendImageTag: scalarText,
  backendImageTag: scalarText,
  imagePullPolicy: pullPolicyEnum(),
  imagePullSecrets: z
    .array(z.union([z.string().transform((name) => ({ name })), obj({ name: z.string().min(1) })]))
    .nullable()
    .transform((v) => v ?? []),
  replicas: coercedInt.pipe(z.number().min(0, "must be 0 or more")),
  resources: obj({ frontend: looseResources, backend: looseResources }),
  autoscaling: obj({ enabled: truthyFlag, frontend: hpaTarget, backend: hpaTarget }),
  cleanupScheduler: obj({ enabled: scalarText }),
  platformSecrets: obj({ create: truthyFlag, name: z.string().min(1, "must name the platform Secret") }),
  supabase: obj({
    url: scalarText.pipe(z.union([z.literal(""), z.url({ protocol: /^https?$/, error: "must be the project's http(s) URL, e.g. https://xyz.supabase.co, or empty" })])),
    anonKey: scalarText,
    serviceKey: secret,
  }),
  stripe: obj({ publishableKey: scalarText, secretKey: secret, webhookSecret: secret }),
  provisioner: obj({
    apiKey: secret,
    instanceCredentialsEncryptionSecret: secret,
    instanceBaseDomain: scalarText,
    instanceStorageClassName: scalarText,
    instanceMindroomImage: scalarText,
    instanceMindroomImagePullPolicy: tenantPullPolicy,
    instanceSynapseImage: scalarText,
    instanceSynapseImagePullPolicy: tenantPullPolicy,
    instanceImagePullSecretNames: z
      .union([z.array(z.string()), z.string().transform((s) => s.split(",").filter(Boolean)), z.null()], {
        error: "must be a list of Secret names, e.g. [regcred]",
      })
      .transform((v) => v ?? []),
    trustedUpstreamAuth: obj({
      enabled: scalarText,
      userIdHeader: scalarText,
      emailHeader: scalarText,
      matrixUserIdHeader: scalarText,
      emailToMatrixUserIdTemplate: scalarText,
      requireJwt: scalarText,
      jwtHeader: scalarText,
      jwksUrl: scalarText,
      jwtAudience: scalarText,
      jwtIssuer: scalarText,
      jwtEmailClaim: scalarText,
      jwtUserIdClaim: scalarText,
      jwtMatrixUserIdClaim: scalarText,
      authUrl: scalarText,
      authSignin: scalarText,
      acknowledgeUnverifiedHeaders: scalarText,
    }),
    enabled: truthyFlag,
    image: scalarText,
    imagePullPolicy: pullPolicyEnum(true),
    resources: looseResources,
    backendUrl: scalarText,
    pulumiConfigPassphrase: secret,
    previousPulumiConfigPassphrase: secret,
    secretName: z.string().min(1, "must name the provisioner Secret"),
    storage: obj({
      enabled: z.union([z.boolean(), z.string(), z.null()]),
      size: scalarSizeToTi,
      storageClassName: scalarText,
    }),
    extraEnv: z.record(z.string(), scalarText).nullable().transform((v) => v ?? {}),
    terminationGracePeriodSeconds: coercedInt.pipe(z.number().min(0, "must be 0 or more")),
    podSecurityContext: rawMap,
    securityContext: rawMap,
  }),
  matrixOidc: obj({ enabled: scalarText, issuer: scalarText, clientId: scalarText, clientSecret: secret, privateKey: secret, keyId: scalarText }),
  apiKeys: obj({
    openai: secret,
    anthropic: secret,
    openrouter: secret,
    openrouterProvisioning: secret,
    google: secret,
    deepseek: secret,
  }),
  ingress: obj({ enableConfigurationSnippet: truthyFlag, proxyReadTimeout: scalarText, proxySendTimeout: scalarText }),
  apexRedirect: obj({ enabled: truthyFlag }).nullable().transform((v) => v ?? { enabled: false }),
  monitoring: obj({
    enabled: truthyFlag,
    releaseLabel: scalarText,
    scrapeInterval: scalarText,
    scrapeTimeout: scalarText,
    alerts: obj({
      blockedIpThreshold: coercedNumber,
      blockedIpFor: scalarText,
      adminUnauthorizedWindow: scalarText,
      adminUnauthorizedThreshold: coercedNumber,
      adminUnauthorizedFor: scalarText,
      blockedRequestWindow: scalarText,
      blockedRequestThreshold: coercedNumber,
      blockedRequestFor: scalarText,
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
