/**
 * Tenant Secret material (spec §9, §5.2, §8.3): the ten `stringData` keys, the rollout hash, and
 * the Synapse macaroon/form secrets. Values upstream drew at random on every render are
 * `RandomPassword`s here, generated once and kept in state (Pulumi mapping of §1).
 */
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type * as k8s from "@pulumi/kubernetes";
import { instanceSecretHash } from "./hashes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import type { InstanceNames } from "./names";

export const TENANT_SECRET_KEYS = [
  "openai_key", "anthropic_key", "openrouter_key", "google_key", "deepseek_key", "supabase_service_key",
  "sandbox_proxy_token", "credentials_encryption_key", "matrix_oidc_client_secret", "matrix_registration_shared_secret",
] as const;

export interface SecretMaterial {
  /** Secret Output with exactly {@link TENANT_SECRET_KEYS}. */
  stringData: pulumi.Output<Record<string, string>>;
  /** `mindroom.ai/instance-secret-hash`: plain, never secret. */
  hash: pulumi.Input<string>;
  macaroonSecretKey: pulumi.Output<string>;
  formSecret: pulumi.Output<string>;
}

/** A plain non-empty string is known now; anything else (empty, absent, an Output) may need the fallback. */
const known = (v: pulumi.Input<string> | undefined): v is string => typeof v === "string" && v !== "";
const value = (v: pulumi.Input<string> | undefined): pulumi.Output<string> => pulumi.output(v ?? "");

function generated(name: string, length: number, parent: pulumi.Resource): pulumi.Output<string> {
  return new random.RandomPassword(name, { length, special: false }, { parent }).result;
}

export function secretMaterial(name: string, r: ResolvedInstance, parent: pulumi.Resource): SecretMaterial {
  const s = r.secrets;
  const admin = value(s.matrixAdminPassword);
  const givenRegistration = pulumi.all([value(s.matrixRegistrationSharedSecret), admin]).apply(([reg, pw]) => reg || pw);
  // Only the Secret uses the generated registration secret; without it nothing needs one.
  const registration =
    known(s.matrixRegistrationSharedSecret) || known(s.matrixAdminPassword) || !r.instanceSecrets.create
      ? givenRegistration
      : pulumi.all([givenRegistration, generated(`${name}-registration-shared-secret`, 48, parent)]).apply(([g, x]) => g || x);
  const [macaroonSecretKey, formSecret] = known(s.matrixAdminPassword)
    ? [admin, admin]
    : [
        pulumi.all([admin, generated(`${name}-macaroon-secret-key`, 32, parent)]).apply(([pw, x]) => pw || x),
        pulumi.all([admin, generated(`${name}-form-secret`, 32, parent)]).apply(([pw, x]) => pw || x),
      ];
  const values = {
    openai_key: value(s.openaiKey),
    anthropic_key: value(s.anthropicKey),
    openrouter_key: value(s.openrouterKey),
    google_key: value(s.googleKey),
    deepseek_key: value(s.deepseekKey),
    supabase_service_key: value(s.supabaseServiceKey),
    sandbox_proxy_token: value(s.sandboxProxyToken),
    credentials_encryption_key: value(s.credentialsEncryptionKey),
    matrix_oidc_client_secret: value(s.matrixOidcClientSecret),
  };
  const hash = r.instanceSecrets.hash
    ? r.instanceSecrets.hash
    : pulumi.unsecret(
        pulumi.all({ ...values, givenRegistration }).apply((v) =>
          instanceSecretHash({
            openaiKey: v.openai_key, anthropicKey: v.anthropic_key, openrouterKey: v.openrouter_key, googleKey: v.google_key,
            deepseekKey: v.deepseek_key, supabaseServiceKey: v.supabase_service_key, sandboxProxyToken: v.sandbox_proxy_token,
            credentialsEncryptionKey: v.credentials_encryption_key, matrixOidcClientSecret: v.matrix_oidc_client_secret,
            registration: v.givenRegistration,
          }),
        ),
      );
  return {
    stringData: pulumi.secret(pulumi.all({ ...values, matrix_registration_shared_secret: registration })),
    hash,
    macaroonSecretKey: pulumi.secret(macaroonSecretKey),
    formSecret: pulumi.secret(formSecret),
  };
}

export function tenantSecret(n: InstanceNames, stringData: pulumi.Output<Record<string, string>>): k8s.types.input.core.v1.Secret {
  return { metadata: { name: n.apiKeysSecret, namespace: NAMESPACE }, type: "Opaque", stringData };
}
