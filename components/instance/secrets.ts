/**
 * Tenant Secret material (spec §9, §5.2, §8.3): the ten `stringData` keys, the rollout hash, and
 * the Synapse macaroon/form secrets with their own hash, for Secret `synapse-secrets-{c}` (project,
 * issue 9: upstream inlined them in the Synapse ConfigMap; the tenant Secret keeps exactly its ten
 * keys, also when an operator manages it). Upstream drew three values at random on every render; here
 * none needs a provider or state (docs/instance.md, "Generated and derived secrets"):
 * - the macaroon key and the form secret are given (`synapseMacaroonSecretKey`, `synapseFormSecret`,
 *   e.g. a tenant's existing values), else `matrix_admin_password` (upstream), else derived with
 *   HMAC-SHA256 from the tenant's registration secret, one label each, so every `up` gives the same;
 * - the registration secret is given (the provisioner derives it from its root secret), else
 *   `matrix_admin_password`, else generated in-process, which only a render keeps repeatable: a
 *   real `up` without either warns, because the three values then change on every update.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as k8s from "@pulumi/kubernetes";
import { deriveTenantSecret } from "../../infra/derived-secrets";
import { generatedSecretsRepeatable, generateSecret } from "../../infra/generated-secrets";
import { instanceSecretHash, synapseSecretHash } from "./hashes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, type InstanceNames } from "./names";

export const TENANT_SECRET_KEYS = [
  "openai_key", "anthropic_key", "openrouter_key", "google_key", "deepseek_key", "supabase_service_key",
  "sandbox_proxy_token", "credentials_encryption_key", "matrix_oidc_client_secret", "matrix_registration_shared_secret",
] as const;

/** Lengths of the values upstream generated (`randAlphaNum`), kept for derived and generated ones. */
export const REGISTRATION_SECRET_LENGTH = 48;
export const SYNAPSE_SECRET_LENGTH = 32;

export interface SecretMaterial {
  /** Secret Output with exactly {@link TENANT_SECRET_KEYS}. */
  stringData: pulumi.Output<Record<string, string>>;
  /** `mindroom.ai/instance-secret-hash`: plain, never secret. */
  hash: pulumi.Input<string>;
  /** Secret Output with exactly the keys of `SYNAPSE_OWN_SECRET_KEYS` (synapse-config.ts). */
  synapseStringData: pulumi.Output<Record<string, string>>;
  /** `mindroom.ai/synapse-secret-hash`: plain, never secret. */
  synapseHash: pulumi.Output<string>;
}

const value = (v: pulumi.Input<string> | undefined): pulumi.Output<string> => pulumi.output(v ?? "");

export function secretMaterial(name: string, r: ResolvedInstance, parent: pulumi.Resource): SecretMaterial {
  const s = r.secrets;
  const admin = value(s.matrixAdminPassword);
  const givenRegistration = pulumi.all([value(s.matrixRegistrationSharedSecret), admin]).apply(([reg, pw]) => reg || pw);
  const explicitMacaroon = value(s.synapseMacaroonSecretKey);
  const explicitForm = value(s.synapseFormSecret);
  // The tenant's own secret the Synapse values derive from. Generated (once per run) only when none
  // is given and something needs it: the Secret's registration key, or a Synapse value not given.
  const seed = pulumi.all([givenRegistration, explicitMacaroon, explicitForm]).apply(([g, m, f]) => {
    if (g) return g;
    const needs = [...(r.instanceSecrets.create ? ["matrix_registration_shared_secret"] : []), ...(m ? [] : ["macaroon_secret_key"]), ...(f ? [] : ["form_secret"])];
    if (needs.length === 0) return "";
    if (!generatedSecretsRepeatable()) {
      void pulumi.log.warn(
        `matrixRegistrationSharedSecret and matrix_admin_password are empty, so ${needs.join(", ")} were generated for this update only and change on the next; pass matrixRegistrationSharedSecret (the provisioner derives it from its root secret) to keep them`,
        parent,
      );
    }
    return generateSecret(`${name}:${r.customer}:matrix-registration`, REGISTRATION_SECRET_LENGTH);
  });
  // Only the Secret uses a generated registration secret; without the Secret nothing needs one.
  const registration = r.instanceSecrets.create ? seed : givenRegistration;
  const synapse = (explicit: pulumi.Output<string>, purpose: "synapse-macaroon" | "synapse-form") =>
    pulumi.all([explicit, admin, seed]).apply(([e, pw, key]) => e || pw || deriveTenantSecret(key, purpose, r.customer, SYNAPSE_SECRET_LENGTH));
  const macaroonSecretKey = synapse(explicitMacaroon, "synapse-macaroon");
  const formSecret = synapse(explicitForm, "synapse-form");
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
    synapseStringData: pulumi.secret(pulumi.all({ macaroon_secret_key: macaroonSecretKey, form_secret: formSecret })),
    synapseHash: pulumi.unsecret(pulumi.all([macaroonSecretKey, formSecret]).apply(([m, f]) => synapseSecretHash(m, f))),
  };
}

export function tenantSecret(n: InstanceNames, stringData: pulumi.Output<Record<string, string>>): k8s.types.input.core.v1.Secret {
  return { metadata: { name: n.apiKeysSecret, namespace: NAMESPACE }, type: "Opaque", stringData };
}

/** Secret `synapse-secrets-{c}`: created in every mode, `instanceSecrets.create=false` too, since no operator Secret holds these. */
export function synapseSecret(r: ResolvedInstance, n: InstanceNames, stringData: pulumi.Output<Record<string, string>>): k8s.types.input.core.v1.Secret {
  return { metadata: { name: n.synapseSecrets, namespace: NAMESPACE, labels: appLabels("synapse", r) }, type: "Opaque", stringData };
}
