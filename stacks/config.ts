/**
 * Root stack configuration (`mindroom:*` keys), validated with zod before any resource exists.
 * Each mistake yields one line naming the key and the fix. Secrets are never part of this schema:
 * they are read with `requireSecret`/`getSecret` (see `PLATFORM_SECRET_KEYS`).
 */
import { z, type ZodError } from "zod";
import { k3sClusterSchema } from "../components/cluster/args";
import { ValuesError, formatPath } from "../infra/values/errors";
import { truthy } from "../infra/truthy";

export const CONFIG_NAMESPACE = "mindroom";

/** Secret config keys → the platform values path they fill (upstream root variables, cluster.md §14). */
export const PLATFORM_SECRET_KEYS: Record<string, string[]> = {
  supabaseServiceKey: ["supabase", "serviceKey"],
  stripeSecretKey: ["stripe", "secretKey"],
  stripeWebhookSecret: ["stripe", "webhookSecret"],
  provisionerApiKey: ["provisioner", "apiKey"],
  instanceCredentialsEncryptionSecret: ["provisioner", "instanceCredentialsEncryptionSecret"],
  /** The tenant stacks' own passphrase (never this stack's; unset → generated once, kept by the provisioner Secret). */
  tenantStacksPassphrase: ["provisioner", "pulumiConfigPassphrase"],
  /** Their passphrase before a move (docs/rekey.md); temporary. */
  previousTenantStacksPassphrase: ["provisioner", "previousPulumiConfigPassphrase"],
  openaiApiKey: ["apiKeys", "openai"],
  anthropicApiKey: ["apiKeys", "anthropic"],
  openrouterApiKey: ["apiKeys", "openrouter"],
  openrouterProvisioningApiKey: ["apiKeys", "openrouterProvisioning"],
  googleApiKey: ["apiKeys", "google"],
  deepseekApiKey: ["apiKeys", "deepseek"],
  matrixOidcClientSecret: ["matrixOidc", "clientSecret"],
  matrixOidcPrivateKey: ["matrixOidc", "privateKey"],
};

/**
 * Keys that are gone, each with the one line saying what replaced it. `pulumiConfigPassphrase` gave
 * the internet-facing provisioner this stack's own passphrase (docs/rekey.md).
 */
export const RETIRED_KEYS: Record<string, string> = {
  pulumiConfigPassphrase:
    'replaced by tenantStacksPassphrase: the tenant stacks get a passphrase of their own, never this stack\'s (docs/rekey.md); keep the old value for the move and drop the key: pulumi config set --secret previousTenantStacksPassphrase "$(pulumi config get pulumiConfigPassphrase)" && pulumi config set --secret tenantStacksPassphrase "$(openssl rand -hex 32)" && pulumi config rm pulumiConfigPassphrase',
};

export const stackConfigSchema = z
  .object({
    /** `hetzner` builds the k3s cluster; `local` targets an existing kubeconfig (kind, k3d). */
    mode: z.enum(["hetzner", "local"], { message: 'must be "hetzner" or "local"' }).default("hetzner"),
    /** K3sCluster arguments; required in hetzner mode. */
    cluster: k3sClusterSchema.optional(),
    local: z
      .object({
        /** Kubeconfig path or contents; default: the usual loading rules ($KUBECONFIG, ~/.kube/config). */
        kubeconfig: z.string().optional(),
        /** Context inside it, e.g. kind-mindroom or k3d-mindroom. */
        context: z.string().optional(),
      })
      .strict()
      .prefault({}),
    storage: z
      .object({
        /** `Retain` for production tenant data: a deleted claim leaves its Hetzner volume behind. */
        reclaimPolicy: z.enum(["Delete", "Retain"], { message: "must be Delete or Retain" }).default("Delete"),
      })
      .strict()
      .prefault({}),
    clusterServices: z
      .object({
        /** ACME contact for letsencrypt-staging and letsencrypt-prod. */
        acmeEmail: z.email("must be an e-mail address for the ACME account (e.g. ops@example.com)"),
        metricsServer: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
        certManager: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
        /** Off only where the cluster brings its own ingress controller (or cannot download charts). */
        ingressNginx: z.object({ enabled: z.boolean().default(true) }).strict().prefault({}),
      })
      .strict(),
    /**
     * Let the kubernetes provider wait for platform objects to become ready (default true, so an
     * `up` fails on a backend that never starts). `false` only where pods cannot run or readiness
     * is watched elsewhere: it sets `pulumi.com/skipAwait` on every platform object (infra/skip-await.ts).
     */
    providerAwait: z.boolean({ message: "must be true or false" }).default(true),
    /** Deploy the Platform component (upstream `deploy_platform`). */
    deployPlatform: z.boolean().default(true),
    /** Platform chart values, upstream keys verbatim; secrets come from the secret keys instead. */
    platform: z.record(z.string(), z.unknown()).default({}),
    /** Tenant mix for the capacity stack outputs, e.g. `{free: 10, pro: 2}`. */
    capacityMix: z.record(z.string(), z.number().int().min(0)).default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    if (cfg.mode === "hetzner" && !cfg.cluster) {
      ctx.addIssue({ code: "custom", path: ["cluster"], message: "required in hetzner mode: set at least cluster.adminCidrs.kubeApi (see Pulumi.staging.yaml), or set mode: local" });
    }
    const autoscaling = (cfg.platform.autoscaling as { enabled?: unknown } | undefined)?.enabled;
    if (truthy(autoscaling) && !cfg.clusterServices.metricsServer.enabled) {
      ctx.addIssue({
        code: "custom",
        path: ["platform", "autoscaling", "enabled"],
        message: "needs clusterServices.metricsServer.enabled: true (HPAs read metrics-server); enable it or set autoscaling.enabled to false",
      });
    }
    for (const path of Object.values(PLATFORM_SECRET_KEYS)) {
      let node: unknown = cfg.platform;
      for (const part of path) node = (node as Record<string, unknown> | undefined)?.[part];
      if (typeof node === "string" && node !== "") {
        const key = Object.keys(PLATFORM_SECRET_KEYS).find((k) => PLATFORM_SECRET_KEYS[k] === path);
        ctx.addIssue({ code: "custom", path: ["platform", ...path], message: `is a secret: remove it and run \`pulumi config set --secret ${key} <value>\`` });
      }
    }
  });

