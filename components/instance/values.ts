/**
 * Values files → {@link MindroomInstanceArgs}. Accepts the upstream chart's keys verbatim
 * (`mindroom_image`, `openai_key`, `matrix_admin_password`, …) so an operator's Helm values file
 * works unchanged, and runs every render-time validation, each failure one line naming the value
 * and the fix. The chart defaults are not applied here but once, by resolveInstance (resolve.ts),
 * for values files and TypeScript args alike: the args keep what the file said, a resource map's
 * `null` leaves included, which the merge over the default needs.
 *
 * Unknown keys are rejected: Helm silently ignores a misspelt key, which turns a typo such as
 * `mindroom_imgae` into a tenant running the wrong image; here it is an error naming the key.
 */
import { z } from "zod";
import { formatZodError, ValuesError } from "../../infra/values/errors";
import { accessMode, flagText, kindOf, resourcesOverDefault, secret, strictMap, text, textList, trueFalse } from "../../infra/values/fields";
import type { MindroomInstanceArgs } from "./args";
import { resolveInstance } from "./resolve";
import { validateInstance } from "./validate";

/** Where the unknown-key error sends the operator: the keys a values file can set, in its spelling. */
const KEYS_DOC = "docs/instance.md#values-keys";
const strict = <S extends z.ZodRawShape>(shape: S) => strictMap(shape, KEYS_DOC);
// Merged over the chart defaults in resolve.ts, which applies every default once.
const resources = resourcesOverDefault(KEYS_DOC);
const opt = <T extends z.ZodType>(t: T) => t.optional();

export const instanceValuesSchema = strict({
  customer: opt(z.union([z.string(), z.number()], { error: (i) => `expected the tenant id as a string or number, got ${kindOf(i.input)}` })),
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
  synapseImageRunsAsNonRoot: opt(trueFalse),
  imagePullSecrets: opt(z.array(strict({ name: text }), { error: (i) => `expected a list of {name: <secret>}, got ${kindOf(i.input)}` })),
  matrixOidc: opt(strict({ enabled: opt(flagText), issuer: opt(text), clientId: opt(text), clientSecret: opt(secret) })),
  authorizationGlobalUsers: opt(textList),
  seedConfigPath: opt(text),
  matrixRoomAccess: opt(
    strict({
      mode: opt(text),
      multiUserJoinRule: opt(text),
      publishToRoomDirectory: opt(trueFalse),
      inviteOnlyRooms: opt(textList),
      reconcileExistingRooms: opt(trueFalse),
    }),
  ),
  matrixAutoJoinRoomKeys: opt(textList),
  matrixHomeserverStartupTimeoutSeconds: opt(text),
  workerBackend: opt(text),
  workerCleanupIntervalSeconds: opt(text),
  controlPlaneNodeName: opt(text),
  stopped: opt(trueFalse),
  kubernetesWorkerImage: opt(text),
  kubernetesWorkerImagePullPolicy: opt(text),
  kubernetesWorkerServiceAccountName: opt(text),
  kubernetesWorkerNamePrefix: opt(text),
  kubernetesWorkerStorageSubpathPrefix: opt(text),
  kubernetesWorkerPort: opt(text),
  kubernetesWorkerReadyTimeoutSeconds: opt(text),
  kubernetesWorkerIdleTimeoutSeconds: opt(text),
  kubernetesWorkerEnableServiceLinks: opt(flagText),
  instanceSecrets: opt(strict({ create: opt(flagText), name: opt(text), hash: opt(text) })),
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
      enabled: opt(flagText),
      userIdHeader: opt(text),
      emailHeader: opt(text),
      matrixUserIdHeader: opt(text),
      emailToMatrixUserIdTemplate: opt(text),
      requireJwt: opt(flagText),
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

/**
 * Parses chart values (upstream keys verbatim) into component args, as given (the component applies
 * the chart defaults), and runs every validation on the resolved view. Throws a one-line {@link ValuesError}.
 */
export function parseInstanceValues(raw: Record<string, unknown>): MindroomInstanceArgs {
  const result = instanceValuesSchema.safeParse(raw);
  if (!result.success) throw new ValuesError(formatZodError(result.error));
  // customer is required in args (a TypeScript caller names its tenant); a values file may leave it to the chart's.
  const args: MindroomInstanceArgs = { ...toArgs(result.data), customer: result.data.customer ?? "demo" };
  validateInstance(resolveInstance(args));
  return args;
}
