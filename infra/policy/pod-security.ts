/**
 * Pod Security Standards as policy checks over a workload's pod template (docs/policy.md).
 *
 * - `baselineViolations`: every check of the PSS `baseline` level (the level the project's
 *   namespaces and the k3s defaults enforce, infra/pod-security.ts), for every workload.
 * - `restrictedViolations`: the `restricted` items every workload the project renders meets,
 *   required of every workload except the documented exceptions below (RESTRICTED_EXCEPTIONS),
 *   each of which may skip only the named items.
 *
 * The checks follow the PSS definitions (kubernetes.io/docs/concepts/security/pod-security-standards,
 * policy version v1.31): containers means init, regular and ephemeral containers.
 */
import { containerRef, containersOf, labelsOf, podTemplateOf, type KubeObject, type Obj } from "./kube";
import { TENANT_NAMESPACE } from "../tenant-names";

/** The capabilities `baseline` allows a container to add (PSS "Capabilities"). */
export const BASELINE_CAPABILITIES = new Set([
  "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE",
  "SETFCAP", "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
]);

/** The namespaced sysctls `baseline` allows (PSS "Sysctls", v1.31). */
export const SAFE_SYSCTLS = new Set([
  "kernel.shm_rmid_forced", "net.ipv4.ip_local_port_range", "net.ipv4.ip_unprivileged_port_start",
  "net.ipv4.tcp_syncookies", "net.ipv4.ping_group_range", "net.ipv4.ip_local_reserved_ports",
  "net.ipv4.tcp_keepalive_time", "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_keepalive_intvl",
  "net.ipv4.tcp_keepalive_probes",
]);

/** SELinux types `baseline` allows (PSS "SELinux"); user and role must stay unset. */
const SELINUX_TYPES = new Set(["", "container_t", "container_init_t", "container_kvm_t", "container_engine_t"]);

/** The volume types `restricted` allows (PSS "Volume Types"). */
export const RESTRICTED_VOLUME_TYPES = new Set(["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"]);

const APPARMOR_ANNOTATION = "container.apparmor.security.beta.kubernetes.io/";
const SECCOMP_POD_ANNOTATION = "seccomp.security.alpha.kubernetes.io/pod";
const SECCOMP_CONTAINER_ANNOTATION = "container.seccomp.security.alpha.kubernetes.io/";

/** Every PSS `baseline` check the pod template of `obj` fails; [] for objects without one. */
export function baselineViolations(obj: KubeObject): string[] {
  const template = podTemplateOf(obj);
  if (!template) return [];
  const { spec, metadata } = template;
  const out: string[] = [];
  const podSc: Obj = spec.securityContext ?? {};
  const containers = containersOf(spec);

  // HostProcess
  if (podSc.windowsOptions?.hostProcess === true) out.push("baseline: pod securityContext.windowsOptions.hostProcess must not be true");
  // Host namespaces
  for (const field of ["hostNetwork", "hostPID", "hostIPC"]) {
    if (spec[field] === true) out.push(`baseline: host namespaces: ${field} must not be true`);
  }
  // HostPath volumes
  for (const v of (spec.volumes ?? []) as Obj[]) {
    if (v.hostPath !== undefined) out.push(`baseline: hostPath volume "${v.name}" is not allowed`);
  }
  for (const at of containers) {
    const { c } = at;
    const sc: Obj = c.securityContext ?? {};
    const who = containerRef(at);
    if (sc.windowsOptions?.hostProcess === true) out.push(`baseline: ${who} securityContext.windowsOptions.hostProcess must not be true`);
    // Privileged containers
    if (sc.privileged === true) out.push(`baseline: ${who} must not set securityContext.privileged=true`);
    // Capabilities
    const added = ((sc.capabilities?.add ?? []) as string[]).filter((cap) => !BASELINE_CAPABILITIES.has(cap));
    if (added.length > 0) out.push(`baseline: ${who} adds capabilities beyond the baseline set: ${added.join(", ")}`);
    // Host ports
    for (const p of (c.ports ?? []) as Obj[]) {
      if (p.hostPort !== undefined && p.hostPort !== 0) out.push(`baseline: ${who} uses hostPort ${p.hostPort}`);
    }
    // /proc mount type
    if (sc.procMount !== undefined && sc.procMount !== "Default") out.push(`baseline: ${who} sets procMount ${sc.procMount}`);
    out.push(...seLinuxViolations(sc.seLinuxOptions, who));
    if (sc.seccompProfile?.type === "Unconfined") out.push(`baseline: ${who} sets seccompProfile.type Unconfined`);
    if (sc.appArmorProfile?.type === "Unconfined") out.push(`baseline: ${who} sets appArmorProfile.type Unconfined`);
  }
  out.push(...seLinuxViolations(podSc.seLinuxOptions, "pod"));
  // Seccomp
  if (podSc.seccompProfile?.type === "Unconfined") out.push("baseline: pod sets seccompProfile.type Unconfined");
  // AppArmor
  if (podSc.appArmorProfile?.type === "Unconfined") out.push("baseline: pod sets appArmorProfile.type Unconfined");
  for (const [key, value] of Object.entries((metadata.annotations ?? {}) as Record<string, string>)) {
    if (key.startsWith(APPARMOR_ANNOTATION) && value !== "runtime/default" && !value.startsWith("localhost/")) {
      out.push(`baseline: annotation ${key}=${value}: AppArmor must be runtime/default or localhost/*`);
    }
    if ((key === SECCOMP_POD_ANNOTATION || key.startsWith(SECCOMP_CONTAINER_ANNOTATION)) && value === "unconfined") {
      out.push(`baseline: annotation ${key}=unconfined is not allowed`);
    }
  }
  // Sysctls
  for (const s of (podSc.sysctls ?? []) as Obj[]) {
    if (!SAFE_SYSCTLS.has(s.name)) out.push(`baseline: sysctl ${s.name} is not in the safe set`);
  }
  return out;
}

