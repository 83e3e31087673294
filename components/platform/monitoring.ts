/**
 * ServiceMonitor and PrometheusRule (platform.md §8). Both are prometheus-operator CRDs, so they
 * exist only with `monitoring.enabled` (Deviation 5: off by default; installs fail without the CRDs).
 */
import type { PlatformArgs } from "./args";
import { BACKEND_NAME, PROVISIONER_NAME, SECURITY_RULE_NAME, platformNamespace } from "./names";
import { appLabels } from "./workloads";

/** A custom object as `k8s.apiextensions.CustomResource` takes it. */
export interface CustomObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  spec: Record<string, unknown>;
}

const monitoringLabels = (app: string, args: PlatformArgs) => ({ app, release: args.monitoring.releaseLabel });

/** Scrapes `GET /metrics` on the Service port named `http` of `app` (the backend, or the provisioner). */
export function serviceMonitor(args: PlatformArgs, app: string = BACKEND_NAME): CustomObject {
  const ns = platformNamespace(args.environment);
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "ServiceMonitor",
    metadata: { name: app, namespace: ns, labels: monitoringLabels(app, args) },
    spec: {
      namespaceSelector: { matchNames: [ns] },
      selector: { matchLabels: appLabels(app, args.environment) },
      endpoints: [
        { port: "http", path: "/metrics", scheme: "http", interval: args.monitoring.scrapeInterval, scrapeTimeout: args.monitoring.scrapeTimeout },
      ],
    },
  };
}

export const provisionerServiceMonitor = (args: PlatformArgs): CustomObject => serviceMonitor(args, PROVISIONER_NAME);

export function securityAlerts(args: PlatformArgs): CustomObject {
  const a = args.monitoring.alerts;
  return {
    apiVersion: "monitoring.coreos.com/v1",
    kind: "PrometheusRule",
    metadata: { name: SECURITY_RULE_NAME, namespace: platformNamespace(args.environment), labels: monitoringLabels(BACKEND_NAME, args) },
    spec: {
      groups: [
        {
          name: "mindroom-security",
          rules: [
            {
              alert: "MindroomAuthBlockedIP",
              expr: `mindroom_blocked_ips > ${a.blockedIpThreshold}`,
              for: a.blockedIpFor,
              labels: { severity: "critical" },
              annotations: {
                summary: "MindRoom auth guard blocked an IP address",
                description: `At least one IP has been blocked by the auth guard for over ${a.blockedIpFor}.`,
              },
            },
            {
              alert: "MindroomAdminUnauthorizedSpike",
              expr: `increase(mindroom_admin_verifications_total{outcome="unauthorized"}[${a.adminUnauthorizedWindow}]) > ${a.adminUnauthorizedThreshold}`,
              for: a.adminUnauthorizedFor,
              labels: { severity: "high" },
              annotations: {
                summary: "Spike in unauthorized admin verification attempts",
                description: `More than ${a.adminUnauthorizedThreshold} unauthorized admin attempts observed within ${a.adminUnauthorizedWindow}.`,
              },
            },
            {
              alert: "MindroomBlockedRequestFlood",
              expr: `increase(mindroom_auth_events_total{actor="user", outcome="blocked_request"}[${a.blockedRequestWindow}]) > ${a.blockedRequestThreshold}`,
              for: a.blockedRequestFor,
              labels: { severity: "high" },
              annotations: {
                summary: "Spike in blocked user requests",
                description: `More than ${a.blockedRequestThreshold} blocked user requests observed in ${a.blockedRequestWindow}.`,
              },
            },
          ],
        },
      ],
    },
  };
}
