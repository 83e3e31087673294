/**
 * Runtime-only stack (project `mindroom-runtime`, `stacks/runtime/Pulumi.yaml`): the MindRoom
 * runtime on an existing cluster that provides Matrix, ingress, model gateways and most Secrets,
 * as `helm upgrade --install mindroom-runtime ./cluster/k8s/runtime -n mindroom -f values.yaml` did.
 *
 * Stack config (`mindroom-runtime:*`):
 * - `values`: runtime chart values (keys and defaults of the upstream chart). The two inline secret
 *   values go in with `pulumi config set --secret --path 'values.workers.sandbox.proxyToken.value' …`
 *   and `… 'values.eventCache.postgres.auth.password' …`; the component keeps them secret.
 * - `releaseName` (default `mindroom-runtime`), `namespace` (default `mindroom`, must exist).
 * - `kubeconfig` (secret, optional): kubeconfig contents or path; unset → the default provider
 *   ($KUBECONFIG, ~/.kube/config, or in-cluster credentials).
 * - `adoptExisting` (default false): take over objects that already exist under the same names,
 *   e.g. those of the Helm release this stack replaces (provider `upsertExistingObjects`).
 * - `providerAwait` (default true): the provider waits for each object to be ready; `false` marks
 *   every object `pulumi.com/skipAwait` (infra/skip-await.ts), for clusters where pods cannot run.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { MindroomRuntime } from "../components/runtime";
import { parseRuntimeValues } from "../components/runtime/values";
import { awaitOptions } from "../infra/skip-await";
import { parseOrThrow, ValuesError } from "../infra/values/errors";

export const RUNTIME_PROJECT = "mindroom-runtime";

const dnsLabel = z
  .string()
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/, "must be a DNS label (lowercase letters, digits and '-')")
  .max(63, "must be at most 63 characters");

const stackConfigSchema = z.object({
  releaseName: dnsLabel.optional(),
  namespace: dnsLabel.optional(),
  adoptExisting: z.boolean({ message: "must be true or false" }).optional(),
  providerAwait: z.boolean({ message: "must be true or false" }).optional(),
  values: z.record(z.string(), z.unknown(), { message: "must be a map of runtime chart values (see stacks/runtime/Pulumi.example.yaml)" }).optional(),
});

/** Values paths of the chart's inline secrets: in stack config only with `--secret --path`. */
const INLINE_SECRET_PATHS = [
  ["workers", "sandbox", "proxyToken", "value"],
  ["eventCache", "postgres", "auth", "password"],
];

/**
 * Refuses secrets the stack file would hold in plain text: inline secret values (the `values` key is
 * a secret once any leaf was set with `--secret --path`) and kubeconfig contents (a path is fine).
 */
function refusePlaintextSecrets(values: Record<string, unknown> | undefined, kubeconfig: string | undefined): void {
  // The SDK's own test behind `Config.getSecret`; exported at run time, missing from the typings.
  const isSecret = (key: string) => (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(`${RUNTIME_PROJECT}:${key}`);
  if (!isSecret("values")) {
    for (const path of INLINE_SECRET_PATHS) {
      let node: unknown = values;
      for (const part of path) node = node && typeof node === "object" ? (node as Record<string, unknown>)[part] : undefined;
      if (typeof node === "string" && node !== "") {
        const dotted = `values.${path.join(".")}`;
        throw new ValuesError(`${RUNTIME_PROJECT}:${dotted}: stored in plain text in the stack file; set it encrypted: pulumi config set --secret --path '${dotted}' <value>`);
      }
    }
  }
  if (kubeconfig && /\n|^\s*\{/.test(kubeconfig) && !isSecret("kubeconfig")) {
    throw new ValuesError(
      `${RUNTIME_PROJECT}:kubeconfig: holds kubeconfig contents (cluster credentials) in plain text in the stack file; give the file's path instead, or store it encrypted: pulumi config set --secret kubeconfig "$(cat <file>)"`,
    );
  }
}

/** What the stack exports: enough to reach the runtime and find its data. */
export interface RuntimeStackOutputs {
  fullname: string;
  namespace: string;
  workerNamespace: string;
  apiUrl: string;
  storageClaimName: string;
}

/**
 * The Pulumi program. Reads and validates the whole stack config first, so a bad value fails the
 * update with one line (`mindroom-runtime:values.<path>: …`) before any resource registers.
 */
export function runtimeStack(): RuntimeStackOutputs {
  const config = new pulumi.Config(RUNTIME_PROJECT);
  const settings = parseOrThrow(
    stackConfigSchema,
    {
      releaseName: config.get("releaseName"),
      namespace: config.get("namespace"),
      adoptExisting: config.getObject<unknown>("adoptExisting"),
      providerAwait: config.getObject<unknown>("providerAwait"),
      values: config.getObject<unknown>("values"),
    },
    `${RUNTIME_PROJECT}:`,
  );
  const args = parseRuntimeValues(settings.values ?? {}, { name: settings.releaseName, namespace: settings.namespace }, `${RUNTIME_PROJECT}:values.`);

  // Read as plain text only to decide whether an explicit provider exists; it goes on as a secret.
  const kubeconfig = config.get("kubeconfig");
  refusePlaintextSecrets(settings.values, kubeconfig);
  const provider =
    kubeconfig || settings.adoptExisting
      ? new k8s.Provider("kubeconfig", {
          kubeconfig: kubeconfig ? pulumi.secret(kubeconfig) : undefined,
          // Update the chart's ConfigMap and Secrets in place, as Helm did, instead of replacing them.
          enableConfigMapMutable: true,
          enableSecretMutable: true,
          upsertExistingObjects: settings.adoptExisting ?? false,
        })
      : undefined;

  const runtime = new MindroomRuntime(args.releaseName as string, args, { ...(provider ? { providers: [provider] } : {}), ...awaitOptions(settings.providerAwait) });
  return {
    fullname: runtime.fullname,
    namespace: runtime.namespace,
    workerNamespace: runtime.workerNamespace,
    apiUrl: runtime.apiUrl,
    storageClaimName: runtime.storageClaimName,
  };
}
