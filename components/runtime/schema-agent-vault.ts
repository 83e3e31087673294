/**
 * Agent Vault values (`workers.kubernetes.agentVault`): the per-worker vault egress the runtime
 * wires into worker pods, the optional in-cluster vault server, its bootstrap Job, the
 * `agent_vault_access` tool and the declarative access grants. Keys and defaults are the chart's
 * (`values.yaml` at upstream `9f69327b`); the checks are `validate.yaml`'s and the templates'
 * `required`/`fail` calls, each as one line naming the value and the fix.
 */
import { z } from "zod";
import { ValuesError } from "../../infra/values/errors";
import { emptyOrQuantity, int, nameValue, nullableBool, nullableString, nullableStringMap, nullableText, optionalString, port, pullPolicy, rawMap } from "../../infra/values/fields";
import { obj } from "./values-map";

/** Empty (the object is not rendered, or another value supplies it) or a Kubernetes quantity. */
export const optionalQuantity = emptyOrQuantity("1Gi");

// List entries get no chart defaults merged in, so every key of a grant may be left out.
const grantSchema = obj({ email: optionalString, workerScope: optionalString, requester: optionalString, agent: optionalString, role: optionalString });

const secretKey = obj({ name: nullableString, key: nullableString });

export const agentVaultSchema = obj({
  enabled: nullableBool,
  cliImage: nullableString,
  ownerEmail: nullableString,
  vaultNamePrefix: nullableString,
  apiUrl: nullableString,
  proxyUrl: nullableString,
  bootstrapSecretName: nullableString,
  workerCaConfigMapName: nullableString,
  server: obj({
    enabled: nullableBool,
    // Names the Deployment and Service (and, cut to 63, the bootstrap and grants objects).
    name: nameValue,
    image: nullableString,
    imagePullPolicy: pullPolicy,
    apiPort: port,
    mitmPort: port,
    masterPasswordSecretKey: nullableString,
    persistence: obj({ enabled: nullableBool, size: optionalQuantity, storageClassName: nullableString, existingClaim: nullableString }),
    smtp: obj({ enabled: nullableBool, host: nullableString, port, tlsMode: nullableString, fromName: nullableString, existingSecret: nullableString }),
    // Read by the server template though values.yaml lists neither.
    podLabels: nullableStringMap,
    podAnnotations: nullableStringMap,
    podSecurityContext: rawMap,
    securityContext: rawMap,
    resources: rawMap,
  }),
  bootstrap: obj({
    enabled: nullableBool,
    image: nullableString,
    kubectlImage: nullableString,
    ownerPasswordSecretKey: nullableString,
    allowedDomains: nullableString,
    inviteOnly: nullableBool,
    resources: rawMap,
  }),
  accessTool: obj({ enabled: nullableBool, uiBaseUrl: nullableString, emailDomain: nullableString, adminAgentName: nullableString, adminTokenSecret: secretKey }),
  accessGrants: obj({
    enabled: nullableBool,
    tenantId: nullableText,
    accountId: nullableText,
    adminTokenSecret: secretKey,
    waitReadySeconds: z.union([int, z.string()], { error: "must be a whole number of seconds" }),
    resources: rawMap,
    grants: z.array(grantSchema, { error: "must be a list of grants (email, workerScope, requester, agent, role)" }).nullable().transform((v) => v ?? []),
  }),
});

export type AgentVaultValues = z.output<typeof agentVaultSchema>;

