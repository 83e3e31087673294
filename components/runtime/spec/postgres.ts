/** Chart-managed event-journal PostgreSQL (spec §11a): auth Secret, headless Service, StatefulSet, NetworkPolicy. */
import type * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { cast, meta, nonEmpty } from "./util";

/** `postgresql://user:password@{pg}:port/database`, user and password URL-encoded, short Service name as host. */
export function databaseUrl(v: RuntimeValues, host: string, password: string): string {
  const pg = v.eventCache.postgres;
  return `postgresql://${encodeURIComponent(pg.auth.username)}:${encodeURIComponent(password)}@${host}:${pg.service.port}/${pg.auth.database}`;
}

export interface PostgresSpecs {
  secret?: k8s.core.v1.SecretArgs;
  service: k8s.core.v1.ServiceArgs;
  statefulSet: k8s.apps.v1.StatefulSetArgs;
  networkPolicy?: k8s.networking.v1.NetworkPolicyArgs;
}

/**
 * `password` is the operator's `auth.password` or one generated in-process, which the component
 * keeps stable through the Secret's state (`postgresSecretOptions`; upstream reuses the live
 * Secret's value, state is the Pulumi equivalent). Undefined when `auth.existingSecret`.
 */
export function postgresSpecs(v: RuntimeValues, n: RuntimeNames, password: pulumi.Input<string> | undefined): PostgresSpecs | undefined {
  const names = n.postgres;
  if (!names) return undefined;
  const pg = v.eventCache.postgres;
  const user = pg.auth.username;
  const database = pg.auth.database;

  let secret: k8s.core.v1.SecretArgs | undefined;
  if (names.createsSecret && password !== undefined) {
    const stringData = pulumi.output(password).apply((pw) => {
      const data: Record<string, string> = { [pg.auth.passwordKey]: pw };
      if (!v.eventCache.databaseUrl.existingSecret) data[v.eventCache.databaseUrl.key || v.eventCache.databaseUrlEnv] = databaseUrl(v, names.name, pw);
      return data;
    });
    secret = { metadata: meta(names.secretName, n.namespace, n.labels), type: "Opaque", stringData: pulumi.secret(stringData) };
  }

  const readiness = ["pg_isready", "-U", user, "-d", database];
  const volumeName = pg.persistence.volumeName;
  const claimLabels = { ...(pg.persistence.includeChartLabels ? n.labels : {}), ...pg.persistence.labels };
  const statefulSet = cast<k8s.apps.v1.StatefulSetArgs>({
    metadata: meta(names.name, n.namespace, n.labels),
    spec: {
      serviceName: names.name,
      replicas: 1,
      selector: { matchLabels: names.selectorLabels },
      template: {
        metadata: { labels: { ...names.selectorLabels, ...pg.podLabels }, annotations: nonEmpty(pg.podAnnotations) },
        spec: {
          securityContext: nonEmpty(pg.podSecurityContext),
          nodeSelector: nonEmpty(pg.nodeSelector),
          affinity: nonEmpty(pg.affinity),
          tolerations: nonEmpty(pg.tolerations),
          containers: [
            {
              name: "postgres",
              image: `${pg.image.repository}:${pg.image.tag}`,
              imagePullPolicy: pg.image.pullPolicy,
              ports: [{ name: "postgres", containerPort: pg.service.port, protocol: "TCP" }],
              env: [
                { name: "POSTGRES_DB", value: database },
                { name: "POSTGRES_USER", value: user },
                { name: "POSTGRES_PASSWORD", valueFrom: { secretKeyRef: names.passwordSecret } },
                { name: "PGDATA", value: "/var/lib/postgresql/data/pgdata" },
              ],
              readinessProbe: { exec: { command: readiness }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
              livenessProbe: { exec: { command: readiness }, periodSeconds: 30, timeoutSeconds: 5, failureThreshold: 6 },
              resources: pg.resources,
              securityContext: nonEmpty(pg.securityContext),
              volumeMounts: [{ name: volumeName, mountPath: "/var/lib/postgresql/data" }],
            },
          ],
          volumes: pg.persistence.enabled ? undefined : [{ name: volumeName, emptyDir: {} }],
        },
      },
      volumeClaimTemplates: pg.persistence.enabled
        ? [
            {
              metadata: { name: volumeName, labels: nonEmpty(claimLabels) },
              spec: {
                accessModes: pg.persistence.accessModes,
                storageClassName: pg.persistence.storageClassName || undefined,
                resources: { requests: { storage: pg.persistence.size } },
              },
            },
          ]
        : undefined,
    },
  });

  const service: k8s.core.v1.ServiceArgs = {
    metadata: meta(names.name, n.namespace, n.labels, pg.service.annotations),
    spec: {
      type: "ClusterIP",
      clusterIP: "None",
      ports: [{ name: "postgres", port: pg.service.port, targetPort: "postgres", protocol: "TCP" }],
      selector: names.selectorLabels,
    },
  };

  const networkPolicy: k8s.networking.v1.NetworkPolicyArgs | undefined = pg.networkPolicy.create
    ? {
        metadata: meta(pg.networkPolicy.name || names.name, n.namespace, n.labels),
        spec: {
          podSelector: { matchLabels: names.selectorLabels },
          policyTypes: ["Ingress"],
          ingress: [{ from: [{ podSelector: { matchLabels: n.selectorLabels } }], ports: [{ protocol: "TCP", port: pg.service.port }] }],
        },
      }
    : undefined;

  return { secret, service, statefulSet, networkPolicy };
}
