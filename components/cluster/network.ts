/**
 * Address plan, as kube-hetzner lays it out (cluster.md §3): one 10.0.0.0/8 network, a /16 per
 * pool (control plane from index 255 down, agent pools from 0 up), nodes from .101.
 */
export const NETWORK_CIDR = "10.0.0.0/8";
export const CLUSTER_CIDR = "10.42.0.0/16";
export const SERVICE_CIDR = "10.43.0.0/16";
export const CLUSTER_DNS = "10.43.0.10";
export const CONTROL_PLANE_SUBNET = "10.255.0.0/16";
/** Fixed, so agents and the kubeconfig know the API's private address before the server exists. */
export const CONTROL_PLANE_IP = "10.255.0.101";

export function agentSubnet(poolIndex: number): string {
  return `10.${poolIndex}.0.0/16`;
}

export function agentIp(poolIndex: number, node: number): string {
  return `10.${poolIndex}.0.${101 + node}`;
}
