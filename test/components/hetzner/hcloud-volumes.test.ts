import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { HcloudVolumes, type HcloudVolumesArgs } from "../../../components/hetzner";
import { containsSecret, kubeObjects } from "../../../infra/render/manifests";
import { recordProgram, type Registration } from "../../../infra/render/record";
import { validateKubeObjects } from "../../support/kube-schema";

const record = (args: Partial<HcloudVolumesArgs> = {}) =>
  recordProgram(() => new HcloudVolumes("hcloud", { token: pulumi.secret("hc-token"), networkId: pulumi.output("1001"), location: "fsn1", ...args }));
const releases = (regs: Registration[]) => regs.filter((r) => r.type === "kubernetes:helm.sh/v3:Release").map((r) => r.inputs as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

describe("HcloudVolumes (mock runtime)", () => {
  it("creates Secret kube-system/hcloud with the token (secret) and the network id as a string", async () => {
    const regs = await record();
    const secret = kubeObjects(regs, true).find((o) => o.kind === "Secret")!;
    expect(secret.metadata).to.deep.equal({ name: "hcloud", namespace: "kube-system" });
    expect(secret.stringData).to.deep.equal({ token: "hc-token", network: "1001" });
    const raw = regs.find((r) => r.type === "kubernetes:core/v1:Secret")!.inputs;
    expect(containsSecret(raw.stringData)).to.equal(true);
  });

  it("installs the CCM with private networking on the k3s pod CIDR, pinned", async () => {
    const ccm = releases(await record()).find((r) => r.chart === "hcloud-cloud-controller-manager")!;
    expect(ccm).to.include({ version: "1.35.0", namespace: "kube-system", name: "hcloud-cloud-controller-manager" });
    expect(ccm.repositoryOpts).to.deep.equal({ repo: "https://charts.hetzner.cloud" });
    expect(ccm.values.networking).to.deep.equal({ enabled: true, clusterCIDR: "10.42.0.0/16" });
    expect(ccm.values.env.HCLOUD_NETWORK_ROUTES_ENABLED).to.deep.equal({ value: "false" });
    expect(ccm.values.env.HCLOUD_LOAD_BALANCERS_ENABLED).to.deep.equal({ value: "false" });
  });

  it("installs the CSI driver pinned, reading the hcloud Secret, without the chart's StorageClass", async () => {
    const csi = releases(await record()).find((r) => r.chart === "hcloud-csi")!;
    expect(csi).to.include({ version: "2.22.1", namespace: "kube-system" });
    expect(csi.values.storageClasses).to.deep.equal([]);
    expect(csi.values.controller.hcloudToken.existingSecret).to.deep.equal({ name: "hcloud", key: "token" });
  });

  it("keeps the CSI driver off the metadata service the node guard closes to pods: host-network node plugin, location given", async () => {
    const csi = releases(await record({ location: "hel1" })).find((r) => r.chart === "hcloud-csi")!;
    expect(csi.values.node).to.deep.equal({ hostNetwork: true });
    expect(csi.values.controller.hcloudVolumeDefaultLocation).to.equal("hel1");
  });

  it("rejects a missing or malformed location before registering anything", async () => {
    for (const location of ["", "Falkenstein"]) {
      const regs = await recordProgram(() => {
        expect(() => new HcloudVolumes("hcloud", { token: "t", networkId: "1", location })).to.throw(/^location: .* use the nodes' location such as fsn1/);
      });
      expect(regs).to.have.length(0);
    }
  });

  it("makes hcloud-volumes the default class: WaitForFirstConsumer, expandable, reclaim Delete by default", async () => {
    const regs = await record();
    const sc = kubeObjects(regs).find((o) => o.kind === "StorageClass")!;
    expect(sc).to.deep.include({ provisioner: "csi.hetzner.cloud", volumeBindingMode: "WaitForFirstConsumer", allowVolumeExpansion: true, reclaimPolicy: "Delete" });
    expect(sc.metadata).to.deep.equal({ name: "hcloud-volumes", annotations: { "storageclass.kubernetes.io/is-default-class": "true" } });
    expect(sc.parameters).to.deep.equal({ "csi.storage.k8s.io/fstype": "ext4" });
    validateKubeObjects(kubeObjects(regs));
  });

  it("keeps tenant volumes with reclaimPolicy Retain", async () => {
    const sc = kubeObjects(await record({ reclaimPolicy: "Retain" })).find((o) => o.kind === "StorageClass")!;
    expect(sc.reclaimPolicy).to.equal("Retain");
  });

  it("rejects an unknown reclaim policy before registering anything", async () => {
    let error: Error | undefined;
    const regs = await recordProgram(() => {
      try {
        new HcloudVolumes("hcloud", { token: "t", networkId: "1", location: "fsn1", reclaimPolicy: "Recycle" as "Delete" });
      } catch (err) {
        error = err as Error;
      }
    });
    expect(error?.message).to.equal('reclaimPolicy: "Recycle" is not valid; use Delete or Retain');
    expect(regs).to.have.length(0);
  });

  it("parents everything to the component", async () => {
    const children = (await record()).filter((x) => x.custom);
    expect(children.map((r) => r.type).sort()).to.deep.equal([
      "kubernetes:core/v1:Secret",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:helm.sh/v3:Release",
      "kubernetes:storage.k8s.io/v1:StorageClass",
    ]);
    for (const r of children) expect(r.urn, r.name).to.contain("mindroom:hetzner:HcloudVolumes$");
  });
});
