/** ConfigMap `platform-config` (platform.md §4) and the platform Secret (§5) as pure data. */
import type { PlatformArgs, SecretInput } from "./args";
import { BACKEND_URL } from "./names";

/** The ConfigMap's data. Every key is always present, as upstream (hazard kept: tenants get them all, §12.5). */
export function configMapData(args: PlatformArgs): Record<string, string> {
  const p = args.provisioner;
  const t = p.trustedUpstreamAuth;
  const oidcIssuer = args.matrixOidc.issuer || `https://api.${args.domain}/matrix-oidc`;
  return {
    PLATFORM_DOMAIN: args.domain,
    ENVIRONMENT: args.environment,
    ENABLE_CLEANUP_SCHEDULER: args.cleanupScheduler.enabled || "false",
    INSTANCE_BASE_DOMAIN: p.instanceBaseDomain || args.domain,
    INSTANCE_STORAGE_CLASS_NAME: p.instanceStorageClassName,
    INSTANCE_MINDROOM_IMAGE: p.instanceMindroomImage,
    INSTANCE_MINDROOM_IMAGE_PULL_POLICY: p.instanceMindroomImagePullPolicy,
    INSTANCE_IMAGE_PULL_SECRET_NAMES: p.instanceImagePullSecretNames.join(","),
    INSTANCE_SYNAPSE_IMAGE: p.instanceSynapseImage,
    INSTANCE_SYNAPSE_IMAGE_PULL_POLICY: p.instanceSynapseImagePullPolicy,
    INSTANCE_TRUSTED_UPSTREAM_AUTH_ENABLED: t.enabled,
    INSTANCE_TRUSTED_UPSTREAM_USER_ID_HEADER: t.userIdHeader,
    INSTANCE_TRUSTED_UPSTREAM_EMAIL_HEADER: t.emailHeader,
    INSTANCE_TRUSTED_UPSTREAM_MATRIX_USER_ID_HEADER: t.matrixUserIdHeader,
    INSTANCE_TRUSTED_UPSTREAM_EMAIL_TO_MATRIX_USER_ID_TEMPLATE: t.emailToMatrixUserIdTemplate,
    INSTANCE_TRUSTED_UPSTREAM_REQUIRE_JWT: t.requireJwt,
    INSTANCE_TRUSTED_UPSTREAM_JWT_HEADER: t.jwtHeader,
    INSTANCE_TRUSTED_UPSTREAM_JWKS_URL: t.jwksUrl,
    INSTANCE_TRUSTED_UPSTREAM_JWT_AUDIENCE: t.jwtAudience,
    INSTANCE_TRUSTED_UPSTREAM_JWT_ISSUER: t.jwtIssuer,
    INSTANCE_TRUSTED_UPSTREAM_JWT_EMAIL_CLAIM: t.jwtEmailClaim,
    INSTANCE_TRUSTED_UPSTREAM_JWT_USER_ID_CLAIM: t.jwtUserIdClaim,
    INSTANCE_TRUSTED_UPSTREAM_JWT_MATRIX_USER_ID_CLAIM: t.jwtMatrixUserIdClaim,
    MATRIX_OIDC_ENABLED: args.matrixOidc.enabled,
    MATRIX_OIDC_ISSUER: oidcIssuer,
    MATRIX_OIDC_CLIENT_ID: args.matrixOidc.clientId,
    MATRIX_OIDC_KEY_ID: args.matrixOidc.keyId,
    INSTANCE_MATRIX_OIDC_ENABLED: args.matrixOidc.enabled,
    INSTANCE_MATRIX_OIDC_ISSUER: oidcIssuer,
    INSTANCE_MATRIX_OIDC_CLIENT_ID: args.matrixOidc.clientId,
    DO_NOT_TRACK: "1",
    NEXT_TELEMETRY_DISABLED: "1",
    TURBO_TELEMETRY_DISABLED: "1",
    SUPABASE_URL: args.supabase.url,
    SUPABASE_ANON_KEY: args.supabase.anonKey,
    STRIPE_PUBLISHABLE_KEY: args.stripe.publishableKey,
    PLATFORM_BACKEND_URL: BACKEND_URL,
  };
}

/** The 13 keys of the platform Secret and where each value comes from. */
export function platformSecretData(args: PlatformArgs): Record<string, SecretInput> {
  return {
    supabase_service_key: args.supabase.serviceKey,
    stripe_secret_key: args.stripe.secretKey,
    stripe_webhook_secret: args.stripe.webhookSecret,
    provisioner_api_key: args.provisioner.apiKey,
    instance_credentials_encryption_secret: args.provisioner.instanceCredentialsEncryptionSecret,
    matrix_oidc_client_secret: args.matrixOidc.clientSecret,
    matrix_oidc_private_key: args.matrixOidc.privateKey,
    openai_key: args.apiKeys.openai,
    anthropic_key: args.apiKeys.anthropic,
    openrouter_key: args.apiKeys.openrouter,
    openrouter_provisioning_key: args.apiKeys.openrouterProvisioning,
    google_key: args.apiKeys.google,
    deepseek_key: args.apiKeys.deepseek,
  };
}

/** Backend env → file under `/etc/secrets` (platform.md §6.2). */
export const BACKEND_SECRET_FILES: [env: string, key: string][] = [
  ["SUPABASE_SERVICE_KEY_FILE", "supabase_service_key"],
  ["STRIPE_SECRET_KEY_FILE", "stripe_secret_key"],
  ["STRIPE_WEBHOOK_SECRET_FILE", "stripe_webhook_secret"],
  ["PROVISIONER_API_KEY_FILE", "provisioner_api_key"],
  ["INSTANCE_CREDENTIALS_ENCRYPTION_SECRET_FILE", "instance_credentials_encryption_secret"],
  ["MATRIX_OIDC_CLIENT_SECRET_FILE", "matrix_oidc_client_secret"],
  ["MATRIX_OIDC_PRIVATE_KEY_FILE", "matrix_oidc_private_key"],
  ["INSTANCE_MATRIX_OIDC_CLIENT_SECRET_FILE", "matrix_oidc_client_secret"],
  ["OPENAI_API_KEY_FILE", "openai_key"],
  ["ANTHROPIC_API_KEY_FILE", "anthropic_key"],
  ["OPENROUTER_API_KEY_FILE", "openrouter_key"],
  ["OPENROUTER_PROVISIONING_API_KEY_FILE", "openrouter_provisioning_key"],
  ["GOOGLE_API_KEY_FILE", "google_key"],
  ["DEEPSEEK_API_KEY_FILE", "deepseek_key"],
];
