/**
 * Cloud-init user-data that installs k3s at first boot (cluster.md §6.1 and §7). Pure functions of
 * resolved values; the component feeds them through `pulumi.all`, so the text stays a secret.
 */
import { createHash } from "node:crypto";
import { stringify } from "yaml";
import { ADMISSION_CONFIG_PATH, admissionConfiguration, AUDIT_POLICY_PATH, auditPolicy, KUBELET_SYSCTL_PATH, kubeApiserverArgs, kubeletSysctlConf, yamlFile } from "./hardening";
import { k3sGuardDropIn, k3sUnit, METADATA_GUARD_SCRIPT, METADATA_GUARD_UNIT, metadataGuardScript, metadataGuardUnit } from "./metadata-guard";
import { CLUSTER_CIDR, CLUSTER_DNS, CONTROL_PLANE_IP, SERVICE_CIDR } from "./network";

/** Where k3s looks for existing CAs at first start (it keeps them: k3s-io/k3s#1868). */
export const K3S_TLS_DIR = "/var/lib/rancher/k3s/server/tls";
export const INSTALL_SCRIPT = "/usr/local/bin/mindroom-k3s-install.sh";
/** Installer runs per node before cloud-init reports failure (each waits 15 s after a failure). */
const INSTALL_ATTEMPTS = 5;

/**
 * kube-hetzner's reservations (cluster.md §1.3): 500m CPU and 1800Mi memory per node are kept away
 * from pods. The capacity model subtracts the same amounts.
 */
export const KUBELET_RESERVED = ["kube-reserved=cpu=250m,memory=1500Mi,ephemeral-storage=1Gi", "system-reserved=cpu=250m,memory=300Mi"];

/**
 * Bundled k3s parts this project replaces: Traefik (ingress-nginx), ServiceLB (ingress uses host
 * ports or the Hetzner LB, so no Service of type LoadBalancer exists), local-path (hcloud-volumes is
 * the only class) and metrics-server (a pinned chart behind the `metricsServer` switch).
 */
export const DISABLED_COMPONENTS = ["traefik", "servicelb", "local-storage", "metrics-server"];

export interface NodeBase {
  k3sVersion: string;
  /** SHA-256 (hex) of `install.sh` at the `k3sVersion` tag; the script refuses any other installer. */
  installerSha256: string;
  nodeIp: string;
  labels: Record<string, string>;
  taints: string[];
}

export interface ServerNode extends NodeBase {
  /** Join secret for servers (full control: only on the control plane's user-data). */
  token: string;
  /** Join secret agents use; cannot join a server. */
  agentToken: string;
  tlsSans: string[];
  pki: { serverCaCert: string; serverCaKey: string; clientCaCert: string; clientCaKey: string };
}

export interface AgentNode extends NodeBase {
  agentToken: string;
  /** The server CA's PEM, exactly as the server's user-data writes `server-ca.crt`; its hash goes into the join token. */
  serverCaCert: string;
}

/**
 * The agent token in k3s's secure form, `K10<sha256 of the cluster CA>::node:<password>`. With a bare
 * password an agent fetches `/cacerts` without verification and trusts whatever answers on the
 * server's address; with the hash it rejects any other CA. For a single self-signed CA k3s hashes
 * the literal bytes of `server-ca.crt` (k3s `pkg/clientaccess/token.go`, `hashCA`), which the
 * server's user-data writes from the same PEM.
 */
export function agentJoinToken(agentToken: string, serverCaCert: string): string {
  return `K10${createHash("sha256").update(serverCaCert, "utf8").digest("hex")}::node:${agentToken}`;
}

/**
 * The installer at the k3s release's own tag, not get.k3s.io (which serves whatever the main
 * branch has today). `+` is escaped for the URL path.
 */
export function k3sInstallerUrl(k3sVersion: string): string {
  return `https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(k3sVersion)}/install.sh`;
}

const nodeLabels = (labels: Record<string, string>) => Object.entries(labels).map(([k, v]) => `${k}=${v}`);

/**
 * Finds the NIC that carries the node's private address (ens10 on Intel, enp7s0 on AMD types), so
 * flannel keeps pod traffic on the private network whatever the server type, then installs k3s.
 */
function installScript(role: "server" | "agent", node: NodeBase): string {
  const url = k3sInstallerUrl(node.k3sVersion);
  return [
    "#!/bin/sh",
    "set -eu",
    `NODE_IP='${node.nodeIp}'`,
    "IFACE=''",
    "# The private network attachment can come up a little after cloud-init starts.",
    "for _ in $(seq 1 150); do",
    "  IFACE=$(ip -o -4 addr show | awk -v ip=\"$NODE_IP\" 'index($4, ip \"/\") == 1 { print $2; exit }')",
    "  [ -n \"$IFACE\" ] && break",
    "  sleep 2",
    "done",
    "[ -n \"$IFACE\" ] || { echo \"private address $NODE_IP never appeared\" >&2; exit 1; }",
    "mkdir -p /etc/rancher/k3s/config.yaml.d",
    "printf 'flannel-iface: %s\\n' \"$IFACE\" > /etc/rancher/k3s/config.yaml.d/10-flannel-iface.yaml",
    "# To a file first: with `curl | sh` a failed download runs an empty script and \"succeeds\".",
    "INSTALLER=$(mktemp)",
    `INSTALLER_URL='${url}'`,
    `INSTALLER_SHA256='${node.installerSha256}'`,
    "curl -sfL --retry 10 --retry-delay 5 --retry-all-errors -o \"$INSTALLER\" \"$INSTALLER_URL\"",
    "# Pinned by checksum: a changed or substituted installer (it runs as root) is never run.",
    "ACTUAL=$(sha256sum \"$INSTALLER\" | cut -d ' ' -f 1)",
    "if [ \"$ACTUAL\" != \"$INSTALLER_SHA256\" ]; then",
    "  echo \"k3s installer $INSTALLER_URL has sha256 $ACTUAL, expected $INSTALLER_SHA256 (cluster.k3sInstallerSha256); not running it\" >&2",
    "  rm -f \"$INSTALLER\"",
    "  exit 1",
    "fi",
    "# The installer downloads the k3s binary once, without retrying; rerunning it is safe.",
    "attempt=1",
    `until INSTALL_K3S_VERSION='${node.k3sVersion}' INSTALL_K3S_EXEC='${role}' sh "$INSTALLER"; do`,
    `  [ "$attempt" -lt ${INSTALL_ATTEMPTS} ] || { echo "k3s installer failed $attempt times" >&2; exit 1; }`,
    "  attempt=$((attempt + 1))",
    "  sleep 15",
    "done",
    "rm -f \"$INSTALLER\"",
    "",
  ].join("\n");
}

