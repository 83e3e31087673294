/**
 * The one values vocabulary: the zod leaves every component's values schema is built from, each
 * word with one meaning. Helm's reading of YAML is the reference: templates see `null` as "unset"
 * (`""`, `false`, `{}`, `[]`), and print numbers and booleans in their string form. Where the
 * charts read the same kind of value two ways (null allowed or not, numbers or not), the two
 * readings are two leaves whose names say the difference; see docs/values.md.
 */
import * as pulumi from "@pulumi/pulumi";
import { z } from "zod";
import { truthy } from "../truthy";
import { kindOf, strictMap } from "./strict-map";

export { closestKey, editDistance, kindOf, strictMap } from "./strict-map";

// --- Strings ---------------------------------------------------------------------------------

/** A string; `null` (an empty YAML value) is `""`. Numbers and booleans are refused: quote them. */
export const nullableString = z.string().nullable().transform((v) => v ?? "");

/**
 * A string that may also be left out: absent and `null` are `""`. For the entries of a list, which
 * get no chart defaults merged in, so any key may be missing.
 */
export const optionalString = z.string({ error: "must be a string" }).nullish().transform((v) => v ?? "");

/** A string or a number in its string form (`"30"` and `30` both read `"30"`); `null` is `""`. */
export const nullableText = z.union([z.string(), z.number()]).nullable().transform((v) => (v === null ? "" : String(v)));

/**
 * Any scalar in its string form, as Helm's `quote` prints it (`true` reads `"true"`, `30` reads
 * `"30"`); `null` is `""`. Maps and lists are refused.
 */
export const scalarText = z
  .union([z.string(), z.number(), z.boolean(), z.null()], { error: "must be a string, number or boolean; quote it or fix the indentation" })
  .transform((v) => (v === null ? "" : String(v)));

/**
 * A string, or a number in its string form: `helm --set jwtAudience=1234` types the value as a
 * number and the chart still renders "1234". `null` is refused (`expected a string, got null`):
 * use it where an absent key, not a null one, means the default.
 */
export const text = z.union([z.string(), z.number()], { error: (i) => `expected a string, got ${kindOf(i.input)}; quote the value` }).transform(String);

/** A list of {@link text}; `null` is refused. */
export const textList = z.array(text, { error: (i) => `expected a list of strings, got ${kindOf(i.input)}` });

/** A list of strings (numbers refused); `null` is `[]`. */
export const nullableStringList = z.array(z.string(), { error: "must be a list of strings" }).nullable().transform((v): string[] => v ?? []);

/** A map of strings (numbers and booleans refused: quote them); `null` is `{}`. */
export const nullableStringMap = z
  .record(z.string(), z.string({ error: "must be a string (quote numbers and booleans)" }), { error: "must be a map of strings" })
  .nullable()
  .transform((v): Record<string, string> => v ?? {});

// --- Booleans --------------------------------------------------------------------------------

/** A YAML boolean; `null` is `false`. Strings such as `"true"` are refused. */
export const nullableBool = z.boolean().nullable().transform((v) => v ?? false);

/**
 * `true`/`false` or the strings `"true"`/`"false"` (`helm --set` writes those), read as a boolean;
 * anything else, `null` included, is refused.
 */
export const trueFalse = z
  .union([z.boolean(), z.enum(["true", "false"])], { error: (i) => `expected true or false, got ${kindOf(i.input)}` })
  .transform((v) => v === true || v === "true");

/**
 * A chart flag read with the charts' truthy test (`1`, `true`, `yes`, `on`, any case): any scalar
 * becomes a boolean here; `null` is `false`. Maps and lists are refused.
 */
export const truthyFlag = scalarText.transform(truthy);

/**
 * A chart flag kept as written, for a component that applies the truthy test itself (and may tell
 * an unset flag from a false one): a boolean or a string as given, a number in its string form.
 * `null` is refused.
 */
export const flagText = z
  .union([z.boolean(), z.string(), z.number()], { error: (i) => `expected true/false (or "1", "yes", "on"), got ${kindOf(i.input)}` })
  .transform((v) => (typeof v === "number" ? String(v) : v));

// --- Numbers ---------------------------------------------------------------------------------

/** A whole number written as a YAML number; quoted numbers and `null` are refused. */
export const int = z.number({ error: "must be a whole number (unquoted in YAML)" }).int("must be a whole number");

