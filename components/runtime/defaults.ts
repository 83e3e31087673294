import type { z } from "zod";
import type { runtimeValuesSchema } from "./schema";
// approvedEgress, agentVault (issue 11): their chart defaults live beside their schemas.
import { APPROVED_EGRESS_DEFAULTS } from "./schema-approved-egress";
import { AGENT_VAULT_DEFAULTS } from "./schema-agent-vault";

const profile = (cpuRequest: string, memoryRequest: string, cpuLimit: string, memoryLimit: string) => ({
  requests: { cpu: cpuRequest, memory: memoryRequest },
  limits: { cpu: cpuLimit, memory: memoryLimit },
});

/**
 * The chart's `values.yaml` (core surface) at upstream `9f69327b`. Operator values merge over it
 * the way `helm install -f` merges a values file over the chart's defaults.
 */
export const RUNTIME_DEFAULTS = {
  nameOverride: "",
  fullnameOverride: "",
  replicaCount: 1,
  image: { repository: "ghcr.io/mindroom-ai/mindroom", tag: "latest", digest: "", pullPolicy: "Always" },
  imagePullSecrets: [],
  deploymentAnnotations: {},
  podAnnotations: {},
  podLabels: {},
  // Empty means the chart's own selector; set only to adopt a Deployment whose selector is immutable.
  selectorLabels: {},
  priorityClassName: "",
  nodeSelector: {},
  tolerations: [],
  affinity: {},
  topologySpreadConstraints: [],
  // The runtime needs an API token in kubernetes worker mode, hence automount true.
  serviceAccount: { create: true, name: "", annotations: {}, automountServiceAccountToken: true },
  // Deviation (docs/runtime.md, Pod Security): upstream has only fsGroup + OnRootMismatch. The image
  // runs as uid 1000 (USER 1000:1000), so runAsNonRoot and RuntimeDefault seccomp cost nothing and
  // make the pod meet Pod Security `restricted`; `null` clears either, as in Helm.
  podSecurityContext: { fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch", runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } },
  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
  service: { type: "ClusterIP", port: 8765, annotations: {} },
  podDisruptionBudget: { create: false, maxUnavailable: 1, minAvailable: "" },
  networkPolicy: { create: false, name: "", apiIngressFrom: [], extraIngress: [], extraEgress: [] },
  runtime: { apiHost: "0.0.0.0", apiPort: 8765, logLevel: "INFO", timezone: "", timing: false },
  config: { source: "configMap", path: "", create: true, existingConfigMap: "", key: "config.yaml", mountPath: "/app/config.yaml", data: "" },
  eventCache: {
    // PostgreSQL by default: the Matrix event journal must survive restarts.
    backend: "postgres",
    databaseUrlEnv: "MINDROOM_EVENT_CACHE_DATABASE_URL",
    databaseUrl: { existingSecret: "", key: "" },
    postgres: {
      create: true,
      nameOverride: "",
      selectorLabels: {},
      image: { repository: "postgres", tag: "17", pullPolicy: "IfNotPresent" },
      service: { port: 5432, annotations: {} },
      auth: { database: "mindroom_cache", username: "mindroom_cache", existingSecret: "", password: "", passwordKey: "password" },
      persistence: {
        enabled: true,
        volumeName: "data",
        includeChartLabels: true,
        labels: {},
        accessModes: ["ReadWriteOnce"],
        storageClassName: "",
        size: "20Gi",
      },
      resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "1Gi" } },
      podAnnotations: {},
      podLabels: {},
      // Deviation (docs/runtime.md, Pod Security): upstream leaves both empty. postgres:17 starts as
      // root (it fixes PGDATA ownership, then gosu drops to uid 999), so it cannot run non-root or
      // without capabilities; it gets what that start tolerates. `null` clears either.
      podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
      securityContext: { allowPrivilegeEscalation: false },
      nodeSelector: {},
      tolerations: [],
      affinity: {},
      networkPolicy: { create: true, name: "" },
    },
  },
  storage: {
    create: true,
    existingClaim: "",
    volumeName: "storage",
    accessModes: ["ReadWriteOnce"],
    storageClassName: "",
    size: "10Gi",
    mountPath: "/app/agent_data",
  },
  // Off by default; when on, Matrix encryption keys and sync state survive a lost agent-data volume.
  stateStorage: {
    enabled: false,
    create: false,
    existingClaim: "",
    volumeName: "state-storage",
    accessModes: ["ReadWriteOnce"],
    storageClassName: "",
    size: "10Gi",
    mountPath: "/app/mindroom_state",
    encryptionKeys: { enabled: true, mountPath: "/app/agent_data/encryption_keys", subPath: "encryption_keys" },
    syncContinuity: { enabled: true, mountPath: "/app/agent_data/sync_continuity", subPath: "sync_continuity" },
    initPermissions: {
      enabled: true,
      image: "busybox:1.36",
      imagePullPolicy: "IfNotPresent",
      // chown/chmod of a fresh volume need root; the runtime container itself stays uid 1000.
      securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false },
      runAsUser: 1000,
      fsGroup: 1000,
      chmod: "2775",
    },
  },
  // Entries pin their image by digest; default target <storage.mountPath>/content-bundles/<name>.
  contentBundles: [],
  // Provider API keys from existing Secrets (anthropic, azure, openai, google, openrouter, deepseek, cerebras, groq, zai, ollama).
  providerCredentials: [],
  env: { extra: [], envFrom: [] },
  matrix: {
    homeserverUrl: "",
    serverName: "",
    startupTimeoutSeconds: "",
    managedAccountAuth: "password",
    registrationToken: { existingSecret: "", key: "MATRIX_REGISTRATION_TOKEN" },
    appserviceToken: { existingSecret: "", key: "MATRIX_APPSERVICE_TOKEN" },
  },
  resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } },
  probes: {
    startup: { enabled: true, custom: {}, path: "/api/ready", port: "api", periodSeconds: 5, timeoutSeconds: 10, failureThreshold: 120 },
    readiness: { enabled: true, custom: {}, path: "/api/ready", port: "api", periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 },
    liveness: { enabled: true, custom: {}, path: "/api/health", port: "api", periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 },
  },
  workers: {
    backend: "static_runner",
    cleanupIntervalSeconds: 30,
    sandbox: {
      executionMode: "selective",
      proxyTools: "shell,file,python",
      // Prefer existingSecret in production; value makes the component create a Secret.
      proxyToken: { existingSecret: "", key: "MINDROOM_SANDBOX_PROXY_TOKEN", value: "" },
      credentialsEncryptionKey: { existingSecret: "", key: "MINDROOM_CREDENTIALS_ENCRYPTION_KEY" },
    },
    staticRunner: { port: 8766, resources: profile("100m", "256Mi", "500m", "1Gi") },
    kubernetes: {
      namespace: "",
      image: { repository: "", tag: "", digest: "", pullPolicy: "" },
      // Worker pods run agent tool code: no Kubernetes API token for them.
      serviceAccount: { create: true, name: "", annotations: {}, automountServiceAccountToken: false },
      rbac: { create: true },
      networkPolicy: { create: true, name: "" },
      port: 8766,
      readyTimeoutSeconds: 60,
      idleTimeoutSeconds: 1800,
      reconcilePodTemplates: true,
      namePrefix: "mindroom-worker",
      storageSubpathPrefix: "workers",
      enableServiceLinks: false,
      configMapName: "",
      configKey: "",
      configPath: "",
      ownerDeploymentName: "",
      nodeName: "",
      colocateWithControlPlaneNode: false,
      extraEnv: {},
      extraLabels: {},
      extraAnnotations: {},
      extraContainers: [],
      extraVolumes: [],
      resources: profile("100m", "256Mi", "500m", "1Gi"),
      scriptResources: {
        defaultProfile: "small",
        profiles: {
          small: profile("100m", "256Mi", "500m", "1Gi"),
          standard: profile("250m", "512Mi", "1", "2Gi"),
          large: profile("500m", "2Gi", "2", "8Gi"),
        },
      },
      agentVault: AGENT_VAULT_DEFAULTS,
    },
  },
  // An existing proxy Service for dedicated workers; with networkPolicy.create it is their only way out.
  egressProxy: {
    enabled: false,
    injectWorkerProxyEnv: true,
    service: { name: "mindroom-egress-proxy", namespace: "", port: 3128, scheme: "http" },
    noProxy: ["localhost", "127.0.0.1", "::1"],
    networkPolicy: {
      create: true,
      proxyPodSelector: {},
      proxyNamespaceSelector: {},
      dns: {
        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
        podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
        ipBlocks: [],
      },
      extraEgress: [],
    },
  },
  approvedEgress: APPROVED_EGRESS_DEFAULTS,
  initContainers: [],
  extraContainers: [],
  extraVolumes: [],
  extraVolumeMounts: [],
} satisfies z.input<typeof runtimeValuesSchema>;
