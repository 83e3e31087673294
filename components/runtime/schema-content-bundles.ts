/**
 * `contentBundles` (upstream values.yaml, validate.yaml, `_helpers.tpl`): images pinned by digest
 * whose files are copied into runtime storage by init containers before MindRoom starts. Entries
 * are strict (a misspelt key is an error); the checks run in upstream's order.
 */
import { posix } from "node:path";
import { z } from "zod";
import { nullableStringList, optionalString, rawList, rawMap } from "../../infra/values/fields";
import { emptyOrPullPolicy, obj } from "./values-map";

// Entries have no chart defaults, so every key may be absent (or null, Helm's unset).
const list = rawList.optional().transform((v) => v ?? []);
const map = rawMap.optional().transform((v) => v ?? {});

const bundleSchema = obj({
  name: optionalString,
  image: optionalString,
  imagePullPolicy: emptyOrPullPolicy.optional().transform((v) => v ?? ""),
  sourcePath: optionalString,
  targetPath: optionalString,
  // Upstream reads `hasKey $bundle "overwrite"`: absent means true, an explicit null is false.
  overwrite: z
    .boolean({ error: "must be true or false" })
    .nullish()
    .transform((v) => (v === undefined ? true : v === true)),
  seed: obj({
    enabled: z.boolean({ error: "must be true or false" }).nullish().transform((v) => v ?? false),
    command: nullableStringList.optional().transform((v) => v ?? []),
  })
    .nullish()
    .transform((v) => v ?? { enabled: false, command: [] as string[] }),
  volumeMounts: list,
  env: list,
  envFrom: list,
  resources: map,
  securityContext: map,
});

export const contentBundlesSchema = z
  .array(bundleSchema, { error: "must be a list of bundles (YAML '- name: …' entries)" })
  .nullable()
  .transform((v) => v ?? []);

export type ContentBundle = z.output<typeof bundleSchema>;
type Fail = (path: PropertyKey[], message: string) => void;

/** Go's `path.Clean` (Sprig `clean`): `normalize` without the trailing slash it keeps. */
export function cleanPath(p: string): string {
  const cleaned = posix.normalize(p);
  return cleaned.length > 1 ? cleaned.replace(/\/+$/, "") : cleaned;
}

/** `mindroom-runtime.contentBundleSourcePath`: default `/bundle`, cleaned. */
export function bundleSourcePath(b: ContentBundle): string {
  return cleanPath(b.sourcePath || "/bundle");
}

/** `mindroom-runtime.contentBundleTargetPath`: default `<storage.mountPath>/content-bundles/<name>`, cleaned. */
export function bundleTargetPath(b: ContentBundle, storageMountPath: string): string {
  return cleanPath(b.targetPath || `${storageMountPath.replace(/\/$/, "")}/content-bundles/${b.name}`);
}

const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const PINNED = /@sha256:[a-f0-9]{64}$/;

export function checkContentBundles(bundles: ContentBundle[], storageMountPath: string, fail: Fail): boolean {
  const seen = new Set<string>();
  for (const [i, b] of bundles.entries()) {
    const at = (...path: string[]) => ["contentBundles", i, ...path];
    if (!b.name) return (fail(at("name"), "is required; give the bundle a name (lower-case letters, digits and '-')"), true);
    if (!NAME.test(b.name)) return (fail(at("name"), `"${b.name}" must be lower-case letters, digits and '-' (it names the init container and the default target directory)`), true);
    if (b.name.length > 48) return (fail(at("name"), `"${b.name}" must be 48 characters or fewer (the init container name is content-bundle-<name>)`), true);
    if (seen.has(b.name)) return (fail(at("name"), `"${b.name}" is used by an earlier bundle; bundle names must be unique`), true);
    seen.add(b.name);
    if (!b.image) return (fail(at("image"), "is required; set the bundle image pinned by digest, e.g. registry.example.com/team/config@sha256:<64 hex>"), true);
    if (!PINNED.test(b.image)) return (fail(at("image"), `"${b.image}" must be pinned by its full sha256 digest (…@sha256:<64 lower-case hex>); a tag can change under the same name`), true);
    if (!(b.sourcePath || "/bundle").startsWith("/")) return (fail(at("sourcePath"), `"${b.sourcePath}" must be an absolute path inside the bundle image (default /bundle)`), true);
    if (b.targetPath && !b.targetPath.startsWith("/")) return (fail(at("targetPath"), `"${b.targetPath}" must be an absolute path under storage.mountPath (${storageMountPath})`), true);
    const target = bundleTargetPath(b, storageMountPath);
    const root = storageMountPath.replace(/\/$/, "") || "/";
    if (target === root) return (fail(at("targetPath"), `cannot be storage.mountPath (${storageMountPath}) itself: the copy replaces the target; use a directory under it`), true);
    if (root !== "/" && !target.startsWith(`${root}/`)) return (fail(at("targetPath"), `"${target}" must be under storage.mountPath (${storageMountPath}), the only volume the init container writes`), true);
    if (b.seed.enabled && b.seed.command.length === 0) return (fail(at("seed", "command"), "is required with seed.enabled=true; give the command as a list, or disable the seed"), true);
  }
  return false;
}
