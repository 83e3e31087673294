/** Deployment `{fullname}` (spec §3, §7.1). */
import type * as k8s from "@pulumi/kubernetes";
import type { RuntimeNames } from "../names";
import type { RuntimeValues } from "../schema";
import { contentBundleInitContainers } from "./content-bundles";
import { APPSERVICE_TOKEN_DIR, runtimeEnv, sandboxRunnerEnv } from "./env";
import { stateInitContainer, stateMounts, stateVolumes } from "./state-storage";
import { cast, meta, nonEmpty } from "./util";
// approvedEgress, agentVault (issue 11)
import { agentVaultRuntimeMounts, agentVaultRuntimeVolumes } from "./agent-vault";
import { approvedEgressRuntimeMounts, approvedEgressRuntimeVolumes } from "./approved-egress";

type Probe = RuntimeValues["probes"]["startup"];

/** A probe: disabled, replaced wholesale by `custom`, or the chart's httpGet probe. */
function probe(p: Probe): Record<string, unknown> | undefined {
  if (!p.enabled) return undefined;
  if (Object.keys(p.custom).length > 0) return p.custom;
  return {
    httpGet: { path: p.path, port: p.port },
    periodSeconds: p.periodSeconds,
    timeoutSeconds: p.timeoutSeconds,
    failureThreshold: p.failureThreshold,
  };
}

export interface DeploymentSpec {
  args: k8s.apps.v1.DeploymentArgs;
  /** Worker extra env names left out of `MINDROOM_KUBERNETES_WORKER_ENV_JSON`, with the reason. */
  droppedExtraEnv: { name: string; reason: string }[];
}

export function deploymentSpec(v: RuntimeValues, n: RuntimeNames): DeploymentSpec {
  const { env, droppedExtraEnv } = runtimeEnv(v, n);
  const stateInit = stateInitContainer(v, n);
  const storageVolume = n.storageVolumeName;
  const configMount = n.usesConfigMap ? [{ name: "config", mountPath: v.config.mountPath, subPath: v.config.key, readOnly: true }] : [];

  const mindroom = {
    name: "mindroom",
    image: n.image,
    imagePullPolicy: v.image.pullPolicy,
    command: ["tini", "--", "/app/.venv/bin/mindroom", "run", "--api-host", v.runtime.apiHost, "--api-port", String(v.runtime.apiPort)],
    ports: [{ name: "api", containerPort: v.runtime.apiPort, protocol: "TCP" }],
    env,
    envFrom: nonEmpty(v.env.envFrom),
    resources: v.resources,
    securityContext: v.securityContext,
    startupProbe: probe(v.probes.startup),
    readinessProbe: probe(v.probes.readiness),
    livenessProbe: probe(v.probes.liveness),
    // Upstream order: config, agent data, appservice token, state storage, approved-egress allowlist, Agent Vault admin token, then the operator's.
    volumeMounts: [
      ...configMount,
      { name: storageVolume, mountPath: v.storage.mountPath },
      ...(n.appserviceToken ? [{ name: "matrix-appservice-token", mountPath: APPSERVICE_TOKEN_DIR, readOnly: true }] : []),
      ...stateMounts(v, n),
      ...approvedEgressRuntimeMounts(v), // approvedEgress
      ...agentVaultRuntimeMounts(v), // agentVault
      ...v.extraVolumeMounts,
    ],
  };

  const containers: Record<string, unknown>[] = [mindroom];
  if (n.staticRunner) {
    containers.push({
      name: "sandbox-runner",
      image: n.image,
      imagePullPolicy: v.image.pullPolicy,
      command: ["tini", "--", "/app/run-sandbox-runner.sh"],
      ports: [{ name: "sandbox", containerPort: v.workers.staticRunner.port, protocol: "TCP" }],
      env: sandboxRunnerEnv(v, n),
      resources: v.workers.staticRunner.resources,
      securityContext: v.securityContext,
      volumeMounts: [
        ...configMount,
        { name: storageVolume, mountPath: v.storage.mountPath },
        { name: "sandbox-workspace", mountPath: "/app/workspace" },
      ],
    });
  }
  containers.push(...v.extraContainers);

  const volumes: Record<string, unknown>[] = [];
  if (n.usesConfigMap) volumes.push({ name: "config", configMap: { name: n.configMapName } });
  volumes.push({ name: storageVolume, persistentVolumeClaim: { claimName: n.storageClaimName } });
  if (n.appserviceToken) {
    // Only the token key, under its own name: the directory holds nothing else.
    volumes.push({ name: "matrix-appservice-token", secret: { secretName: n.appserviceToken.name, items: [{ key: n.appserviceToken.key, path: n.appserviceToken.key }] } });
  }
  volumes.push(...stateVolumes(n));
  volumes.push(...approvedEgressRuntimeVolumes(v, n)); // approvedEgress
  if (n.staticRunner) volumes.push({ name: "sandbox-workspace", emptyDir: {} });
  volumes.push(...agentVaultRuntimeVolumes(v)); // agentVault
  volumes.push(...v.extraVolumes);

  const args = {
    metadata: meta(n.fullname, n.namespace, n.labels, v.deploymentAnnotations),
    spec: {
      replicas: v.replicaCount,
      // One RWO volume: the old pod must stop before the new one mounts it.
      strategy: { type: "Recreate" },
      selector: { matchLabels: n.selectorLabels },
      template: {
        metadata: { labels: { ...n.selectorLabels, ...v.podLabels }, annotations: nonEmpty(v.podAnnotations) },
        spec: {
          serviceAccountName: n.serviceAccountName,
          imagePullSecrets: nonEmpty(v.imagePullSecrets),
          priorityClassName: v.priorityClassName || undefined,
          securityContext: v.podSecurityContext,
          nodeSelector: nonEmpty(v.nodeSelector),
          affinity: nonEmpty(v.affinity),
          tolerations: nonEmpty(v.tolerations),
          topologySpreadConstraints: nonEmpty(v.topologySpreadConstraints),
          // Upstream order: the state ownership fix, the operator's, then the content bundles.
          initContainers: nonEmpty([...(stateInit ? [stateInit] : []), ...v.initContainers, ...contentBundleInitContainers(v, n)]),
          containers,
          volumes,
        },
      },
    },
  };
  return { args: cast<k8s.apps.v1.DeploymentArgs>(args), droppedExtraEnv };
}