export type StackConfig = z.output<typeof stackConfigSchema>;

/** One line per zod issue, `mindroom:<key path>: <fix>`; several unknown keys give several lines. */
function issueLines(error: ZodError): string[] {
  const line = (path: PropertyKey[], message: string) => `${CONFIG_NAMESPACE}:${formatPath(path)}: ${message}`;
  const known = [...Object.keys(stackConfigSchema.shape), ...Object.keys(PLATFORM_SECRET_KEYS)].join(", ");
  const lines = error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") {
      const fix = issue.path.length === 0 ? `unknown config key; known keys: ${known}` : "unknown key; remove it or correct its spelling";
      return issue.keys.map((key) => line([...issue.path, key], fix));
    }
    // zod's own wording ("Invalid input: expected string, received undefined") names no fix.
    if (issue.code === "invalid_type" && issue.message.startsWith("Invalid input")) {
      return [line(issue.path, issue.message.endsWith("received undefined") ? "required; add it to the stack file (Pulumi.staging.yaml shows every key)" : `must be a ${issue.expected}`)];
    }
    return [line(issue.path, issue.message)];
  });
  return [...new Set(lines)];
}

/**
 * Parses raw `mindroom:*` config (key → value, values already JSON-decoded). Unknown keys are
 * errors, except the secret keys of {@link PLATFORM_SECRET_KEYS}, which are read elsewhere; a
 * {@link RETIRED_KEYS retired key} is an error saying what replaced it. Every
 * wrong key is reported, one line each, in a single {@link ValuesError}.
 */
export function parseStackConfig(raw: Record<string, unknown>): StackConfig {
  const retired = Object.keys(raw).filter((k) => k in RETIRED_KEYS).map((k) => `${CONFIG_NAMESPACE}:${k}: ${RETIRED_KEYS[k]}`);
  const plain = Object.fromEntries(Object.entries(raw).filter(([k]) => !(k in PLATFORM_SECRET_KEYS) && !(k in RETIRED_KEYS)));
  const result = stackConfigSchema.safeParse(plain);
  const lines = [...retired, ...(result.success ? [] : issueLines(result.error))];
  if (lines.length > 0 || !result.success) throw new ValuesError(lines.join("\n"));
  return result.data;
}

/** `mindroom:*` entries of a Pulumi config map (`pulumi.runtime.allConfig()`), JSON-decoded where they are JSON. */
export function rawStackConfig(all: Record<string, string>): Record<string, unknown> {
  const prefix = `${CONFIG_NAMESPACE}:`;
  return Object.fromEntries(
    Object.entries(all)
      .filter(([k]) => k.startsWith(prefix))
      .map(([k, v]) => {
        try {
          return [k.slice(prefix.length), JSON.parse(v) as unknown];
        } catch {
          return [k.slice(prefix.length), v];
        }
      }),
  );
}