/** The chart's `workers.kubernetes.agentVault` defaults. */
export const AGENT_VAULT_DEFAULTS = {
  enabled: false,
  cliImage: "",
  ownerEmail: "",
  vaultNamePrefix: "agent-vault",
  apiUrl: "http://agent-vault:14321",
  proxyUrl: "http://agent-vault:14322",
  bootstrapSecretName: "agent-vault-bootstrap",
  workerCaConfigMapName: "",
  server: {
    enabled: false,
    name: "agent-vault",
    image: "",
    imagePullPolicy: "IfNotPresent",
    apiPort: 14321,
    mitmPort: 14322,
    masterPasswordSecretKey: "AGENT_VAULT_MASTER_PASSWORD",
    persistence: { enabled: true, size: "1Gi", storageClassName: "", existingClaim: "" },
    smtp: { enabled: false, host: "", port: 587, tlsMode: "starttls", fromName: "Agent Vault", existingSecret: "" },
    podLabels: {},
    podAnnotations: {},
    podSecurityContext: { fsGroup: 101, fsGroupChangePolicy: "OnRootMismatch" },
    securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
    resources: {},
  },
  bootstrap: {
    enabled: false,
    image: "",
    kubectlImage: "",
    ownerPasswordSecretKey: "AGENT_VAULT_OWNER_PASSWORD",
    allowedDomains: "",
    inviteOnly: true,
    resources: {},
  },
  accessTool: {
    enabled: false,
    uiBaseUrl: "",
    emailDomain: "",
    adminAgentName: "access-admin",
    adminTokenSecret: { name: "agent-vault-access-admin", key: "token" },
  },
  accessGrants: {
    enabled: false,
    tenantId: "",
    accountId: "",
    adminTokenSecret: { name: "agent-vault-access-admin", key: "token" },
    waitReadySeconds: 180,
    resources: {},
    grants: [],
  },
} satisfies z.input<typeof agentVaultSchema>;

/**
 * The runtime chart has no top-level `agentVault` (the spec's §12 list names one). A values file
 * that switches it on meant `workers.kubernetes.agentVault`; saying so beats dropping it.
 */
export const topLevelAgentVault = z
  .unknown()
  .optional()
  .superRefine((v, ctx) => {
    if (v === undefined || v === null) return;
    const map = typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
    const off = map !== undefined && Object.entries(map).every(([k, x]) => k === "enabled" && (x === false || x === null || x === "false"));
    if (!off) {
      ctx.addIssue({
        code: "custom",
        message: "the runtime chart has no top-level agentVault; Agent Vault is configured under workers.kubernetes.agentVault (move the section there)",
      });
    }
  });

/** A `fail` from the schema's superRefine: adds the issue; callers stop at the first one. */
export type Fail = (path: PropertyKey[], message: string) => void;

const AV = ["workers", "kubernetes", "agentVault"] as const;
const avPath = (...rest: PropertyKey[]) => [...AV, ...rest];
const blank = (s: string) => s.trim() === "";

/** `agentVault.server.name`, default `agent-vault` (Helm's `default`: empty means the default). */
export const agentVaultServerName = (av: AgentVaultValues) => av.server.name || "agent-vault";

/**
 * The in-cluster vault's MITM proxy addresses as a worker could write them. Upstream refuses a
 * worker proxy URL among these when approved egress runs without its parent proxy: workers would
 * reach the vault directly and Squid would never see their source IPs (dynamic grants break).
 * Without `namespace` (schema time) only the short form is known; the component adds the rest.
 */
export function inClusterVaultProxyUrls(av: AgentVaultValues, namespace?: string): string[] {
  const svc = agentVaultServerName(av);
  const mitm = String(av.server.mitmPort);
  const urls = [`http://${svc}:${mitm}`];
  if (namespace) urls.push(`http://${svc}.${namespace}:${mitm}`, `http://${svc}.${namespace}.svc:${mitm}`, `http://${svc}.${namespace}.svc.cluster.local:${mitm}`);
  return urls;
}

/** Upstream's normalisation before the comparison: trimmed, trailing slashes removed, lower case. */
const normalisedUrl = (url: string) => url.trim().replace(/\/+$/, "").toLowerCase();

/** The squid-first rule (validate.yaml) on `workers.kubernetes.agentVault.proxyUrl`; undefined when it holds. */
export function squidFirstIssue(av: AgentVaultValues, approvedEgress: { enabled: boolean; parentProxy: { enabled: boolean } }, namespace?: string): string | undefined {
  if (!approvedEgress.enabled || !av.enabled || approvedEgress.parentProxy.enabled) return undefined;
  if (!inClusterVaultProxyUrls(av, namespace).includes(normalisedUrl(av.proxyUrl))) return undefined;
  return `"${av.proxyUrl}" sends worker traffic straight to the in-cluster vault, past the approved egress proxy (dynamic grants need Squid to see worker source IPs); set approvedEgress.parentProxy.enabled=true (Squid first, then the vault), or point proxyUrl at an external proxy`;
}

