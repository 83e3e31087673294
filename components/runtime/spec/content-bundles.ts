/** `contentBundles` init containers (upstream deployment.yaml, `_helpers.tpl`). */
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { bundleSourcePath, bundleTargetPath } from "../schema-content-bundles";
import { dnsTrunc } from "../names";
import { nonEmpty } from "./util";

/**
 * Helm's `quote` (Go's `%q`): the script is what upstream's template prints, so paths and seed
 * arguments are double-quoted with Go's escapes; `$` is left to the shell, as upstream leaves it.
 */
export function goQuote(s: string): string {
  const named: Record<string, string> = { "\x07": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\" };
  let out = "";
  for (const ch of s) {
    const code = ch.codePointAt(0) as number;
    if (named[ch]) out += named[ch];
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, "0")}`;
    else if (code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16)}`;
    else out += ch;
  }
  return `"${out}"`;
}

/** The copy script of one bundle: optional wipe, copy of `sourcePath/.`, optional seed command. */
export function bundleScript(bundle: RuntimeValues["contentBundles"][number], storageMountPath: string): string {
  const source = bundleSourcePath(bundle);
  const target = bundleTargetPath(bundle, storageMountPath);
  const lines = ["set -eu"];
  if (bundle.overwrite) lines.push(`rm -rf ${goQuote(target)}`);
  lines.push(`mkdir -p ${goQuote(target)}`, `cp -a ${goQuote(`${source}/.`)} ${goQuote(`${target}/`)}`);
  if (bundle.seed.enabled) lines.push(bundle.seed.command.map(goQuote).join(" "));
  return lines.join("\n");
}

/** Init containers `content-bundle-<name>`, after the user's `initContainers`, in list order. */
export function contentBundleInitContainers(v: RuntimeValues, n: RuntimeNames): Record<string, unknown>[] {
  return v.contentBundles.map((b) => ({
    name: dnsTrunc(`content-bundle-${b.name}`),
    image: b.image,
    imagePullPolicy: b.imagePullPolicy || "IfNotPresent",
    command: ["sh", "-ec"],
    args: [bundleScript(b, v.storage.mountPath)],
    volumeMounts: [{ name: n.storageVolumeName, mountPath: v.storage.mountPath }, ...b.volumeMounts],
    env: nonEmpty(b.env),
    envFrom: nonEmpty(b.envFrom),
    resources: nonEmpty(b.resources),
    securityContext: nonEmpty(b.securityContext),
  }));
}
