/**
 * Values files → {@link MindroomInstanceArgs}. Accepts the upstream chart's keys verbatim
 * (`mindroom_image`, `openai_key`, `matrix_admin_password`, …) so an operator's Helm values file
 * works unchanged, merges maps over the chart defaults as Helm does, and runs every render-time
 * validation, each failure one line naming the value and the fix.
 *
 * Unknown keys are rejected: Helm silently ignores a misspelt key, which turns a typo such as
 * `mindroom_imgae` into a tenant running the wrong image; here it is an error naming the key.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { formatZodError, ValuesError } from "../../infra/values/errors";
import { mergeValues } from "../../infra/values/load";
import type { ContainerResources, MindroomInstanceArgs } from "./args";
import { DEFAULT_MINDROOM_RESOURCES, DEFAULT_SANDBOX_RUNNER_RESOURCES, DEFAULT_SYNAPSE_RESOURCES, resolveInstance } from "./resolve";
import { validateInstance } from "./validate";

const got = (input: unknown): string => (input === null ? "null" : Array.isArray(input) ? "a list" : typeof input);

/**
 * A string value. Numbers are taken as their string form, as Helm templates them: `helm --set`
 * types `jwtAudience=1234` (and a values file `clientId: 1234`) as a number, and the chart still
 * renders "1234", so an upstream values file must not fail on it.
 */
const text = z
  .union([z.string(), z.number()], { error: (i) => `expected a string, got ${got(i.input)}; quote the value` })
  .transform(String);
const flag = z
  .union([z.boolean(), z.string(), z.number()], { error: (i) => `expected true/false (or "1", "yes", "on"), got ${got(i.input)}` })
  .transform((v) => (typeof v === "number" ? String(v) : v));
const bool = z.union([z.boolean(), z.enum(["true", "false"])], { error: (i) => `expected true or false, got ${got(i.input)}` }).transform((v) => v === true || v === "true");
const textList = z.array(text, { error: (i) => `expected a list of strings, got ${got(i.input)}` });
/** A secret value: plain text (wrapped with pulumi.secret by the component) or a Pulumi Output. */
const secret = z.union(
  [z.string(), z.number().transform(String), z.custom<pulumi.Output<string>>((v) => pulumi.Output.isInstance(v))],
  { error: (i) => `expected a string, got ${got(i.input)}; quote the value` },
);
const accessMode = z.enum(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"], {
  error: (i) => `"${String(i.input)}" is not a PVC access mode; use ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod`,
});

/** Drops null leaves, as Helm does when a user value nulls a default key. */
function dropNulls(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
}
const quantities = z.record(z.string(), z.union([z.string(), z.number()], { error: () => "expected a quantity such as 500m or 1Gi" }));
const resources = z.union([
  z.null(),
  z.preprocess(dropNulls, strict({ requests: quantities.optional(), limits: quantities.optional() })),
], { error: (i) => `expected a map with requests/limits (or null for none), got ${got(i.input)}` });

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const cur = row[j];
      row[j] = Math.min(row[j] + 1, row[j - 1] + 1, prev + (a[i - 1].toLowerCase() === b[j - 1].toLowerCase() ? 0 : 1));
      prev = cur;
    }
  }
  return row[b.length];
}

/** A map that names an unknown key and suggests the closest known one. */
function strict<S extends z.ZodRawShape>(shape: S) {
  const known = Object.keys(shape);
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === "unrecognized_keys") {
        const key = issue.keys[0];
        const best = known.map((k) => [k, editDistance(key, k)] as const).sort((a, b) => a[1] - b[1])[0];
        const hint = best && best[1] <= Math.max(2, Math.floor(key.length / 3)) ? `did you mean "${best[0]}"?` : "remove it";
        return `unknown key "${key}"; ${hint} (every key: docs/instance.md#values-keys)`;
      }
      return `expected a map, got ${got(issue.input)}`;
    },
  });
}

const opt = <T extends z.ZodType>(t: T) => t.optional();

