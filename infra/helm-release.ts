/**
 * Cluster add-ons (CCM, CSI, ingress-nginx, cert-manager, metrics-server) are installed as real Helm
 * releases (`helm.v3.Release`: hooks run and `helm list` shows them, pulumi.md §5.2) of charts pinned
 * in code, so an upstream chart release never changes a cluster during a plan.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";

/** A chart at a pinned version; `chart` is also the release name. */
export interface PinnedChart {
  chart: string;
  version: string;
  repo: string;
}

export function pinnedRelease(
  id: string,
  chart: PinnedChart,
  namespace: pulumi.Input<string>,
  values: Record<string, unknown>,
  opts: pulumi.CustomResourceOptions,
): k8s.helm.v3.Release {
  return new k8s.helm.v3.Release(
    id,
    { name: chart.chart, chart: chart.chart, version: chart.version, namespace, repositoryOpts: { repo: chart.repo }, values },
    opts,
  );
}
