/**
 * `stateStorage` (upstream values.yaml, validate.yaml): a dedicated PVC for the Matrix client state
 * that must survive restarts (encryption keys, sync continuity), overlaid by subPath onto the
 * agent-data volume. The checks run in upstream's order; the first failure wins.
 */
import { z } from "zod";
import { count, emptyOrQuantity, nameValue, nullableBool, nullableString, nullableStringList, nullableText, pullPolicy, rawMap } from "../../infra/values/fields";
import { obj } from "./values-map";

/** A quantity, or empty so that upstream's own "size is required" check can name the fix. */
const optionalQuantity = emptyOrQuantity("10Gi");

const overlay = obj({ enabled: nullableBool, mountPath: nullableString, subPath: nullableString });

export const stateStorageSchema = obj({
  enabled: nullableBool,
  create: nullableBool,
  existingClaim: nullableString,
  volumeName: nameValue,
  accessModes: nullableStringList,
  storageClassName: nullableString,
  size: optionalQuantity,
  mountPath: nullableString,
  encryptionKeys: overlay,
  syncContinuity: overlay,
  initPermissions: obj({
    enabled: nullableBool,
    image: nullableString,
    imagePullPolicy: pullPolicy,
    securityContext: rawMap,
    runAsUser: count,
    fsGroup: count,
    chmod: nullableText,
  }),
});

export type StateStorageValues = z.output<typeof stateStorageSchema>;
type Fail = (path: PropertyKey[], message: string) => void;

/**
 * A subPath the kubelet accepts (relative, no `..`) and that stays one word inside the root init
 * container's double-quoted shell arguments.
 */
const SAFE_SUBPATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** Upstream's stateStorage checks, then the project's (subPath and chmod are shell arguments of a root container). */
export function checkStateStorage(s: StateStorageValues, storage: { mountPath: string; volumeName: string }, fail: Fail): boolean {
  if (!s.enabled) return false;
  const at = (...path: string[]) => ["stateStorage", ...path];
  const ek = s.encryptionKeys;
  const sc = s.syncContinuity;
  const problems: [boolean, string[], string][] = [
    [!s.create && !s.existingClaim, at("existingClaim"), "stateStorage.enabled=true needs a claim: set stateStorage.existingClaim, or stateStorage.create=true"],
    [s.create && !s.existingClaim && !s.size, at("size"), "is required when the component creates the state PVC (stateStorage.create=true); set it, e.g. 10Gi"],
    [(storage.volumeName || "storage") === (s.volumeName || "state-storage"), at("volumeName"), `must differ from storage.volumeName ("${storage.volumeName || "storage"}"); both are volumes of the same pod`],
    [s.mountPath !== "" && s.mountPath === storage.mountPath, at("mountPath"), `must differ from storage.mountPath (${storage.mountPath}); the state volume would hide agent data`],
    [ek.enabled && ek.mountPath !== "" && ek.mountPath === storage.mountPath, at("encryptionKeys", "mountPath"), `must differ from storage.mountPath (${storage.mountPath}); use a directory under it, e.g. ${storage.mountPath}/encryption_keys`],
    [sc.enabled && sc.mountPath !== "" && sc.mountPath === storage.mountPath, at("syncContinuity", "mountPath"), `must differ from storage.mountPath (${storage.mountPath}); use a directory under it, e.g. ${storage.mountPath}/sync_continuity`],
    [s.mountPath !== "" && ek.enabled && ek.mountPath !== "" && s.mountPath === ek.mountPath, at("mountPath"), "must differ from stateStorage.encryptionKeys.mountPath; two mounts cannot share a path"],
    [s.mountPath !== "" && sc.enabled && sc.mountPath !== "" && s.mountPath === sc.mountPath, at("mountPath"), "must differ from stateStorage.syncContinuity.mountPath; two mounts cannot share a path"],
    [ek.enabled && sc.enabled && ek.mountPath !== "" && ek.mountPath === sc.mountPath, at("encryptionKeys", "mountPath"), "must differ from stateStorage.syncContinuity.mountPath; two mounts cannot share a path"],
    [ek.enabled && sc.enabled && ek.subPath === sc.subPath, at("encryptionKeys", "subPath"), "must differ from stateStorage.syncContinuity.subPath; each overlay needs its own directory on the state volume"],
    [ek.enabled && !ek.mountPath, at("encryptionKeys", "mountPath"), "is required with stateStorage.encryptionKeys.enabled=true; set it (default /app/agent_data/encryption_keys) or disable the overlay"],
    [ek.enabled && !ek.subPath, at("encryptionKeys", "subPath"), "is required with stateStorage.encryptionKeys.enabled=true; set it (default encryption_keys) or disable the overlay"],
    [sc.enabled && !sc.mountPath, at("syncContinuity", "mountPath"), "is required with stateStorage.syncContinuity.enabled=true; set it (default /app/agent_data/sync_continuity) or disable the overlay"],
    [sc.enabled && !sc.subPath, at("syncContinuity", "subPath"), "is required with stateStorage.syncContinuity.enabled=true; set it (default sync_continuity) or disable the overlay"],
  ];
  for (const [name, overlayValues] of [["encryptionKeys", ek], ["syncContinuity", sc]] as const) {
    const sub = overlayValues.subPath;
    const bad = overlayValues.enabled && sub !== "" && (!SAFE_SUBPATH.test(sub) || sub.split("/").includes(".."));
    problems.push([bad, at(name, "subPath"), `"${sub}" must be a relative path of letters, digits, '.', '_', '-' and '/' without '..' (the kubelet's subPath rule; it is also a root shell argument)`]);
  }
  if (s.initPermissions.enabled) {
    problems.push(
      [!/^[0-7]{3,4}$/.test(s.initPermissions.chmod), at("initPermissions", "chmod"), `"${s.initPermissions.chmod}" must be an octal mode such as "2775" (quote it in YAML)`],
      [s.initPermissions.image === "", at("initPermissions", "image"), "is required with stateStorage.initPermissions.enabled=true; set an image with sh, chown and chmod (default busybox:1.36)"],
    );
  }
  for (const [failed, path, message] of problems) {
    if (failed) {
      fail(path, message);
      return true;
    }
  }
  return false;
}
