/** Pure specs for `HcloudVolumes`: chart pins, chart values and the StorageClass (cluster.md §10). */
import type { PinnedChart } from "../../infra/helm-release";
import { CLUSTER_CIDR } from "../cluster/network";

export const HCLOUD_CHARTS_REPO = "https://charts.hetzner.cloud";
/** Pinned (upstream floated both to whatever GitHub had newest during a plan). */
export const CCM_CHART: PinnedChart = { chart: "hcloud-cloud-controller-manager", version: "1.35.0", repo: HCLOUD_CHARTS_REPO };
export const CSI_CHART: PinnedChart = { chart: "hcloud-csi", version: "2.22.1", repo: HCLOUD_CHARTS_REPO };
export const STORAGE_CLASS_NAME = "hcloud-volumes";
export const HCLOUD_SECRET_NAME = "hcloud";

export type ReclaimPolicy = "Delete" | "Retain";

/**
 * CCM values: private-network mode with k3s' pod CIDR (the chart's 10.244.0.0/16 default does not
 * fit k3s). Routes stay off because flannel vxlan carries pod traffic; the load-balancer controller
 * stays off because the cluster stack owns its one Hetzner LB directly.
 */
export function ccmValues(): Record<string, unknown> {
  return {
    networking: { enabled: true, clusterCIDR: CLUSTER_CIDR },
    env: {
      HCLOUD_NETWORK_ROUTES_ENABLED: { value: "false" },
      HCLOUD_LOAD_BALANCERS_ENABLED: { value: "false" },
    },
  };
}

/**
 * CSI values: no chart StorageClass (this component owns `hcloud-volumes`, so its reclaim policy
 * is a stack setting); the token comes from the shared `hcloud` Secret.
 *
 * Both CSI parts would otherwise ask the metadata service (169.254.169.254), which every node's
 * metadata guard closes to the pod network because it serves the k3s tokens and CA keys
 * (docs/cluster.md): the node plugin runs on the host network (it needs its server id from there)
 * and the controller gets the volume location from us instead of looking it up.
 */
export function csiValues(location: string): Record<string, unknown> {
  return {
    storageClasses: [],
    controller: {
      hcloudToken: { existingSecret: { name: HCLOUD_SECRET_NAME, key: "token" } },
      hcloudVolumeDefaultLocation: location,
    },
    node: { hostNetwork: true },
  };
}

export function storageClassSpec(reclaimPolicy: ReclaimPolicy) {
  return {
    metadata: {
      name: STORAGE_CLASS_NAME,
      annotations: { "storageclass.kubernetes.io/is-default-class": "true" },
    },
    provisioner: "csi.hetzner.cloud",
    // A volume is created in the location of the node that first runs its pod.
    volumeBindingMode: "WaitForFirstConsumer",
    allowVolumeExpansion: true,
    reclaimPolicy,
    parameters: { "csi.storage.k8s.io/fstype": "ext4" },
  };
}