/** An {@link int} of 0 or more. */
export const count = int.min(0, "must be 0 or more");

/** A TCP port number, 1 to 65535, as every Kubernetes port field requires. */
export const port = int.min(1, "must be a port number from 1 to 65535").max(65535, "must be a port number from 1 to 65535");

/**
 * A whole number, a quoted one too (`"3"` reads 3), as a chart's arithmetic reads it. JavaScript's
 * `Number()` does the reading, so `null` and `""` read 0.
 */
export const coercedInt = z.coerce.number({ error: "must be a whole number" }).int("must be a whole number");

/** Any number, a quoted one too (`"0.5"` reads 0.5); `null` and `""` read 0, as with {@link coercedInt}. */
export const coercedNumber = z.coerce.number({ error: "must be a number" });

/** A whole number or a percentage such as `50%` (PodDisruptionBudget); `null` and `""` mean unset, read `""`. */
export const intOrPercent = z
  .union([count, z.string().regex(/^$|^[0-9]+%?$/, "must be a whole number or a percentage such as 50%")], { error: "must be a whole number or a percentage such as 50%" })
  .nullable()
  .transform((v) => v ?? "");

// --- Kubernetes formats ----------------------------------------------------------------------

/** The image pull policies Kubernetes knows. */
export const PULL_POLICIES = ["Always", "IfNotPresent", "Never"] as const;

/**
 * An image pull policy. With `empty`, `""` is valid too and the message says what it means
 * (`true`: no explanation; a string: e.g. "the runtime image's policy"). Input must already be a
 * string: pipe a string leaf into it to choose how `null` and numbers read.
 */
export function pullPolicyEnum(empty?: true | string) {
  if (empty === undefined) return z.enum(PULL_POLICIES, { error: "must be Always, IfNotPresent or Never" });
  const meaning = empty === true ? "" : ` (${empty})`;
  return z.enum(["", ...PULL_POLICIES], { error: `must be Always, IfNotPresent, Never or empty${meaning}` });
}

/** A {@link nullableString} that must be an image pull policy (`null` reads `""`, which is refused). */
export const pullPolicy = nullableString.pipe(pullPolicyEnum());

/** The PVC access modes Kubernetes knows; anything else is refused naming them. */
export const accessMode = z.enum(["ReadWriteOnce", "ReadOnlyMany", "ReadWriteMany", "ReadWriteOncePod"], {
  error: (i) => `"${String(i.input)}" is not a PVC access mode; use ReadWriteOnce, ReadWriteMany, ReadOnlyMany or ReadWriteOncePod`,
});

const SIZE = "[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|k|M|G|T|P)?";

/** A {@link nullableString} that is a size quantity such as `10Gi` (suffixes up to P/Pi; no milli-units). */
export const quantity = nullableString.pipe(z.string().regex(new RegExp(`^${SIZE}$`), "must be a Kubernetes quantity such as 10Gi"));

/**
 * A {@link quantity} or empty (`null` too): for a size that only some settings need, so a later
 * check can say when it is required. `example` is the size the message suggests.
 */
export function emptyOrQuantity(example: string) {
  return nullableString.pipe(z.string().regex(new RegExp(`^$|^${SIZE}$`), `must be a Kubernetes quantity such as ${example}`));
}

