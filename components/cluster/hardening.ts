/**
 * k3s hardening the user-data installs (docs/cluster.md, "k3s hardening"): the Pod Security
 * admission defaults, the API audit policy and log rotation, DenyServiceExternalIPs, and the kernel
 * settings `protect-kernel-defaults` checks. Pure data; cloud-init.ts writes it to the nodes, and
 * test/engine/k3s-hardening.test.ts starts a real kube-apiserver with exactly these files and flags.
 */
import { stringify } from "yaml";
import { POD_SECURITY_LEVELS, POD_SECURITY_VERSION } from "../../infra/pod-security";
import { INGRESS_NAMESPACE } from "../cluster-services/specs";

/** k3s's server data directory; k3s creates it, cloud-init's write_files creates it earlier. */
export const K3S_SERVER_DIR = "/var/lib/rancher/k3s/server";
export const ADMISSION_CONFIG_PATH = `${K3S_SERVER_DIR}/psa.yaml`;
export const AUDIT_POLICY_PATH = `${K3S_SERVER_DIR}/audit.yaml`;
/** kube-apiserver creates the directory (mode 0700) and the file (0600) itself. */
export const AUDIT_LOG_PATH = `${K3S_SERVER_DIR}/logs/audit.log`;
export const KUBELET_SYSCTL_PATH = "/etc/sysctl.d/90-kubelet.conf";

/**
 * Namespaces the Pod Security defaults do not apply to, because what runs there needs more than
 * `baseline` allows and belongs to the cluster, not to tenants:
 * - `kube-system`: the Hetzner CSI node plugin (privileged, hostPath mounts of the kubelet and
 *   device directories, host network), the Hetzner CCM (host network), and k3s's own pods.
 * - `ingress-nginx`: the controller DaemonSet binds host ports 80/443 (cluster-services/specs.ts).
 * Only cluster admins (the stack) create pods there; no tenant and no provisioner RBAC reaches them.
 * cert-manager's namespace is not exempt: its pods pass `baseline`.
 */
export const PSA_EXEMPT_NAMESPACES = ["kube-system", INGRESS_NAMESPACE];

/**
 * The PodSecurity plugin's cluster-wide defaults: the same levels as the labels of the namespaces
 * the project creates (infra/pod-security.ts), for every namespace without its own labels (the
 * runtime's release namespace, `default`, cert-manager, …). Labels on a namespace override these.
 */
export function admissionConfiguration(): Record<string, unknown> {
  return {
    apiVersion: "apiserver.config.k8s.io/v1",
    kind: "AdmissionConfiguration",
    plugins: [
      {
        name: "PodSecurity",
        configuration: {
          apiVersion: "pod-security.admission.config.k8s.io/v1",
          kind: "PodSecurityConfiguration",
          defaults: {
            enforce: POD_SECURITY_LEVELS.enforce,
            "enforce-version": POD_SECURITY_VERSION,
            audit: POD_SECURITY_LEVELS.audit,
            "audit-version": "latest",
            warn: POD_SECURITY_LEVELS.warn,
            "warn-version": "latest",
          },
          exemptions: { usernames: [], runtimeClasses: [], namespaces: PSA_EXEMPT_NAMESPACES },
        },
      },
    ],
  };
}

/**
 * What the API server records (first matching rule wins). Writes are kept with their request
 * body, so a change can be traced to who made it and what it set; reads only as metadata. Objects
 * that carry credentials (Secrets, ConfigMaps, token requests and reviews) are never logged with a
 * body, so the log holds no secret value. Health probes, leader-election leases and Events, which
 * arrive every few seconds and say nothing about access, are not logged.
 */
export function auditPolicy(): Record<string, unknown> {
  return {
    apiVersion: "audit.k8s.io/v1",
    kind: "Policy",
    omitStages: ["RequestReceived"],
    rules: [
      { level: "None", nonResourceURLs: ["/healthz*", "/livez*", "/readyz*", "/version", "/metrics"] },
      {
        level: "None",
        resources: [
          { group: "coordination.k8s.io", resources: ["leases"] },
          { group: "", resources: ["events"] },
          { group: "events.k8s.io", resources: ["events"] },
        ],
      },
      {
        level: "Metadata",
        resources: [
          { group: "", resources: ["secrets", "configmaps", "serviceaccounts/token"] },
          { group: "authentication.k8s.io", resources: ["tokenreviews"] },
        ],
      },
      { level: "Request", verbs: ["create", "update", "patch", "delete", "deletecollection"] },
      { level: "Metadata" },
    ],
  };
}

/** Rotation: a new file every 100 MB, at most 10 old files, none older than 30 days (~1.1 GB at most). */
export const AUDIT_LOG_ROTATION = { maxage: 30, maxbackup: 10, maxsize: 100 };

/**
 * `kube-apiserver-arg` entries. k3s passes `--enable-admission-plugins=NodeRestriction` itself and
 * a user value replaces its own (k3s `config.GetArgs`), so NodeRestriction is listed again.
 * kube-apiserver enables these in addition to its default-on plugins (PodSecurity among them).
 * DenyServiceExternalIPs refuses any Service with `spec.externalIPs` (CVE-2020-8554: whoever may
 * create a Service could otherwise capture traffic to any address); nothing here uses them.
 */
export function kubeApiserverArgs(): string[] {
  return [
    "enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs",
    `admission-control-config-file=${ADMISSION_CONFIG_PATH}`,
    `audit-policy-file=${AUDIT_POLICY_PATH}`,
    `audit-log-path=${AUDIT_LOG_PATH}`,
    `audit-log-maxage=${AUDIT_LOG_ROTATION.maxage}`,
    `audit-log-maxbackup=${AUDIT_LOG_ROTATION.maxbackup}`,
    `audit-log-maxsize=${AUDIT_LOG_ROTATION.maxsize}`,
  ];
}

/**
 * With `protect-kernel-defaults` the kubelet refuses to start unless these kernel settings already
 * have exactly the values it would otherwise set itself (kubelet `setupKernelTunables`); k3s's CIS
 * guide lists the first four, the two key quotas are the kernel's defaults, stated so the check
 * cannot depend on the image. The file is applied before k3s starts (cloud-init runcmd) and by
 * systemd-sysctl at every boot.
 */
export const KUBELET_SYSCTLS: Record<string, number> = {
  "vm.panic_on_oom": 0,
  "vm.overcommit_memory": 1,
  "kernel.panic": 10,
  "kernel.panic_on_oops": 1,
  "kernel.keys.root_maxkeys": 1000000,
  "kernel.keys.root_maxbytes": 25000000,
};

export function kubeletSysctlConf(): string {
  return [
    "# mindroom: the values the kubelet expects with protect-kernel-defaults (docs/cluster.md)",
    ...Object.entries(KUBELET_SYSCTLS).map(([k, v]) => `${k}=${v}`),
    "",
  ].join("\n");
}

export const yamlFile = (doc: Record<string, unknown>) => stringify(doc, { lineWidth: 0 });
