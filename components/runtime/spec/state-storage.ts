/** `stateStorage` objects (upstream pvc.yaml, deployment.ts): the state PVC, its root init container, mounts and volume. */
import type * as k8s from "@pulumi/kubernetes";
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { meta, nonEmpty } from "./util";

/** PVC `{fullname}-state`: stateStorage enabled and created, no `existingClaim`. */
export function stateClaimSpec(v: RuntimeValues, n: RuntimeNames): k8s.core.v1.PersistentVolumeClaimArgs | undefined {
  const s = v.stateStorage;
  if (!n.stateStorage?.createsClaim) return undefined;
  return {
    metadata: meta(n.stateStorage.claimName, n.namespace, n.labels),
    spec: {
      accessModes: s.accessModes,
      storageClassName: s.storageClassName || undefined,
      resources: { requests: { storage: s.size } },
    },
  };
}

/** `/state` plus the overlay directories, as the init container's shell arguments. */
function stateDirs(v: RuntimeValues): string {
  const s = v.stateStorage;
  const dirs = ['"/state"'];
  if (s.encryptionKeys.enabled) dirs.push(`"/state/${s.encryptionKeys.subPath}"`);
  if (s.syncContinuity.enabled) dirs.push(`"/state/${s.syncContinuity.subPath}"`);
  return dirs.join(" ");
}

/**
 * Init container `prepare-state-storage`, first of all init containers: a fresh (or Helm-era) state
 * volume is owned by root, so it creates the overlay directories and hands them to the runtime user.
 */
export function stateInitContainer(v: RuntimeValues, n: RuntimeNames): Record<string, unknown> | undefined {
  const s = v.stateStorage;
  if (!n.stateStorage || !s.initPermissions.enabled) return undefined;
  const p = s.initPermissions;
  const dirs = stateDirs(v);
  return {
    name: "prepare-state-storage",
    image: p.image,
    imagePullPolicy: p.imagePullPolicy,
    securityContext: nonEmpty(p.securityContext),
    command: ["sh", "-c", `set -eu\nmkdir -p ${dirs}\nchown -R ${p.runAsUser}:${p.fsGroup} ${dirs}\nchmod ${p.chmod} ${dirs}\n`],
    volumeMounts: [{ name: n.stateStorage.volumeName, mountPath: "/state" }],
  };
}

/** Mounts of container `mindroom`: the state root and the subPath overlays inside agent data. */
export function stateMounts(v: RuntimeValues, n: RuntimeNames): Record<string, unknown>[] {
  const s = v.stateStorage;
  if (!n.stateStorage) return [];
  const name = n.stateStorage.volumeName;
  const mounts: Record<string, unknown>[] = [];
  if (s.mountPath) mounts.push({ name, mountPath: s.mountPath });
  if (s.encryptionKeys.enabled) mounts.push({ name, mountPath: s.encryptionKeys.mountPath, subPath: s.encryptionKeys.subPath });
  if (s.syncContinuity.enabled) mounts.push({ name, mountPath: s.syncContinuity.mountPath, subPath: s.syncContinuity.subPath });
  return mounts;
}

/** Pod volume for the state claim. */
export function stateVolumes(n: RuntimeNames): Record<string, unknown>[] {
  return n.stateStorage ? [{ name: n.stateStorage.volumeName, persistentVolumeClaim: { claimName: n.stateStorage.claimName } }] : [];
}