function seLinuxViolations(options: Obj | undefined, who: string): string[] {
  if (!options) return [];
  const out: string[] = [];
  if (!SELINUX_TYPES.has(options.type ?? "")) out.push(`baseline: ${who} seLinuxOptions.type ${options.type} is not allowed`);
  if (options.user) out.push(`baseline: ${who} must not set seLinuxOptions.user`);
  if (options.role) out.push(`baseline: ${who} must not set seLinuxOptions.role`);
  return out;
}

/** The `restricted` items this policy requires; an exception names the ones a workload may skip. */
export type RestrictedItem = "volumeTypes" | "allowPrivilegeEscalation" | "runAsNonRoot" | "runAsUser" | "seccomp" | "capabilities";

export interface RestrictedException {
  kind: string;
  /** Exact namespace, a pattern, or any namespace when absent. */
  namespace?: string | RegExp;
  name: RegExp;
  /** Labels the pod template must carry too (narrows a name pattern to the workload meant). */
  templateLabels?: Record<string, string>;
  /** Only these (init) containers may skip `skip`; the pod's other containers and its own items stay checked. */
  containers?: RegExp;
  skip: RestrictedItem[];
  /** Where the exception and its reason are documented. */
  doc: string;
}

/**
 * The documented exceptions (the "Pod Security" tables of docs/instance.md, docs/platform.md and
 * docs/runtime.md; test/engine/pod-security.test.ts shows they are the only `restricted` findings
 * on a real API server). Every other workload must meet all of `RestrictedItem`.
 */
export const RESTRICTED_EXCEPTIONS: RestrictedException[] = [
  {
    // Stock matrixdotorg/synapse: its start script runs as root, `chown -R 991:991 /data` (CHOWN,
    // DAC_OVERRIDE), then switches to uid 991 with su-exec (SETUID, SETGID), so neither
    // runAsNonRoot nor dropping ALL is possible. With synapseImageRunsAsNonRoot it meets both
    // anyway; the exception only allows, it never requires.
    kind: "Deployment",
    namespace: TENANT_NAMESPACE,
    name: /^synapse-.+$/,
    templateLabels: { app: "synapse" },
    skip: ["runAsNonRoot", "capabilities"],
    doc: "docs/instance.md#pod-security",
  },
  {
    // platform-backend: the image has no USER and runs as root; it reads its Secret files, mounted
    // with upstream's mode 0400 (owner root), and kubectl/helm keep state under /root. It still
    // drops ALL, so root holds no capabilities.
    kind: "Deployment",
    namespace: /^mindroom-/,
    name: /^platform-backend$/,
    skip: ["runAsNonRoot"],
    doc: "docs/platform.md#pod-security",
  },
  {
    // The runtime's event-cache PostgreSQL (postgres:17): the official image starts as root, fixes
    // PGDATA's ownership and switches to uid 999 with gosu (CHOWN, DAC_OVERRIDE, FOWNER, SETUID,
    // SETGID); its arbitrary-user mode breaks on existing Helm-era data directories.
    kind: "StatefulSet",
    name: /-event-cache-postgres$/,
    templateLabels: { "app.kubernetes.io/component": "event-cache-postgres" },
    skip: ["runAsNonRoot", "capabilities"],
    doc: "docs/runtime.md#pod-security",
  },
  {
    // stateStorage's root init container: it chowns and chmods a volume another user owns (CHOWN,
    // FOWNER, DAC_OVERRIDE) before the runtime starts; the runtime's own containers stay restricted.
    kind: "Deployment",
    name: /./,
    templateLabels: { "app.kubernetes.io/component": "runtime" },
    containers: /^prepare-state-storage$/,
    skip: ["runAsNonRoot", "runAsUser", "capabilities"],
    doc: "docs/runtime.md#pod-security",
  },
  {
    // Agent Vault server: upstream sets neither runAsNonRoot nor a seccomp profile and the image's
    // user is not known here; the operator sets server.podSecurityContext once it is.
    kind: "Deployment",
    name: /./,
    templateLabels: { "app.kubernetes.io/component": "agent-vault" },
    skip: ["runAsNonRoot", "seccomp"],
    doc: "docs/runtime.md#pod-security",
  },
  {
    // Agent Vault's Jobs: upstream has no securityContext values for them (bootstrap: none at all;
    // grants: the runtime container's); short-lived, no host paths.
    kind: "Job",
    name: /./,
    templateLabels: { "app.kubernetes.io/component": "agent-vault-access-grants" },
    skip: ["runAsNonRoot", "seccomp"],
    doc: "docs/runtime.md#pod-security",
  },
  {
    kind: "Job",
    name: /./,
    templateLabels: { "app.kubernetes.io/component": "agent-vault-bootstrap" },
    skip: ["runAsNonRoot", "seccomp", "allowPrivilegeEscalation", "capabilities"],
    doc: "docs/runtime.md#pod-security",
  },
];

