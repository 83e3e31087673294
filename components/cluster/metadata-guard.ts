/**
 * Node-level block between pods and the Hetzner metadata service. The service hands this server's
 * user-data (k3s join tokens; on the control plane also both CA keys) to anything that asks, so a
 * pod that can reach it is cluster admin. The tenant NetworkPolicy covers tenant pods only; this
 * rule covers every pod on the pod network, whatever its namespace or policy.
 */
import { CLUSTER_CIDR } from "./network";

export const METADATA_ADDRESS = "169.254.169.254/32";
export const METADATA_GUARD_SCRIPT = "/usr/local/bin/mindroom-metadata-guard.sh";
export const METADATA_GUARD_UNIT = "mindroom-metadata-guard.service";

/**
 * The rule, as `iptables -t raw` arguments after the chain. raw/PREROUTING sees a pod's packet
 * before any filter chain, and neither flannel, kube-router (the k3s policy controller) nor
 * kube-proxy write to the raw table, so their rule rewrites cannot reorder it away. It matches
 * only packets arriving from the pod CIDR: hostNetwork pods (the CCM, the CSI node plugin) and the
 * node itself send from the host (the OUTPUT path) and keep access. raw runs before kube-proxy's
 * DNAT, so a Service whose endpoint were the metadata address would slip past; the API server
 * rejects link-local endpoint addresses, so no such Service can exist.
 */
export const METADATA_GUARD_RULE = ["-s", CLUSTER_CIDR, "-d", METADATA_ADDRESS, "-m", "comment", "--comment", "mindroom-metadata-guard", "-j", "DROP"];

/** Idempotent: `-C` finds the rule after a rerun of the unit, so it is never inserted twice. */
export function metadataGuardScript(): string {
  return [
    "#!/bin/sh",
    "set -eu",
    "# IPv4 only: pods get no IPv6 addresses here (cluster-cidr is IPv4 only). Add the same rule",
    "# with ip6tables if the cluster ever becomes dual-stack.",
    `RULE='${METADATA_GUARD_RULE.join(" ")}'`,
    "# $RULE is split into arguments on purpose.",
    "iptables -t raw -C PREROUTING $RULE 2>/dev/null || iptables -t raw -I PREROUTING $RULE",
    "",
  ].join("\n");
}

/**
 * Runs at every boot before k3s, so the rule exists before the first pod starts and survives
 * reboots (iptables rules themselves are not persisted).
 */
export function metadataGuardUnit(): string {
  return [
    "[Unit]",
    "Description=Drop pod traffic to the Hetzner metadata service (its user-data holds k3s secrets)",
    "Before=k3s.service k3s-agent.service",
    "",
    "[Service]",
    "Type=oneshot",
    "RemainAfterExit=yes",
    `ExecStart=${METADATA_GUARD_SCRIPT}`,
    "",
    "[Install]",
    "WantedBy=multi-user.target",
    "",
  ].join("\n");
}

/** k3s's unit name per role (the installer's names). */
export const k3sUnit = (role: "server" | "agent") => (role === "server" ? "k3s.service" : "k3s-agent.service");

/**
 * Drop-in for the k3s unit: k3s (and so every pod) does not start if the guard failed, at first
 * boot or any later one. Failing closed beats running pods that can read the cluster's secrets.
 */
export function k3sGuardDropIn(): string {
  return ["[Unit]", `Requires=${METADATA_GUARD_UNIT}`, `After=${METADATA_GUARD_UNIT}`, ""].join("\n");
}
