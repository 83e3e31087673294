/**
 * Pod Security Admission levels of the namespaces this project owns, and the cluster-wide defaults
 * k3s applies to every other namespace (components/cluster/cloud-init.ts, the AdmissionConfiguration).
 * One home, so the namespace labels and the k3s defaults cannot drift apart (docs/cluster.md,
 * "Pod Security").
 *
 * - enforce `baseline`: refuses privileged pods, host namespaces, hostPath volumes, host ports and
 *   added capabilities. Every workload the project renders passes it (test/engine/pod-security.test.ts).
 * - warn and audit `restricted`: what still runs as root or keeps capabilities is reported on every
 *   apply (warnings) and in the audit log, not refused; docs/*.md list the workloads and why.
 */

/**
 * The enforce level's policy version: the minor of the k3s release the cluster installs
 * (`DEFAULT_K3S_VERSION`, a test keeps them equal). Pinned so a k3s upgrade cannot tighten what is
 * enforced unnoticed; warn and audit follow the newest version (unset = `latest`), so the warnings
 * already show what a newer policy would add. Bump it together with the k3s minor.
 */
export const POD_SECURITY_VERSION = "v1.31";

export const POD_SECURITY_LEVELS = { enforce: "baseline", warn: "restricted", audit: "restricted" } as const;

/** The `pod-security.kubernetes.io/*` labels of a namespace the project creates. */
export function podSecurityLabels(): Record<string, string> {
  return {
    "pod-security.kubernetes.io/enforce": POD_SECURITY_LEVELS.enforce,
    "pod-security.kubernetes.io/enforce-version": POD_SECURITY_VERSION,
    "pod-security.kubernetes.io/warn": POD_SECURITY_LEVELS.warn,
    "pod-security.kubernetes.io/audit": POD_SECURITY_LEVELS.audit,
  };
}
