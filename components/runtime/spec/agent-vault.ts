/**
 * Agent Vault objects (upstream agent-vault-server.yaml, agent-vault-bootstrap.yaml,
 * agent-vault-access-grants.yaml) and what the runtime Deployment and the worker NetworkPolicy get
 * from `workers.kubernetes.agentVault`. All of it lives in the release namespace, as upstream.
 */
import type * as k8s from "@pulumi/kubernetes";
import { createHash } from "node:crypto";
import { APP_VERSION, dnsTrunc, MANAGED_BY, type Labels, type RuntimeNames } from "../names";
import { agentVaultServerName } from "../schema-agent-vault";
import type { RuntimeValues } from "../schema";
import type { EnvVar } from "./env";
import { approvedEgressProxyUrl } from "./approved-egress";
import { cast, meta, nonEmpty } from "./util";

type AgentVault = RuntimeValues["workers"]["kubernetes"]["agentVault"];

/** Helm's `quote` (Go `%q`) for the values the chart quotes in scripts and YAML text; JSON escapes the same for printable text (URLs, emails, names). */
export function goQuote(s: string): string {
  return JSON.stringify(s);
}

/** Names and labels the Agent Vault objects agree on (`_helpers.tpl` agentVault*). */
export interface AgentVaultNames {
  server: string;
  selectorLabels: Labels;
  labels: Labels;
  claimName: string;
  bootstrap: string;
  bootstrapLabels: Labels;
  accessGrants: string;
  accessGrantsLabels: Labels;
  /** `accessGrants` on with at least one grant: the ConfigMap and hook Job render. */
  grantsOn: boolean;
  /** Bootstrap also mints the owner-role agent token (for the access tool or the grants Job). */
  mintsAdminToken: boolean;
}

export function agentVaultNames(v: RuntimeValues, n: RuntimeNames): AgentVaultNames {
  const av = v.workers.kubernetes.agentVault;
  const server = agentVaultServerName(av);
  const component = (name: string, part: string): Labels => ({
    "app.kubernetes.io/name": name,
    "app.kubernetes.io/instance": n.release,
    "app.kubernetes.io/component": part,
    "app.kubernetes.io/version": APP_VERSION,
    "app.kubernetes.io/managed-by": MANAGED_BY,
  });
  const selectorLabels = { "app.kubernetes.io/name": server, "app.kubernetes.io/instance": n.release, "app.kubernetes.io/component": "agent-vault" };
  const bootstrap = dnsTrunc(`${server}-bootstrap`);
  const accessGrants = dnsTrunc(`${server}-access-grants`);
  const grantsOn = av.accessGrants.enabled && av.accessGrants.grants.length > 0;
  return {
    server,
    selectorLabels,
    labels: { ...selectorLabels, "app.kubernetes.io/version": APP_VERSION, "app.kubernetes.io/managed-by": MANAGED_BY },
    claimName: av.server.persistence.existingClaim || `${server}-data`,
    bootstrap,
    bootstrapLabels: component(bootstrap, "agent-vault-bootstrap"),
    accessGrants,
    accessGrantsLabels: component(accessGrants, "agent-vault-access-grants"),
    grantsOn,
    mintsAdminToken: av.accessTool.enabled || grantsOn,
  };
}

export interface AgentVaultServerSpecs {
  claim?: k8s.core.v1.PersistentVolumeClaimArgs;
  deployment: k8s.apps.v1.DeploymentArgs;
  service: k8s.core.v1.ServiceArgs;
}