/** The squid-first rule with the release namespace known (the component's constructor), before anything registers. */
export function validateAgentVaultRelease(
  v: { workers: { kubernetes: { agentVault: AgentVaultValues } }; approvedEgress: { enabled: boolean; parentProxy: { enabled: boolean } } },
  namespace: string,
  prefix = "",
): void {
  const issue = squidFirstIssue(v.workers.kubernetes.agentVault, v.approvedEgress, namespace);
  if (issue) throw new ValuesError(`${prefix}${avPath("proxyUrl").join(".")}: ${issue}`);
}

/**
 * Every Agent Vault check, in upstream order (validate.yaml, then the templates' `required`
 * calls). Returns true after the first failure, which `fail` has recorded.
 */
export function agentVaultIssue(
  values: { agentVault: AgentVaultValues; approvedEgress: { enabled: boolean; parentProxy: { enabled: boolean } }; kubernetesWorkers: boolean },
  fail: Fail,
): boolean {
  const av = values.agentVault;
  const stop = (path: PropertyKey[], message: string) => {
    fail(path, message);
    return true;
  };

  const squid = squidFirstIssue(av, values.approvedEgress);
  if (squid) return stop(avPath("proxyUrl"), squid);

  const tool = av.accessTool;
  if (tool.enabled) {
    if (!av.enabled) return stop(avPath("accessTool", "enabled"), "needs workers.kubernetes.agentVault.enabled=true (the tool manages the vaults of dedicated workers); switch Agent Vault on, or the access tool off");
    if (blank(tool.adminAgentName)) return stop(avPath("accessTool", "adminAgentName"), "must not be empty with accessTool.enabled=true; set the owner-role agent's name (default access-admin)");
    if (blank(tool.adminTokenSecret.name) || blank(tool.adminTokenSecret.key)) {
      return stop(avPath("accessTool", "adminTokenSecret"), "needs both name and key with accessTool.enabled=true (the Secret holding the admin token); set them (default agent-vault-access-admin / token)");
    }
  }

  const grants = av.accessGrants;
  if (grants.enabled && grants.grants.length > 0) {
    if (!av.enabled) return stop(avPath("accessGrants", "enabled"), "with grants listed needs workers.kubernetes.agentVault.enabled=true; switch Agent Vault on, or clear accessGrants.grants");
    if (blank(grants.adminTokenSecret.name) || blank(grants.adminTokenSecret.key)) {
      return stop(avPath("accessGrants", "adminTokenSecret"), "needs both name and key when grants are listed (the grants Job reads its admin token there); set them (default agent-vault-access-admin / token)");
    }
    if (av.bootstrap.enabled && blank(tool.adminAgentName)) {
      return stop(avPath("accessTool", "adminAgentName"), "must not be empty when accessGrants and bootstrap are on (bootstrap mints that agent's token for the grants Job); set it (default access-admin)");
    }
    if (av.bootstrap.enabled && tool.enabled && tool.adminTokenSecret.name.trim() === grants.adminTokenSecret.name.trim() && tool.adminTokenSecret.key.trim() !== grants.adminTokenSecret.key.trim()) {
      return stop(
        avPath("accessTool", "adminTokenSecret", "key"),
        `"${tool.adminTokenSecret.key}" differs from accessGrants.adminTokenSecret.key "${grants.adminTokenSecret.key}" for the same Secret "${tool.adminTokenSecret.name}" (bootstrap would write that Secret twice); use one key, or two Secret names`,
      );
    }
    for (const [i, g] of grants.grants.entries()) {
      const at = (field: string) => avPath("accessGrants", "grants", i, field);
      const scope = g.workerScope.trim();
      const requester = g.requester.trim();
      const agent = g.agent.trim();
      if (blank(g.email)) return stop(at("email"), "is required: the account email that gets UI/admin access to the worker vault");
      if (!["shared", "user", "user_agent"].includes(scope)) return stop(at("workerScope"), `must be shared, user or user_agent, got "${g.workerScope}"`);
      if ((g.role.trim() || "admin") !== "admin") return stop(at("role"), `must be admin (the only role upstream supports), got "${g.role}"; set it to admin or leave it out`);
      if (scope === "shared" && requester) return stop(at("requester"), "must be empty for workerScope=shared (a shared worker has no requester); remove it, or use workerScope user_agent");
      if (scope === "shared" && !agent) return stop(at("agent"), "is required for workerScope=shared: name the agent whose shared worker vault this grant opens");
      if (scope !== "shared" && !requester) return stop(at("requester"), `is required for workerScope=${scope}: the Matrix user id, e.g. "@user:example.com"`);
      if (scope === "user" && agent) return stop(at("agent"), "must be empty for workerScope=user; remove it, or use workerScope user_agent for a requester- and agent-specific vault");
      if (scope === "user_agent" && !agent) return stop(at("agent"), "is required for workerScope=user_agent: name the agent");
    }
  }

  // The templates' `required` calls. The runtime env (and with it these two) exists only in kubernetes worker mode.
  if (av.enabled && values.kubernetesWorkers) {
    if (!av.cliImage) return stop(avPath("cliImage"), "is required with agentVault.enabled=true (the worker init container mints per-worker tokens with it); set an Agent Vault image pinned by digest");
    if (!av.ownerEmail) return stop(avPath("ownerEmail"), "is required with agentVault.enabled=true (the vault instance owner that provisions worker vaults); set it");
  }
  if (tool.enabled && values.kubernetesWorkers) {
    if (!tool.uiBaseUrl) return stop(avPath("accessTool", "uiBaseUrl"), "is required with accessTool.enabled=true; set the public base URL of the Agent Vault UI, e.g. https://example.com/agent-vault");
    if (!tool.emailDomain) return stop(avPath("accessTool", "emailDomain"), "is required with accessTool.enabled=true; set the domain that maps a requester's Matrix localpart to their vault account email");
  }
  const server = av.server;
  if (server.enabled) {
    if (!server.image && !av.cliImage) return stop(avPath("server", "image"), "or workers.kubernetes.agentVault.cliImage is required with server.enabled=true; set an Agent Vault image pinned by digest");
    if (!av.bootstrapSecretName) return stop(avPath("bootstrapSecretName"), "is required with server.enabled=true (the Secret holding the vault's master password); set it (default agent-vault-bootstrap)");
    if (!server.persistence.existingClaim && server.persistence.enabled && !server.persistence.size) {
      return stop(avPath("server", "persistence", "size"), "is required for the chart-managed vault volume; set a size such as 1Gi, or set persistence.existingClaim");
    }
    if (server.smtp.enabled && !server.smtp.existingSecret) {
      return stop(avPath("server", "smtp", "existingSecret"), "is required with smtp.enabled=true (a Secret with AGENT_VAULT_SMTP_USERNAME, AGENT_VAULT_SMTP_PASSWORD and AGENT_VAULT_SMTP_FROM); set it, or switch smtp off");
    }
  }
  const bs = av.bootstrap;
  if (bs.enabled) {
    if (!av.apiUrl) return stop(avPath("apiUrl"), "is required with bootstrap.enabled=true (the Job talks to the vault there); set it (default http://agent-vault:14321)");
    if (!av.workerCaConfigMapName) return stop(avPath("workerCaConfigMapName"), "is required with bootstrap.enabled=true (the Job publishes the vault's root CA into that ConfigMap); set a ConfigMap name");
    if (!bs.image && !av.cliImage) return stop(avPath("bootstrap", "image"), "or workers.kubernetes.agentVault.cliImage is required with bootstrap.enabled=true; set an Agent Vault image pinned by digest");
    if (!av.ownerEmail) return stop(avPath("ownerEmail"), "is required with bootstrap.enabled=true (the owner account the Job registers or logs in); set it");
    if (!bs.kubectlImage) return stop(avPath("bootstrap", "kubectlImage"), "is required with bootstrap.enabled=true (publishes the CA ConfigMap); set an image that provides kubectl");
    if (!av.bootstrapSecretName) return stop(avPath("bootstrapSecretName"), "is required with bootstrap.enabled=true (the Secret holding the owner password); set it (default agent-vault-bootstrap)");
  }
  return false;
}