type File = { path: string; content: string; permissions: string };

/** Every node, server or agent, blocks its pods from the metadata service (metadata-guard.ts). */
function metadataGuardFiles(role: "server" | "agent"): File[] {
  return [
    { path: METADATA_GUARD_SCRIPT, permissions: "0700", content: metadataGuardScript() },
    { path: `/etc/systemd/system/${METADATA_GUARD_UNIT}`, permissions: "0644", content: metadataGuardUnit() },
    { path: `/etc/systemd/system/${k3sUnit(role)}.d/10-metadata-guard.conf`, permissions: "0644", content: k3sGuardDropIn() },
  ];
}

function cloudConfig(files: File[], role: "server" | "agent"): string {
  const sysctl: File = { path: KUBELET_SYSCTL_PATH, permissions: "0644", content: kubeletSysctlConf() };
  const doc = {
    write_files: [...files, sysctl, ...metadataGuardFiles(role)].map((f) => ({ path: f.path, permissions: f.permissions, owner: "root:root", content: f.content })),
    // The kernel settings hold before the kubelet checks them (protect-kernel-defaults: systemd-sysctl
    // ran before cloud-init wrote the file on this first boot), and the guard is up before the first pod.
    runcmd: [["systemctl", "daemon-reload"], ["sysctl", "-p", KUBELET_SYSCTL_PATH], ["systemctl", "enable", "--now", METADATA_GUARD_UNIT], [INSTALL_SCRIPT]],
  };
  return `#cloud-config\n# mindroom k3s ${role}\n${stringify(doc, { lineWidth: 0 })}`;
}

/** The k3s server's `/etc/rancher/k3s/config.yaml` (flag names without dashes). */
export function serverK3sConfig(node: ServerNode): Record<string, unknown> {
  return {
    token: node.token,
    "agent-token": node.agentToken,
    "node-ip": node.nodeIp,
    "advertise-address": node.nodeIp,
    "tls-san": node.tlsSans,
    "disable-cloud-controller": true,
    disable: DISABLED_COMPONENTS,
    "kubelet-arg": ["cloud-provider=external", ...KUBELET_RESERVED],
    "cluster-cidr": CLUSTER_CIDR,
    "service-cidr": SERVICE_CIDR,
    "cluster-dns": CLUSTER_DNS,
    "flannel-backend": "vxlan",
    "write-kubeconfig-mode": "0600",
    "node-label": nodeLabels(node.labels),
    "node-taint": node.taints,
    // Hardening (hardening.ts, docs/cluster.md "k3s hardening"): Secrets encrypted at rest with a
    // key k3s generates at first start; Pod Security defaults, audit log, DenyServiceExternalIPs.
    "secrets-encryption": true,
    "protect-kernel-defaults": true,
    "kube-apiserver-arg": kubeApiserverArgs(),
  };
}

export function agentK3sConfig(node: AgentNode): Record<string, unknown> {
  return {
    server: `https://${CONTROL_PLANE_IP}:6443`,
    token: agentJoinToken(node.agentToken, node.serverCaCert),
    "node-ip": node.nodeIp,
    "kubelet-arg": ["cloud-provider=external", ...KUBELET_RESERVED],
    "node-label": nodeLabels(node.labels),
    "node-taint": node.taints,
    "protect-kernel-defaults": true,
  };
}

export function serverUserData(node: ServerNode): string {
  return cloudConfig(
    [
      { path: "/etc/rancher/k3s/config.yaml", permissions: "0600", content: stringify(serverK3sConfig(node)) },
      { path: `${K3S_TLS_DIR}/server-ca.crt`, permissions: "0644", content: node.pki.serverCaCert },
      { path: `${K3S_TLS_DIR}/server-ca.key`, permissions: "0600", content: node.pki.serverCaKey },
      { path: `${K3S_TLS_DIR}/client-ca.crt`, permissions: "0644", content: node.pki.clientCaCert },
      { path: `${K3S_TLS_DIR}/client-ca.key`, permissions: "0600", content: node.pki.clientCaKey },
      { path: ADMISSION_CONFIG_PATH, permissions: "0600", content: yamlFile(admissionConfiguration()) },
      { path: AUDIT_POLICY_PATH, permissions: "0600", content: yamlFile(auditPolicy()) },
      { path: INSTALL_SCRIPT, permissions: "0700", content: installScript("server", node) },
    ],
    "server",
  );
}

export function agentUserData(node: AgentNode): string {
  return cloudConfig(
    [
      { path: "/etc/rancher/k3s/config.yaml", permissions: "0600", content: stringify(agentK3sConfig(node)) },
      { path: INSTALL_SCRIPT, permissions: "0700", content: installScript("agent", node) },
    ],
    "agent",
  );
}