const matches = (pattern: string | RegExp | undefined, value: string | undefined) =>
  pattern === undefined || (typeof pattern === "string" ? pattern === value : value !== undefined && pattern.test(value));

/**
 * The items `obj` may skip: those of every exception it matches. With `container`, also those of
 * exceptions scoped to that container's name; without, only unscoped ones (the pod's own items).
 */
export function restrictedSkips(obj: KubeObject, exceptions: RestrictedException[] = RESTRICTED_EXCEPTIONS, container?: string): Set<RestrictedItem> {
  const skips = new Set<RestrictedItem>();
  const template = podTemplateOf(obj);
  for (const e of exceptions) {
    if (e.kind !== obj.kind || !matches(e.namespace, obj.metadata?.namespace) || !matches(e.name, obj.metadata?.name)) continue;
    if (e.containers && (container === undefined || !e.containers.test(container))) continue;
    const labels = labelsOf(template);
    if (e.templateLabels && !Object.entries(e.templateLabels).every(([k, v]) => labels[k] === v)) continue;
    for (const item of e.skip) skips.add(item);
  }
  return skips;
}

/** The `restricted` items the pod template of `obj` fails, less the ones its exception allows. */
export function restrictedViolations(obj: KubeObject, exceptions: RestrictedException[] = RESTRICTED_EXCEPTIONS): string[] {
  const template = podTemplateOf(obj);
  if (!template) return [];
  const { spec } = template;
  const podSkip = restrictedSkips(obj, exceptions);
  const podSc: Obj = spec.securityContext ?? {};
  const containers = containersOf(spec);
  const out: string[] = [];
  const check = (skip: Set<RestrictedItem>) => (item: RestrictedItem, message: string) => {
    if (!skip.has(item)) out.push(`restricted: ${message}`);
  };
  let add = check(podSkip);

  for (const v of (spec.volumes ?? []) as Obj[]) {
    const types = Object.keys(v).filter((k) => k !== "name");
    const bad = types.filter((t) => !RESTRICTED_VOLUME_TYPES.has(t));
    if (bad.length > 0) add("volumeTypes", `volume "${v.name}" has type ${bad.join(", ")}; allowed: ${[...RESTRICTED_VOLUME_TYPES].join(", ")}`);
  }
  if (podSc.runAsUser === 0) add("runAsUser", "pod securityContext.runAsUser must not be 0");
  const podSeccomp = podSc.seccompProfile?.type;
  const podSeccompOk = podSeccomp === "RuntimeDefault" || podSeccomp === "Localhost";
  for (const at of containers) {
    add = check(restrictedSkips(obj, exceptions, at.c.name as string));
    const sc: Obj = at.c.securityContext ?? {};
    const who = containerRef(at);
    if (sc.allowPrivilegeEscalation !== false) add("allowPrivilegeEscalation", `${who} must set securityContext.allowPrivilegeEscalation=false`);
    // runAsNonRoot: the container's own setting wins over the pod's.
    const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
    if (nonRoot !== true) add("runAsNonRoot", `${who} must run with runAsNonRoot=true (pod or container securityContext)`);
    if (sc.runAsUser === 0) add("runAsUser", `${who} securityContext.runAsUser must not be 0`);
    const seccomp = sc.seccompProfile?.type;
    if (seccomp === undefined ? !podSeccompOk : seccomp !== "RuntimeDefault" && seccomp !== "Localhost") {
      add("seccomp", `${who} must run with seccompProfile.type RuntimeDefault or Localhost (pod or container securityContext)`);
    }
    const drop = (sc.capabilities?.drop ?? []) as string[];
    if (!drop.includes("ALL")) add("capabilities", `${who} must drop ALL capabilities`);
    const added = ((sc.capabilities?.add ?? []) as string[]).filter((cap) => cap !== "NET_BIND_SERVICE");
    if (added.length > 0) add("capabilities", `${who} may add only NET_BIND_SERVICE, adds ${added.join(", ")}`);
  }
  return out;
}
