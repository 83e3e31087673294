import type { RuntimeValuesInput } from "./schema";

type V = RuntimeValuesInput;

/**
 * Arguments of {@link MindroomRuntime}: the runtime chart's values (every key optional, merged
 * over the chart defaults and validated when the component is constructed) plus the release identity.
 */
export interface MindroomRuntimeArgs {
  /** Release name R. Default: the component's resource name. Names every object (spec §1), so keep it stable. */
  releaseName?: string;
  /** Release namespace RNS. Default `mindroom`, as the chart README installs it; it must exist. */
  namespace?: string;
  /** Default `""` (chart name `mindroom-runtime`): replaces the chart name in names and labels. */
  nameOverride?: V["nameOverride"];
  /** Default `""`: replaces the computed fullname, e.g. to adopt objects installed under another name. */
  fullnameOverride?: V["fullnameOverride"];
  /** Default 1: the runtime keeps state on a RWO volume, so one replica with a Recreate rollout. */
  replicaCount?: V["replicaCount"];
  /** Default `ghcr.io/mindroom-ai/mindroom:latest`, pull `Always` (a moving tag must be re-pulled); pin a digest in production. */
  image?: V["image"];
  /** Default `[]`: public image. */
  imagePullSecrets?: V["imagePullSecrets"];
  /** Default `{}`. */
  deploymentAnnotations?: V["deploymentAnnotations"];
  /** Default `{}`; there is no config checksum annotation, so a config change alone does not restart the pod (upstream behaviour). */
  podAnnotations?: V["podAnnotations"];
  /** Default `{}`: extra pod labels, never part of the selector. */
  podLabels?: V["podLabels"];
  /** Default `{}` (the chart's three selector labels): set only to adopt a Deployment whose selector is immutable. */
  selectorLabels?: V["selectorLabels"];
  /** Default `""`. */
  priorityClassName?: V["priorityClassName"];
  /** Default `{}`. */
  nodeSelector?: V["nodeSelector"];
  /** Default `[]`. */
  tolerations?: V["tolerations"];
  /** Default `{}`. */
  affinity?: V["affinity"];
  /** Default `[]`. */
  topologySpreadConstraints?: V["topologySpreadConstraints"];
  /** Default create `{fullname}` with token automount on: the runtime calls the Kubernetes API in kubernetes worker mode. */
  serviceAccount?: V["serviceAccount"];
  /** Default fsGroup 1000 + OnRootMismatch, so the volume is writable by the image user without a full chown on every start. */
  podSecurityContext?: V["podSecurityContext"];
  /** Default no privilege escalation, drop ALL capabilities: the runtime needs none. */
  securityContext?: V["securityContext"];
  /** Default ClusterIP on 8765: ingress belongs to the operator's cluster. */
  service?: V["service"];
  /** Default off (one replica); when on, maxUnavailable 1 unless minAvailable is set. */
  podDisruptionBudget?: V["podDisruptionBudget"];
  /** Default off: the operator's cluster decides; when on, only the API port is admitted. */
  networkPolicy?: V["networkPolicy"];
  /** Default listen 0.0.0.0:8765, log level INFO. */
  runtime?: V["runtime"];
  /** Default a chart-created ConfigMap with a minimal config; `existingConfigMap` or `source: file` for an external one. */
  config?: V["config"];
  /** Default PostgreSQL created by the component (restart-safe event journal); `sqlite` for light installs. */
  eventCache?: V["eventCache"];
  /** Default a 10Gi RWO PVC `{fullname}-storage`; `existingClaim` to keep existing agent data. */
  storage?: V["storage"];
  /** Default none: `extra` EnvVars are appended after the chart's env, `envFrom` feeds the container. */
  env?: V["env"];
  /** Default unset: Matrix lives outside this component; registration or appservice token only by Secret reference. */
  matrix?: V["matrix"];
  /** Default requests 250m/512Mi, limit memory 2Gi and no CPU limit (CPU bursts at startup are fine). */
  resources?: V["resources"];
  /** Default startup/readiness on /api/ready and liveness on /api/health (spec §3.3). */
  probes?: V["probes"];
  /** Default `static_runner` (sidecar); `kubernetes` for dedicated worker pods. */
  workers?: V["workers"];
  /** Default `[]`. */
  initContainers?: V["initContainers"];
  /** Default `[]`. */
  extraContainers?: V["extraContainers"];
  /** Default `[]`. */
  extraVolumes?: V["extraVolumes"];
  /** Default `[]`. */
  extraVolumeMounts?: V["extraVolumeMounts"];
  /** Default off: the chart's Squid egress proxy `{fullname}-egress-proxy` for kubernetes workers (allowlist, per-worker grants, optional parent proxy); needs a pinned image tag or digest. */
  approvedEgress?: V["approvedEgress"];
  /** Default off: an existing proxy Service for kubernetes workers (proxy env, and egress only via DNS and the proxy). */
  egressProxy?: V["egressProxy"];
  /** Not a chart value: set means an error pointing at `workers.kubernetes.agentVault` (default off: Agent Vault, its server, bootstrap and access-grants Jobs). */
  agentVault?: V["agentVault"];
  /** Default off: a dedicated PVC `{fullname}-state` for Matrix encryption keys and sync state, overlaid by subPath. */
  stateStorage?: V["stateStorage"];
  /** Later feature (rejected when enabled). */
  scriptGateway?: V["scriptGateway"];
  /** Later feature (rejected when enabled). */
  sessionStorage?: V["sessionStorage"];
  /** Later feature (rejected when enabled). */
  knowledgeStorage?: V["knowledgeStorage"];
  /** Default `[]`: digest-pinned images whose files init containers copy into storage before MindRoom starts. */
  contentBundles?: V["contentBundles"];
  /** Default `[]`: model-provider API keys from existing Secrets, one env var per provider. */
  providerCredentials?: V["providerCredentials"];
}
