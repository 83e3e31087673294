/** The two PVCs (spec §4): both request `storage`; the class is always emitted (`""` = no class). */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, SKIP_AWAIT, type InstanceNames } from "./names";

type Claim = k8s.types.input.core.v1.PersistentVolumeClaim;

function claim(name: string, app: "mindroom" | "synapse", accessMode: string, r: ResolvedInstance): Claim {
  return {
    metadata: { name, namespace: NAMESPACE, labels: appLabels(app, r), annotations: SKIP_AWAIT },
    spec: { accessModes: [accessMode], storageClassName: r.storageClassName, resources: { requests: { storage: r.storage } } },
  };
}

export const mindroomClaim = (r: ResolvedInstance, n: InstanceNames): Claim => claim(n.mindroomStorage, "mindroom", r.storageAccessMode, r);
export const synapseClaim = (r: ResolvedInstance, n: InstanceNames): Claim => claim(n.synapseStorage, "synapse", r.synapseStorageAccessMode, r);