export const instanceValuesSchema = strict({
  customer: opt(z.union([z.string(), z.number()], { error: (i) => `expected the tenant id as a string or number, got ${got(i.input)}` })),
  baseDomain: opt(text),
  accountId: opt(text),
  storage: opt(text),
  storageClassName: opt(text),
  storageAccessMode: opt(accessMode),
  synapseStorageAccessMode: opt(accessMode),
  storagePath: opt(text),
  mindroomResources: opt(resources),
  synapseResources: opt(resources),
  sandboxRunnerResources: opt(resources),
  sandboxWorkspaceSizeLimit: opt(text),
  mindroom_image: opt(text),
  mindroom_image_pull_policy: opt(text),
  synapse_image: opt(text),
  synapse_image_pull_policy: opt(text),
  synapseImageRunsAsNonRoot: opt(bool),
  imagePullSecrets: opt(z.array(strict({ name: text }), { error: (i) => `expected a list of {name: <secret>}, got ${got(i.input)}` })),
  matrixOidc: opt(strict({ enabled: opt(flag), issuer: opt(text), clientId: opt(text), clientSecret: opt(secret) })),
  authorizationGlobalUsers: opt(textList),
  seedConfigPath: opt(text),
  matrixRoomAccess: opt(
    strict({
      mode: opt(text),
      multiUserJoinRule: opt(text),
      publishToRoomDirectory: opt(bool),
      inviteOnlyRooms: opt(textList),
      reconcileExistingRooms: opt(bool),
    }),
  ),
  matrixAutoJoinRoomKeys: opt(textList),
  matrixHomeserverStartupTimeoutSeconds: opt(text),
  workerBackend: opt(text),
  workerCleanupIntervalSeconds: opt(text),
  controlPlaneNodeName: opt(text),
  stopped: opt(bool),
  kubernetesWorkerImage: opt(text),
  kubernetesWorkerImagePullPolicy: opt(text),
  kubernetesWorkerServiceAccountName: opt(text),
  kubernetesWorkerNamePrefix: opt(text),
  kubernetesWorkerStorageSubpathPrefix: opt(text),
  kubernetesWorkerPort: opt(text),
  kubernetesWorkerReadyTimeoutSeconds: opt(text),
  kubernetesWorkerIdleTimeoutSeconds: opt(text),
  kubernetesWorkerEnableServiceLinks: opt(flag),
  instanceSecrets: opt(strict({ create: opt(flag), name: opt(text), hash: opt(text) })),
  openai_key: opt(secret),
  anthropic_key: opt(secret),
  google_key: opt(secret),
  openrouter_key: opt(secret),
  deepseek_key: opt(secret),
  sandbox_proxy_token: opt(secret),
  credentials_encryption_key: opt(secret),
  matrixRegistrationSharedSecret: opt(secret),
  supabaseUrl: opt(text),
  supabaseAnonKey: opt(text),
  supabaseServiceKey: opt(secret),
  trustedUpstreamAuth: opt(
    strict({
      enabled: opt(flag),
      userIdHeader: opt(text),
      emailHeader: opt(text),
      matrixUserIdHeader: opt(text),
      emailToMatrixUserIdTemplate: opt(text),
      requireJwt: opt(flag),
      jwtHeader: opt(text),
      jwksUrl: opt(text),
      jwtAudience: opt(text),
      jwtIssuer: opt(text),
      jwtEmailClaim: opt(text),
      jwtUserIdClaim: opt(text),
      jwtMatrixUserIdClaim: opt(text),
      // Project keys: how the tenant Ingress admits the identity headers (docs/instance.md).
      authUrl: opt(text),
      authSignin: opt(text),
      acknowledgeUnverifiedHeaders: opt(text),
    }),
  ),
  matrix_admin_password: opt(secret),
  synapseMacaroonSecretKey: opt(secret),
  synapseFormSecret: opt(secret),
});

type InstanceValues = z.output<typeof instanceValuesSchema>;

/**
 * The upstream keys whose {@link MindroomInstanceArgs} name differs (snake_case in the chart,
 * camelCase in args.ts), declared once. Every other key is spelt alike in both and passes through
 * as parsed, so a new value is a schema key (and an args field), never a hand-written copy line.
 */
const ARG_NAMES = {
  mindroom_image: "mindroomImage",
  mindroom_image_pull_policy: "mindroomImagePullPolicy",
  synapse_image: "synapseImage",
  synapse_image_pull_policy: "synapseImagePullPolicy",
  openai_key: "openaiKey",
  anthropic_key: "anthropicKey",
  google_key: "googleKey",
  openrouter_key: "openrouterKey",
  deepseek_key: "deepseekKey",
  sandbox_proxy_token: "sandboxProxyToken",
  credentials_encryption_key: "credentialsEncryptionKey",
  matrix_admin_password: "matrixAdminPassword",
} as const satisfies { [K in keyof InstanceValues]?: keyof MindroomInstanceArgs };

/** Parsed values under their args names. */
type Renamed = { [K in keyof InstanceValues as K extends keyof typeof ARG_NAMES ? (typeof ARG_NAMES)[K] : K]: InstanceValues[K] };
/** Args a values file does not set: the tenant stack's own option (stacks/tenant.ts). */
type StackOnlyArgs = "retainData";
/** Keys on one side only: a values key no arg receives, or an arg no values key sets (a missing ARG_NAMES row). */
type Unmatched = Exclude<keyof Renamed, keyof MindroomInstanceArgs> | Exclude<keyof MindroomInstanceArgs, keyof Renamed | StackOnlyArgs>;
// Fails to compile, naming the keys, unless Unmatched is empty.
const everyKeyMatched: [Unmatched] extends [never] ? true : { unmatched: Unmatched } = true;
void everyKeyMatched;

function toArgs(values: InstanceValues): Renamed {
  const names: Record<string, string> = ARG_NAMES;
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [names[key] ?? key, value])) as Renamed;
}

/** The chart's map-valued defaults; user maps merge over them key by key, as Helm coalesces values. */
const CHART_MAP_DEFAULTS: Record<string, ContainerResources> = {
  mindroomResources: DEFAULT_MINDROOM_RESOURCES,
  synapseResources: DEFAULT_SYNAPSE_RESOURCES,
  sandboxRunnerResources: DEFAULT_SANDBOX_RUNNER_RESOURCES,
};

/**
 * Parses chart values (upstream keys verbatim, Helm merge semantics) into component args with the
 * chart defaults applied, and runs every validation. Throws a one-line {@link ValuesError}.
 */
export function parseInstanceValues(raw: Record<string, unknown>): MindroomInstanceArgs {
  // Only the resource maps have map defaults, so secret Outputs elsewhere pass through untouched.
  const merged = mergeValues(CHART_MAP_DEFAULTS as Record<string, unknown>, raw);
  const result = instanceValuesSchema.safeParse(merged);
  if (!result.success) throw new ValuesError(formatZodError(result.error));
  // customer is required in args (a TypeScript caller names its tenant); a values file may leave it to the chart's.
  const args: MindroomInstanceArgs = { ...toArgs(result.data), customer: result.data.customer ?? "demo" };
  validateInstance(resolveInstance(args));
  return args;
}
