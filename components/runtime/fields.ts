/**
 * The runtime chart's value types as zod leaves: Helm's `null`-means-unset reading, Kubernetes
 * formats (ports, quantities, DNS labels), raw objects passed through verbatim, and strict maps
 * that reject unknown keys. Every message names the fix.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";

/** A raw Kubernetes object (EnvVar, Volume, Container, affinity, ...) passed through verbatim. */
const raw = z.record(z.string(), z.unknown(), { error: "must be a map (a Kubernetes object written as YAML keys)" });
type Raw = z.output<typeof raw>;

// Helm hands `null` to templates as "unset": strings read as "", booleans as false, maps and lists as empty.
export const str = z.string().nullable().transform((v) => v ?? "");
export const bool = z.boolean().nullable().transform((v) => v ?? false);
export const int = z.number({ error: "must be a whole number (unquoted in YAML)" }).int("must be a whole number");
export const count = int.min(0, "must be 0 or more");
/** TCP port numbers, as every Kubernetes port field requires. */
export const port = int.min(1, "must be a port number from 1 to 65535").max(65535, "must be a port number from 1 to 65535");
const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;
export const pullPolicy = str.pipe(z.enum(PULL_POLICIES, { error: "must be Always, IfNotPresent or Never" }));
/** Worker image pull policy: empty means the runtime image's. */
export const optionalPullPolicy = str.pipe(z.enum(["", ...PULL_POLICIES], { error: "must be Always, IfNotPresent, Never or empty (the runtime image's policy)" }));
export const quantity = str.pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?$/, "must be a Kubernetes quantity such as 10Gi"));
/** Empty (the default) or a DNS label: these values become object names, label values or a namespace. */
export const EMPTY_OR_DNS_LABEL = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const nameValue = str.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be lower-case letters, digits and '-' (it names Kubernetes objects), or empty"));
/** Values the chart prints into env or manifests as given; `"30"` and `30` both stay valid. */
export const scalar = z.union([z.string(), z.number()]).nullable().transform((v) => (v === null ? "" : String(v)));
/** Number or percentage (PodDisruptionBudget); empty means unset. */
export const intOrString = z
  .union([count, z.string().regex(/^$|^[0-9]+%?$/, "must be a whole number or a percentage such as 50%")], { error: "must be a whole number or a percentage such as 50%" })
  .nullable()
  .transform((v) => v ?? "");
export const rawMap = raw.nullable().transform((v): Raw => v ?? {});
export const rawList = z.array(raw, { error: "must be a list (YAML '- ' entries)" }).nullable().transform((v): Raw[] => v ?? []);
export const stringMap = z
  .record(z.string(), z.string({ error: "must be a string (quote numbers and booleans)" }), { error: "must be a map of strings" })
  .nullable()
  .transform((v): Record<string, string> => v ?? {});
export const stringList = z.array(z.string(), { error: "must be a list of strings" }).nullable().transform((v): string[] => v ?? []);

/**
 * An inline secret value: a plain string (from a values file or stack config) or a Pulumi Output
 * (for example `config.requireSecret(...)`). Either way it is registered as a Pulumi secret and
 * lands only in a Kubernetes Secret.
 */
export const secretString = z
  .union([z.string(), z.custom<pulumi.Output<string>>((v) => pulumi.Output.isInstance(v))], {
    error: "must be a string (quote it) or a Pulumi Output<string>; in stack config set it with `pulumi config set --secret --path`",
  })
  .nullable()
  .transform((v) => v ?? "");

/** Keys the core schema does not know are an error: a typo must not silently drop behaviour. */
export function obj<S extends z.ZodRawShape>(shape: S) {
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === "unrecognized_keys"
        ? `unknown key ${issue.keys.map((k) => `"${k}"`).join(", ")}: not a value of the runtime chart's core surface; check the spelling (later features: docs/runtime.md)`
        : undefined,
  });
}