/** The in-cluster vault server (`server.enabled`): PVC, Deployment and Service `{server.name}`. */
export function agentVaultServerSpecs(v: RuntimeValues, n: RuntimeNames): AgentVaultServerSpecs | undefined {
  const av = v.workers.kubernetes.agentVault;
  const server = av.server;
  if (!server.enabled) return undefined;
  const an = agentVaultNames(v, n);
  const persistence = server.persistence;

  const claim: k8s.core.v1.PersistentVolumeClaimArgs | undefined =
    persistence.enabled && !persistence.existingClaim
      ? {
          metadata: meta(an.claimName, n.namespace, an.labels),
          spec: {
            accessModes: ["ReadWriteOnce"],
            storageClassName: persistence.storageClassName || undefined,
            resources: { requests: { storage: persistence.size } },
          },
        }
      : undefined;

  const env: EnvVar[] = [{ name: "AGENT_VAULT_MASTER_PASSWORD", valueFrom: { secretKeyRef: { name: av.bootstrapSecretName, key: server.masterPasswordSecretKey } } }];
  if (server.smtp.enabled) {
    const smtp = server.smtp;
    const fromSmtpSecret = (name: string): EnvVar => ({ name, valueFrom: { secretKeyRef: { name: smtp.existingSecret, key: name } } });
    env.push(
      { name: "AGENT_VAULT_SMTP_HOST", value: smtp.host },
      { name: "AGENT_VAULT_SMTP_PORT", value: String(smtp.port) },
      { name: "AGENT_VAULT_SMTP_TLS_MODE", value: smtp.tlsMode },
      { name: "AGENT_VAULT_SMTP_FROM_NAME", value: smtp.fromName },
      fromSmtpSecret("AGENT_VAULT_SMTP_USERNAME"),
      fromSmtpSecret("AGENT_VAULT_SMTP_PASSWORD"),
      fromSmtpSecret("AGENT_VAULT_SMTP_FROM"),
    );
  }

  const deployment = cast<k8s.apps.v1.DeploymentArgs>({
    metadata: meta(an.server, n.namespace, an.labels),
    spec: {
      replicas: 1,
      // One pod on a RWO volume: a surge pod would wait for the volume forever.
      strategy: { type: "Recreate" },
      selector: { matchLabels: an.selectorLabels },
      template: {
        metadata: { labels: { ...an.selectorLabels, ...server.podLabels }, annotations: nonEmpty(server.podAnnotations) },
        spec: {
          // The vault never calls the Kubernetes API.
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: nonEmpty(server.podSecurityContext),
          containers: [
            {
              name: "agent-vault",
              image: server.image || av.cliImage,
              imagePullPolicy: server.imagePullPolicy,
              command: ["agent-vault"],
              args: ["server", "--host", "0.0.0.0", "--port", String(server.apiPort), "--mitm-port", String(server.mitmPort)],
              env,
              ports: [
                { name: "api", containerPort: server.apiPort, protocol: "TCP" },
                { name: "proxy", containerPort: server.mitmPort, protocol: "TCP" },
              ],
              readinessProbe: { httpGet: { path: "/health", port: "api" }, periodSeconds: 10, timeoutSeconds: 3 },
              livenessProbe: { httpGet: { path: "/health", port: "api" }, periodSeconds: 30, timeoutSeconds: 5 },
              resources: server.resources,
              securityContext: nonEmpty(server.securityContext),
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
          ],
          volumes: [persistence.enabled ? { name: "data", persistentVolumeClaim: { claimName: an.claimName } } : { name: "data", emptyDir: {} }],
        },
      },
    },
  });

  const service: k8s.core.v1.ServiceArgs = {
    metadata: meta(an.server, n.namespace, an.labels),
    spec: {
      type: "ClusterIP",
      selector: an.selectorLabels,
      ports: [
        { name: "api", port: server.apiPort, targetPort: "api", protocol: "TCP" },
        { name: "proxy", port: server.mitmPort, targetPort: "proxy", protocol: "TCP" },
      ],
    },
  };
  return { claim, deployment, service };
}

/** The bootstrap init container's script: owner account, instance policy, CA, and the admin agent token. */
export function bootstrapOwnerScript(av: AgentVault, mintsAdminToken: boolean): string {
  const bs = av.bootstrap;
  const agent = goQuote(av.accessTool.adminAgentName);
  const lines = [
    // The CLI session stays in this container's own filesystem, never on the shared /work volume.
    "export HOME=/tmp/agent-vault-bootstrap-home",
    'mkdir -p "$HOME"',
    `addr="${av.apiUrl}"`,
    `password="$(cat /bootstrap/${bs.ownerPasswordSecretKey})"`,
    "deadline=$(($(date +%s) + 180))",
    'until wget -q -O /dev/null "$addr/health"; do',
    '  if [ "$(date +%s)" -ge "$deadline" ]; then',
    '    echo "Agent Vault did not become ready" >&2',
    "    exit 1",
    "  fi",
    "  sleep 2",
    "done",
    // On a fresh vault the login fails (no owner yet) and register creates it; both logs are shown only if that fails too.
    "if ! printf '%s\\n' \"$password\" | agent-vault auth login \\",
    '  --address "$addr" \\',
    '  --email "$AGENT_VAULT_OWNER_EMAIL" \\',
    "  --password-stdin >/tmp/login.log 2>&1; then",
    "  if ! printf '%s\\n' \"$password\" | agent-vault auth register \\",
    '    --address "$addr" \\',
    '    --email "$AGENT_VAULT_OWNER_EMAIL" \\',
    "    --password-stdin >/tmp/register.log 2>&1; then",
    "    cat /tmp/login.log /tmp/register.log >&2 || true",
    "  fi",
    "  printf '%s\\n' \"$password\" | agent-vault auth login \\",
    '    --address "$addr" \\',
    '    --email "$AGENT_VAULT_OWNER_EMAIL" \\',
    "    --password-stdin",
    "fi",
    // `owner config set` takes the address from the session the login stored in $HOME.
    "agent-vault owner config set \\",
    `  --invite-only=${bs.inviteOnly} \\`,
    '  --allowed-domains "$AGENT_VAULT_ALLOWED_DOMAINS"',
    'agent-vault ca fetch --address "$addr" > /work/ca.pem',
    "test -s /work/ca.pem",
  ];
  if (mintsAdminToken) {
    // A re-run rotates the token; readers take it from the Secret on each call, so nothing restarts.
    lines.push(
      `if ! agent-vault agent create ${agent} \\`,
      "  --token-only > /work/access-admin-token; then",
      `  agent-vault agent rotate ${agent} \\`,
      "    --token-only > /work/access-admin-token",
      "fi",
      `agent-vault agent set-role ${agent} --role owner`,
      "test -s /work/access-admin-token",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** The publish container's script: the CA ConfigMap, and the admin token Secret(s). */
export function publishCaScript(av: AgentVault, grantsOn: boolean): string {
  const apply = "  --dry-run=client -o yaml | kubectl apply -f -";
  const lines = [`kubectl -n "$POD_NAMESPACE" create configmap ${av.workerCaConfigMapName} \\`, "  --from-file=ca.pem=/work/ca.pem \\", apply];
  const secret = (ref: { name: string; key: string }) => [
    `kubectl -n "$POD_NAMESPACE" create secret generic ${ref.name} \\`,
    `  --from-file=${ref.key}=/work/access-admin-token \\`,
    apply,
  ];
  if (av.accessTool.enabled) lines.push(...secret(av.accessTool.adminTokenSecret));
  if (grantsOn) lines.push(...secret(av.accessGrants.adminTokenSecret));
  return `${lines.join("\n")}\n`;
}

export interface AgentVaultBootstrapSpecs {
  serviceAccount: k8s.core.v1.ServiceAccountArgs;
  role: k8s.rbac.v1.RoleArgs;
  roleBinding: k8s.rbac.v1.RoleBindingArgs;
  job: k8s.batch.v1.JobArgs;
}

/** The bootstrap Job `{server}-bootstrap` and the RBAC that lets it publish the CA and the admin token. */
export function agentVaultBootstrapSpecs(v: RuntimeValues, n: RuntimeNames): AgentVaultBootstrapSpecs | undefined {
  const av = v.workers.kubernetes.agentVault;
  const bs = av.bootstrap;
  if (!bs.enabled) return undefined;
  const an = agentVaultNames(v, n);
  const m = meta(an.bootstrap, n.namespace, an.bootstrapLabels);

  // RBAC cannot scope `create` by name; every other verb is held to the exact objects the Job writes.
  const rules: Record<string, unknown>[] = [
    { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
    { apiGroups: [""], resources: ["configmaps"], resourceNames: [av.workerCaConfigMapName], verbs: ["get", "update", "patch"] },
  ];
  if (an.mintsAdminToken) {
    const names = [...(av.accessTool.enabled ? [av.accessTool.adminTokenSecret.name] : []), ...(an.grantsOn ? [av.accessGrants.adminTokenSecret.name] : [])];
    rules.push({ apiGroups: [""], resources: ["secrets"], verbs: ["create"] }, { apiGroups: [""], resources: ["secrets"], resourceNames: names, verbs: ["get", "update", "patch"] });
  }

  const job = cast<k8s.batch.v1.JobArgs>({
    metadata: m,
    spec: {
      // The cluster deletes the finished Job after a day (docs/runtime.md: Agent Vault, Jobs).
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels: an.bootstrapLabels },
        spec: {
          restartPolicy: "OnFailure",
          serviceAccountName: an.bootstrap,
          initContainers: [
            {
              name: "bootstrap-owner",
              image: bs.image || av.cliImage,
              command: ["sh", "-ec"],
              args: [bootstrapOwnerScript(av, an.mintsAdminToken)],
              env: [
                { name: "AGENT_VAULT_OWNER_EMAIL", value: av.ownerEmail },
                { name: "AGENT_VAULT_ALLOWED_DOMAINS", value: bs.allowedDomains },
              ],
              resources: bs.resources,
              volumeMounts: [
                { name: "work", mountPath: "/work" },
                { name: "bootstrap", mountPath: "/bootstrap", readOnly: true },
              ],
            },
          ],
          containers: [
            {
              name: "publish-ca",
              image: bs.kubectlImage,
              command: ["sh", "-ec"],
              args: [publishCaScript(av, an.grantsOn)],
              env: [{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }],
              resources: bs.resources,
              volumeMounts: [{ name: "work", mountPath: "/work", readOnly: true }],
            },
          ],
          volumes: [
            { name: "work", emptyDir: {} },
            { name: "bootstrap", secret: { secretName: av.bootstrapSecretName } },
          ],
        },
      },
    },
  });

  return {
    serviceAccount: { metadata: m, automountServiceAccountToken: true },
    role: cast<k8s.rbac.v1.RoleArgs>({ metadata: m, rules }),
    roleBinding: {
      metadata: m,
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: an.bootstrap },
      subjects: [{ kind: "ServiceAccount", name: an.bootstrap, namespace: n.namespace }],
    },
    job,
  };
}

/** `access-grants.yaml` as the chart writes it (the grants tool reads this file). */
export function accessGrantsConfig(av: AgentVault): string {
  const g = av.accessGrants;
  const lines = [`apiUrl: ${goQuote(av.apiUrl)}`, `vaultNamePrefix: ${goQuote(av.vaultNamePrefix)}`];
  if (g.tenantId) lines.push(`tenantId: ${goQuote(g.tenantId)}`);
  if (g.accountId) lines.push(`accountId: ${goQuote(g.accountId)}`);
  lines.push("grants:");
  for (const grant of g.grants) {
    lines.push(`  - email: ${goQuote(grant.email)}`, `    workerScope: ${goQuote(grant.workerScope)}`);
    if (grant.requester) lines.push(`    requester: ${goQuote(grant.requester)}`);
    if (grant.agent) lines.push(`    agent: ${goQuote(grant.agent)}`);
    lines.push(`    role: ${goQuote(grant.role || "admin")}`);
  }
  return `${lines.join("\n")}\n`;
}

export interface AgentVaultAccessGrantsSpecs {
  configMap: k8s.core.v1.ConfigMapArgs;
  job: k8s.batch.v1.JobArgs;
  /** sha256 of what the Job reads besides its own spec (its ConfigMap): a change re-runs the Job. */
  inputsHash: string;
}

/** ConfigMap and Job `{server}-access-grants` (upstream: a post-install/post-upgrade hook). */
export function agentVaultAccessGrantsSpecs(v: RuntimeValues, n: RuntimeNames): AgentVaultAccessGrantsSpecs | undefined {
  const av = v.workers.kubernetes.agentVault;
  const an = agentVaultNames(v, n);
  if (!an.grantsOn) return undefined;
  const grants = av.accessGrants;
  const config = accessGrantsConfig(av);
  const configDir = "/etc/mindroom-agent-vault-access-grants";
  const tokenDir = "/etc/agent-vault-access-grants";
  const job = cast<k8s.batch.v1.JobArgs>({
    // Helm's hook annotations are dropped: Pulumi orders the Job with dependsOn instead.
    metadata: meta(an.accessGrants, n.namespace, an.accessGrantsLabels),
    spec: {
      ttlSecondsAfterFinished: 86400,
      template: {
        metadata: { labels: an.accessGrantsLabels },
        spec: {
          restartPolicy: "OnFailure",
          // The tool talks only to the vault API, with the token from the mounted Secret.
          automountServiceAccountToken: false,
          imagePullSecrets: nonEmpty(v.imagePullSecrets),
          containers: [
            {
              name: "access-grants",
              image: n.image,
              imagePullPolicy: v.image.pullPolicy,
              command: [
                "python", "-m", "mindroom.agent_vault_access_grants", "apply",
                "--config", `${configDir}/access-grants.yaml`,
                "--admin-token-file", `${tokenDir}/${grants.adminTokenSecret.key}`,
                "--wait-ready-seconds", String(grants.waitReadySeconds),
              ],
              resources: grants.resources,
              securityContext: v.securityContext,
              volumeMounts: [
                { name: "access-grants-config", mountPath: configDir, readOnly: true },
                { name: "access-grants-admin-token", mountPath: tokenDir, readOnly: true },
              ],
            },
          ],
          volumes: [
            { name: "access-grants-config", configMap: { name: an.accessGrants } },
            { name: "access-grants-admin-token", secret: { secretName: grants.adminTokenSecret.name } },
          ],
        },
      },
    },
  });
  return {
    configMap: { metadata: meta(an.accessGrants, n.namespace, an.accessGrantsLabels), data: { "access-grants.yaml": config } },
    job,
    inputsHash: createHash("sha256").update(config).digest("hex"),
  };
}

/** `MINDROOM_KUBERNETES_AGENT_VAULT_*` and `MINDROOM_AGENT_VAULT_ACCESS_*` env of the runtime (kubernetes workers only). */
export function agentVaultRuntimeEnv(v: RuntimeValues, n: RuntimeNames): EnvVar[] {
  const av = v.workers.kubernetes.agentVault;
  const env: EnvVar[] = [];
  if (av.enabled) {
    env.push(
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_ENABLED", value: "true" },
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_CLI_IMAGE", value: av.cliImage },
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_OWNER_EMAIL", value: av.ownerEmail },
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_VAULT_NAME_PREFIX", value: av.vaultNamePrefix },
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_API_URL", value: av.apiUrl },
      // With approved egress chaining to the vault, workers reach the vault through Squid.
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_PROXY_URL", value: v.approvedEgress.enabled && v.approvedEgress.parentProxy.enabled ? approvedEgressProxyUrl(v, n) : av.proxyUrl },
      { name: "MINDROOM_KUBERNETES_AGENT_VAULT_BOOTSTRAP_SECRET_NAME", value: av.bootstrapSecretName },
    );
    if (av.workerCaConfigMapName) env.push({ name: "MINDROOM_KUBERNETES_AGENT_VAULT_WORKER_CA_CONFIGMAP_NAME", value: av.workerCaConfigMapName });
  }
  const tool = av.accessTool;
  if (tool.enabled) {
    env.push(
      { name: "MINDROOM_AGENT_VAULT_ACCESS_API_URL", value: av.apiUrl },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_UI_BASE_URL", value: tool.uiBaseUrl },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_EMAIL_DOMAIN", value: tool.emailDomain },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_VAULT_NAME_PREFIX", value: av.vaultNamePrefix },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_OWNER_EMAIL", value: av.ownerEmail },
      // A file, not env: the kubelet refreshes the mounted Secret, so a token rotation needs no restart.
      { name: "MINDROOM_AGENT_VAULT_ACCESS_ADMIN_TOKEN_FILE", value: `${ACCESS_ADMIN_DIR}/${tool.adminTokenSecret.key}` },
    );
  }
  return env;
}

const ACCESS_ADMIN_DIR = "/etc/agent-vault-access";

/** The admin-token mount of container `mindroom` (any worker backend, as upstream), with `accessTool.enabled`. */
export function agentVaultRuntimeMounts(v: RuntimeValues): Record<string, unknown>[] {
  return v.workers.kubernetes.agentVault.accessTool.enabled ? [{ name: "agent-vault-access-admin", mountPath: ACCESS_ADMIN_DIR, readOnly: true }] : [];
}

export function agentVaultRuntimeVolumes(v: RuntimeValues): Record<string, unknown>[] {
  const tool = v.workers.kubernetes.agentVault.accessTool;
  // Optional: the runtime may start before the first bootstrap has published the token.
  return tool.enabled ? [{ name: "agent-vault-access-admin", secret: { secretName: tool.adminTokenSecret.name, optional: true } }] : [];
}