/** A {@link scalarText} that is a volume size up to T/Ti (the platform chart's check: no P/Pi). */
export const scalarSizeToTi = scalarText.pipe(z.string().regex(/^[0-9]+(\.[0-9]+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a Kubernetes quantity such as 10Gi"));

/** Empty (the default) or a DNS label: values that become object names, label values or a namespace. */
export const EMPTY_OR_DNS_LABEL = /^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** A {@link nullableString} that is empty or a DNS label ({@link EMPTY_OR_DNS_LABEL}). */
export const nameValue = nullableString.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be lower-case letters, digits and '-' (it names Kubernetes objects), or empty"));

// --- Raw Kubernetes objects ------------------------------------------------------------------

const raw = z.record(z.string(), z.unknown(), { error: "must be a map (a Kubernetes object written as YAML keys)" });
type Raw = z.output<typeof raw>;

/** A raw Kubernetes object (EnvVar source, affinity, security context, …) passed through verbatim; `null` is `{}`. */
export const rawMap = raw.nullable().transform((v): Raw => v ?? {});

/** A list of raw Kubernetes objects (EnvVars, Volumes, Containers, …) passed through verbatim; `null` is `[]`. */
export const rawList = z.array(raw, { error: "must be a list (YAML '- ' entries)" }).nullable().transform((v): Raw[] => v ?? []);

/** Drops null leaves, as Helm does when a user value nulls a default key. */
export function dropNulls(v: unknown): unknown {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([, x]) => x !== null).map(([k, x]) => [k, dropNulls(x)]));
}

const quantities = z.record(z.string(), z.union([z.string(), z.number()], { error: () => "expected a quantity such as 500m or 1Gi" }));

/**
 * Container resources as written: `null` stays `null` (the chart renders `resources: {}`), a map
 * has only `requests` and `limits` (null leaves dropped, as Helm does), quantities as given.
 * `docs` is the component's keys list for the unknown-key message ({@link strictMap}).
 */
export function resources(docs: string) {
  return z.union([z.null(), z.preprocess(dropNulls, strictMap({ requests: quantities.optional(), limits: quantities.optional() }, docs))], {
    error: (i) => `expected a map with requests/limits (or null for none), got ${kindOf(i.input)}`,
  });
}

const quantityText = z.record(z.string(), z.union([z.string(), z.number()]).transform(String));

/**
 * Container resources read loosely: keys other than `requests` and `limits` are dropped, not
 * refused; quantities in their string form; `null` is `{}`.
 */
export const looseResources = z
  .object({ requests: quantityText.optional(), limits: quantityText.optional() })
  .nullable()
  .transform((v) => v ?? {});

// --- Secrets ---------------------------------------------------------------------------------

const isOutput = (v: unknown): v is pulumi.Output<string> => pulumi.Output.isInstance(v);

/**
 * An inline secret: a string (from a values file or stack config) or a Pulumi Output (e.g.
 * `config.requireSecret(...)`); `null` is `""` (none). The component registers it as a Pulumi
 * secret and puts it only in a Kubernetes Secret. `howToSet` ends the message with the way this
 * component's operators set a secret (stack config keys differ per stack), e.g.
 * `must be a string (quote it) or a Pulumi Output<string>; <howToSet>`.
 */
export function nullableSecret(howToSet: string) {
  return z
    .union([z.string(), z.custom<pulumi.Output<string>>(isOutput)], { error: `must be a string (quote it) or a Pulumi Output<string>; ${howToSet}` })
    .nullable()
    .transform((v) => v ?? "");
}

/**
 * An inline secret as {@link text} reads it: a string, a number in its string form, or a Pulumi
 * Output; `null` is refused.
 */
export const secret = z.union([z.string(), z.number().transform(String), z.custom<pulumi.Output<string>>(isOutput)], {
  error: (i) => `expected a string, got ${kindOf(i.input)}; quote the value`,
});

// --- Resources merged over a default ----------------------------------------------------------

/** Quantities by resource name, as given to be merged over a default; a `null` removes that default key. */
export type QuantitiesOverDefault = Record<string, string | number | null>;

/**
 * Container resources as given, for a component that merges them over its default as Helm
 * coalesces a values map over the chart's (`requests` alone keeps the default `limits`).
 */
export interface ResourcesOverDefault {
  /** Merged over the default requests key by key; `null` removes them all. */
  requests?: QuantitiesOverDefault | null;
  /** Merged over the default limits key by key; `null` removes them all. */
  limits?: QuantitiesOverDefault | null;
}

/**
 * Container resources to be merged over a default: checked exactly as {@link resources} checks them
 * (its messages; `null` leaves dropped for the check, so `limit: null` is no unknown key), but
 * returned as written, `null` leaves kept, because in the merge a `null` removes that default key
 * (`limits: {cpu: null}` keeps the default memory limit and sets no CPU limit). `null` for the whole
 * map stays `null` (the chart renders `resources: {}`). The component does the merge, so the default
 * lives in one place for values files and TypeScript args alike.
 */
export function resourcesOverDefault(docs: string) {
  const check = resources(docs);
  return z.unknown().transform((given, ctx): ResourcesOverDefault | null => {
    const result = check.safeParse(given);
    if (result.success) return given as ResourcesOverDefault | null;
    for (const issue of result.error.issues) ctx.addIssue({ ...issue });
    return z.NEVER;
  });
}
