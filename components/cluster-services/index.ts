/**
 * `ClusterServices`: ingress-nginx (namespace `ingress-nginx`), cert-manager with the
 * `letsencrypt-staging` / `letsencrypt-prod` ClusterIssuers, and an optional metrics-server.
 * Every chart version is pinned; the issuers wait for the cert-manager release, not a fixed pause.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { pinnedRelease, type PinnedChart } from "../../infra/helm-release";
import {
  CERT_MANAGER_CHART,
  CERT_MANAGER_NAMESPACE,
  certManagerValues,
  clusterIssuerSpec,
  INGRESS_NAMESPACE,
  INGRESS_NGINX_CHART,
  ingressNginxValues,
  ISSUERS,
  METRICS_SERVER_CHART,
  metricsServerValues,
  type IngressExposure,
} from "./specs";

export { INGRESS_NAMESPACE, INGRESS_NGINX_CHART, CERT_MANAGER_CHART, METRICS_SERVER_CHART, type IngressExposure } from "./specs";

export interface ClusterServicesArgs {
  /** How ingress reaches the nodes; `K3sCluster.ingressExposure` gives the right value. Default `hostPort`. */
  ingressExposure?: IngressExposure;
  /** ACME contact for both issuers (upstream hard-coded a maintainer's address). Required. */
  acmeEmail: string;
  /** Install metrics-server (needed by platform HPAs). Default true: k3s' bundled copy is disabled. */
  metricsServer?: boolean;
  /** Install cert-manager and the issuers. Default true; a local cluster may skip them. */
  certManager?: boolean;
  /**
   * Install the ingress-nginx chart. Default true: tenants and the platform are reached through it.
   * A local cluster that brings its own ingress controller, or a test API server that cannot
   * download charts, turns it off; the `ingress-nginx` namespace is still created.
   */
  ingressNginx?: boolean;
}

export class ClusterServices extends pulumi.ComponentResource {
  readonly ingressNamespace: pulumi.Output<string>;

  constructor(name: string, args: ClusterServicesArgs, opts?: pulumi.ComponentResourceOptions) {
    const exposure = args.ingressExposure ?? "hostPort";
    const certManager = args.certManager ?? true;
    if (exposure !== "hostPort" && exposure !== "loadBalancer") {
      throw new Error(`ingressExposure: "${String(exposure)}" is not valid; use hostPort or loadBalancer`);
    }
    if (certManager && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(args.acmeEmail ?? "")) {
      throw new Error(`acmeEmail: "${args.acmeEmail ?? ""}" is not an e-mail address; set the ACME contact (e.g. ops@example.com)`);
    }
    super("mindroom:cluster-services:ClusterServices", name, {}, opts);

    const namespace = (id: string, ns: string) => new k8s.core.v1.Namespace(id, { metadata: { name: ns } }, { parent: this });
    const release = (id: string, chart: PinnedChart, ns: pulumi.Input<string>, values: Record<string, unknown>) => pinnedRelease(id, chart, ns, values, { parent: this });

    const ingressNs = namespace(`${name}-ingress-nginx-ns`, INGRESS_NAMESPACE);
    if (args.ingressNginx ?? true) {
      release(`${name}-ingress-nginx`, INGRESS_NGINX_CHART, ingressNs.metadata.name, ingressNginxValues(exposure));
    }

    if (certManager) {
      const cmNs = namespace(`${name}-cert-manager-ns`, CERT_MANAGER_NAMESPACE);
      const cm = release(`${name}-cert-manager`, CERT_MANAGER_CHART, cmNs.metadata.name, certManagerValues());
      for (const issuer of Object.keys(ISSUERS) as (keyof typeof ISSUERS)[]) {
        new k8s.apiextensions.CustomResource(`${name}-${issuer}`, clusterIssuerSpec(issuer, args.acmeEmail), { parent: this, dependsOn: [cm] });
      }
    }
    if (args.metricsServer ?? true) {
      release(`${name}-metrics-server`, METRICS_SERVER_CHART, "kube-system", metricsServerValues());
    }
    this.ingressNamespace = ingressNs.metadata.name;
    this.registerOutputs({ ingressNamespace: this.ingressNamespace });
  }
}
