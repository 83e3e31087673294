/**
 * The root program (project `mindroom`): cluster → Namespace `mindroom-instances` → cluster
 * services → platform. A function, so tests can run it under mocks with any config.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { awaitOptions } from "../../infra/skip-await";
import { K3sCluster, type IngressExposure } from "../../components/cluster";
import { ClusterServices } from "../../components/cluster-services";
import { HcloudVolumes } from "../../components/hetzner";
import { Platform, parsePlatformValues } from "../../components/platform";
import { capacityModel } from "../../infra/capacity/model";
import { podSecurityLabels } from "../../infra/pod-security";
import { TENANT_NAMESPACE } from "../../infra/tenant-names";
import { ValuesError } from "../../infra/values/errors";
import type { StackConfig } from "../config";
import { placeholderProblems } from "./placeholders";

export const INSTANCES_NAMESPACE = TENANT_NAMESPACE;

export interface MainSecrets {
  /** `hcloud:token`; required in hetzner mode (the CCM and CSI use it inside the cluster). */
  hcloudToken?: pulumi.Output<string>;
  /** Platform secrets by values path (`supabase.serviceKey` → Output), from `PLATFORM_SECRET_KEYS`. */
  platform: { path: string[]; value: pulumi.Output<string> }[];
}

function withSecrets(values: Record<string, unknown>, secrets: MainSecrets["platform"]): Record<string, unknown> {
  const out = structuredClone(values);
  for (const { path, value } of secrets) {
    let node = out;
    for (const part of path.slice(0, -1)) {
      node[part] = typeof node[part] === "object" && node[part] !== null ? node[part] : {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1]] = value;
  }
  return out;
}

/**
 * Builds the stack. Placeholders left in the stack file are warnings in a preview and an error
 * (before any resource) in an update.
 */
export function mainProgram(config: StackConfig, secrets: MainSecrets): Record<string, unknown> {
  const placeholders = placeholderProblems(config);
  if (placeholders.length > 0) {
    if (!pulumi.runtime.isDryRun()) throw new ValuesError(placeholders.join("\n"));
    placeholders.forEach((p) => pulumi.log.warn(`${p} (pulumi up will refuse until then)`));
  }
  const outputs: Record<string, unknown> = { mode: config.mode };
  let provider: k8s.Provider;
  let storage: pulumi.Resource[] = [];
  let ingressExposure: IngressExposure = "hostPort";

  if (config.mode === "hetzner") {
    if (!config.cluster) throw new Error("mindroom:cluster: required in hetzner mode");
    if (!secrets.hcloudToken) throw new Error("hcloud:token: not set; run `pulumi config set --secret hcloud:token <read/write API token>`");
    const cluster = new K3sCluster("cluster", config.cluster);
    ingressExposure = cluster.ingressExposure;
    provider = new k8s.Provider("k8s", { kubeconfig: cluster.kubeconfig, enableServerSideApply: true });
    const volumes = new HcloudVolumes("hcloud", { token: secrets.hcloudToken, networkId: cluster.networkId, location: cluster.config.location, reclaimPolicy: config.storage.reclaimPolicy }, { providers: [provider] });
    storage = [volumes];
    const nodes = [{ type: cluster.config.controlPlane.serverType, count: 1 }, ...cluster.config.agentPools.map((p) => ({ type: p.serverType, count: p.count }))];
    Object.assign(outputs, {
      kubeconfig: cluster.kubeconfig,
      controlPlaneIpv4: cluster.controlPlaneIpv4,
      ingressIpv4: cluster.ingressIpv4,
      adminCertNotAfter: cluster.adminCertNotAfter,
      storageClassName: volumes.storageClassName,
      capacity: capacityModel({ nodes, mix: config.capacityMix, loadBalancer: config.cluster.loadBalancer.enabled }),
    });
  } else {
    // A developer cluster: its own kubeconfig, nothing on Hetzner, kind/k3d storage classes.
    // Secret whether path or contents: contents are credentials, and the provider does not mark its input secret itself.
    const kubeconfig = config.local.kubeconfig === undefined ? undefined : pulumi.secret(config.local.kubeconfig);
    provider = new k8s.Provider("k8s", { kubeconfig, context: config.local.context, enableServerSideApply: true });
    // No kubeconfig output here: the developer already has it, and an undefined output makes the
    // engine warn on every run.
  }

  // Tenant pods: Pod Security baseline enforced, restricted warned and audited (docs/instance.md).
  // Deleting it deletes every tenant, whose stacks live elsewhere: a `pulumi destroy`, a renamed
  // logical name or a replace must fail (protect), and an unprotected delete leaves it in the
  // cluster (retainOnDelete). Deleting it on purpose: docs/cluster.md, "Deleting mindroom-instances".
  const instances = new k8s.core.v1.Namespace(
    "mindroom-instances",
    { metadata: { name: INSTANCES_NAMESPACE, labels: podSecurityLabels() } },
    { provider, dependsOn: storage, protect: true, retainOnDelete: true },
  );
  const services = new ClusterServices(
    "cluster-services",
    {
      ingressExposure,
      acmeEmail: config.clusterServices.acmeEmail,
      metricsServer: config.clusterServices.metricsServer.enabled,
      certManager: config.clusterServices.certManager.enabled,
      ingressNginx: config.clusterServices.ingressNginx.enabled,
    },
    { providers: [provider], dependsOn: [instances, ...storage] },
  );
  outputs.instancesNamespace = instances.metadata.name;
  outputs.ingressNamespace = services.ingressNamespace;

  if (config.deployPlatform) {
    const values = withSecrets(config.platform, secrets.platform);
    const platformArgs = parsePlatformValues(values);
    new Platform("platform", platformArgs, { providers: [provider], dependsOn: [instances, services], ...awaitOptions(config.providerAwait) });
    // The parsed domain: the chart default lives in PLATFORM_DEFAULTS alone, not again here.
    const domain = platformArgs.domain;
    outputs.platformUrls = { app: `https://app.${domain}`, api: `https://api.${domain}`, webhooks: `https://webhooks.${domain}` };
  }
  return outputs;
}
