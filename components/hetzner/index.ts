/**
 * `HcloudVolumes`: the Hetzner cloud controller manager, the CSI driver and the default
 * StorageClass `hcloud-volumes`, in the order the cluster needs them: Secret → CCM (clears the
 * nodes' uninitialized taint) → CSI → StorageClass.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedRelease, type PinnedChart } from "../../infra/helm-release";
import { CCM_CHART, ccmValues, CSI_CHART, csiValues, HCLOUD_SECRET_NAME, storageClassSpec, type ReclaimPolicy } from "./specs";

export { STORAGE_CLASS_NAME, CCM_CHART, CSI_CHART, type ReclaimPolicy } from "./specs";

export interface HcloudVolumesArgs {
  /** Read/write Hetzner API token (a secret); both the CCM and the CSI controller use it. */
  token: pulumi.Input<string>;
  /** The private network's id (Pulumi gives it as a string; the Secret stores it as one). */
  networkId: pulumi.Input<string>;
  /**
   * Hetzner location of the nodes (e.g. `fsn1`); no default. The CSI controller creates volumes
   * there: it cannot look the location up itself because the metadata service is closed to pods.
   */
  location: string;
  /**
   * Reclaim policy of `hcloud-volumes`. Default `Delete`, the chart's. Production sets `Retain`:
   * a deleted claim then leaves the tenant's Hetzner volume (and data) behind for recovery.
   */
  reclaimPolicy?: ReclaimPolicy;
  /** Chart versions; defaults are the pins above, override only to upgrade deliberately. */
  ccmChartVersion?: string;
  csiChartVersion?: string;
}

export class HcloudVolumes extends pulumi.ComponentResource {
  readonly storageClassName: pulumi.Output<string>;

  constructor(name: string, args: HcloudVolumesArgs, opts?: pulumi.ComponentResourceOptions) {
    const reclaimPolicy = args.reclaimPolicy ?? "Delete";
    if (reclaimPolicy !== "Delete" && reclaimPolicy !== "Retain") {
      throw new Error(`reclaimPolicy: "${String(reclaimPolicy)}" is not valid; use Delete or Retain`);
    }
    if (!/^[a-z]+[0-9]+$/.test(args.location ?? "")) {
      throw new Error(`location: "${String(args.location)}" is not a Hetzner location; use the nodes' location such as fsn1, nbg1 or hel1`);
    }
    super("mindroom:hetzner:HcloudVolumes", name, {}, opts);

    const secret = new k8s.core.v1.Secret(
      `${name}-hcloud`,
      {
        metadata: { name: HCLOUD_SECRET_NAME, namespace: "kube-system" },
        type: "Opaque",
        stringData: { token: pulumi.secret(args.token), network: pulumi.output(args.networkId).apply(String) },
      },
      { parent: this },
    );
    const release = (id: string, chart: PinnedChart, version: string | undefined, values: Record<string, unknown>, dependsOn: pulumi.Resource[]) =>
      pinnedRelease(id, { ...chart, version: version ?? chart.version }, "kube-system", values, { parent: this, dependsOn });
    const ccm = release(`${name}-ccm`, CCM_CHART, args.ccmChartVersion, ccmValues(), [secret]);
    // The CSI controller stays Pending until the CCM has initialised the nodes.
    const csi = release(`${name}-csi`, CSI_CHART, args.csiChartVersion, csiValues(args.location), [ccm]);
    const storageClass = new k8s.storage.v1.StorageClass(`${name}-storage-class`, storageClassSpec(reclaimPolicy), { parent: this, dependsOn: [csi] });

    this.storageClassName = storageClass.metadata.name;
    this.registerOutputs({ storageClassName: this.storageClassName });
  }
}
