/**
 * `K3sCluster`: k3s on Hetzner Cloud. Private network, spread placement groups, firewall, a
 * control-plane server with a stable Primary IP, optional agent pools and load balancer, k3s
 * installed by cloud-init, and an admin kubeconfig built in Pulumi from CAs this stack owns.
 */
import * as hcloud from "@pulumi/hcloud";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { IngressExposure } from "../cluster-services/specs";
import { ApiReady } from "./api-ready";
import { parseClusterArgs, type K3sClusterConfig, type K3sClusterInput } from "./args";
import { agentUserData, serverUserData } from "./cloud-init";
import { firewallRules } from "./firewall";
import { buildKubeconfig } from "./kubeconfig";
import { agentIp, agentSubnet, CONTROL_PLANE_IP, CONTROL_PLANE_SUBNET, NETWORK_CIDR } from "./network";
import { ClusterPki } from "./pki-resource";

export { k3sClusterSchema, parseClusterArgs, DEFAULT_K3S_VERSION, type K3sClusterInput, type K3sClusterConfig } from "./args";

/** Hetzner ids are strings in Pulumi outputs but numbers in most inputs (cluster.md §16.2). */
const numericId = (id: pulumi.Output<string>) => id.apply(Number);

/** How ingress-nginx must be exposed on this cluster; `ClusterServices` takes it as is. */
export type { IngressExposure };

export class K3sCluster extends pulumi.ComponentResource {
  /** Admin kubeconfig (secret): cluster-admin through the `system:masters` client certificate. */
  readonly kubeconfig: pulumi.Output<string>;
  /** Public IPv4 of the control plane (a Primary IP, kept when the server is replaced). */
  readonly controlPlaneIpv4: pulumi.Output<string>;
  /** Where DNS for the ingress hosts must point: the load balancer, else the control plane. */
  readonly ingressIpv4: pulumi.Output<string>;
  readonly networkId: pulumi.Output<string>;
  readonly networkName: pulumi.Output<string>;
  readonly adminCertNotAfter: pulumi.Output<string>;
  readonly ingressExposure: IngressExposure;
  /** The parsed arguments with defaults applied. */
  readonly config: K3sClusterConfig;

  constructor(name: string, args: K3sClusterInput, opts?: pulumi.ComponentResourceOptions) {
    const cfg = parseClusterArgs(args);
    super("mindroom:cluster:K3sCluster", name, {}, opts);
    this.config = cfg;
    this.ingressExposure = cfg.loadBalancer.enabled ? "loadBalancer" : "hostPort";
    const parent = { parent: this };
    const labels = (extra: Record<string, string> = {}) => ({ cluster: cfg.name, "managed-by": "pulumi", ...extra });
    const protection = { deleteProtection: cfg.deleteProtection };

    const network = new hcloud.Network(`${name}-network`, { name: cfg.name, ipRange: NETWORK_CIDR, labels: labels(), ...protection }, parent);
    const networkId = numericId(network.id);
    const subnet = (id: string, ipRange: string) =>
      new hcloud.NetworkSubnet(id, { networkId, type: "cloud", networkZone: cfg.networkZone, ipRange }, parent);
    const cpSubnet = subnet(`${name}-control-plane`, CONTROL_PLANE_SUBNET);

    const placement = (id: string, pool: string) =>
      new hcloud.PlacementGroup(id, { name: `${cfg.name}-${pool}`, type: "spread", labels: labels({ pool }) }, parent);
    const sshKeys = cfg.sshPublicKey
      ? [new hcloud.SshKey(`${name}-ssh`, { name: cfg.name, publicKey: cfg.sshPublicKey, labels: labels() }, parent).id]
      : [];
    const firewall = new hcloud.Firewall(`${name}-firewall`, { name: cfg.name, labels: labels(), rules: firewallRules(cfg.adminCidrs) }, parent);
    const firewallIds = [numericId(firewall.id)];

    const pki = new ClusterPki(`${name}-pki`, { clusterName: cfg.name, adminCertGeneration: cfg.adminCertGeneration, adminValidityDays: cfg.adminCertValidityDays }, parent);
    const token = new random.RandomPassword(`${name}-server-token`, { length: 48, special: false }, parent);
    const agentToken = new random.RandomPassword(`${name}-agent-token`, { length: 48, special: false }, parent);

    const apiIp = new hcloud.PrimaryIp(
      `${name}-api-ip`,
      { name: `${cfg.name}-api`, type: "ipv4", location: cfg.location, assigneeType: "server", autoDelete: false, labels: labels(), ...protection },
      parent,
    );
    this.controlPlaneIpv4 = apiIp.ipAddress;
    const apiHost = cfg.apiHostname ? pulumi.output(cfg.apiHostname) : apiIp.ipAddress;

    const serverOptions = (dependsOn: pulumi.Resource[]): pulumi.CustomResourceOptions => ({
      parent: this,
      dependsOn,
      // user-data is read only at first boot; a changed token/version must not replace a node.
      ignoreChanges: ["userData", "image", "sshKeys"],
    });
    const common = {
      image: cfg.image,
      location: cfg.location,
      sshKeys,
      firewallIds,
      backups: cfg.backups,
      deleteProtection: cfg.deleteProtection,
      rebuildProtection: cfg.deleteProtection,
    };

    const controlPlane = new hcloud.Server(
      `${name}-control-plane`,
      {
        ...common,
        name: `${cfg.name}-control-plane`,
        serverType: cfg.controlPlane.serverType,
        placementGroupId: numericId(placement(`${name}-control-plane-placement`, "control-plane").id),
        networks: [{ networkId, ip: CONTROL_PLANE_IP }],
        publicNets: [{ ipv4Enabled: true, ipv4: numericId(apiIp.id), ipv6Enabled: true }],
        labels: labels({ role: "control-plane", pool: "control-plane" }),
        userData: pulumi
          .all([token.result, agentToken.result, pki.serverCaCert, pki.serverCaKey, pki.clientCaCert, pki.clientCaKey, apiIp.ipAddress])
          .apply(([t, at, serverCaCert, serverCaKey, clientCaCert, clientCaKey, ip]) =>
            serverUserData({
              k3sVersion: cfg.k3sVersion,
              installerSha256: cfg.k3sInstallerSha256,
              nodeIp: CONTROL_PLANE_IP,
              labels: cfg.controlPlane.labels,
              taints: cfg.controlPlane.taints,
              token: t,
              agentToken: at,
              tlsSans: [ip, ...(cfg.apiHostname ? [cfg.apiHostname] : []), CONTROL_PLANE_IP],
              pki: { serverCaCert, serverCaKey, clientCaCert, clientCaKey },
            }),
          )
          .apply(pulumi.secret),
      },
      serverOptions([cpSubnet]),
    );

    const nodes = [{ id: `${name}-control-plane`, server: controlPlane }];
    cfg.agentPools.forEach((pool, poolIndex) => {
      if (pool.count === 0) return;
      const poolSubnet = subnet(`${name}-${pool.name}`, agentSubnet(poolIndex));
      const group = numericId(placement(`${name}-${pool.name}-placement`, pool.name).id);
      for (let n = 0; n < pool.count; n++) {
        const ip = agentIp(poolIndex, n);
        const id = `${name}-${pool.name}-${n + 1}`;
        nodes.push({
          id,
          server: new hcloud.Server(
            id,
            {
              ...common,
              name: `${cfg.name}-${pool.name}-${n + 1}`,
              serverType: pool.serverType,
              placementGroupId: group,
              networks: [{ networkId, ip }],
              publicNets: [{ ipv4Enabled: true, ipv6Enabled: true }],
              labels: labels({ role: "agent", pool: pool.name }),
              userData: pulumi
                .all([agentToken.result, pki.serverCaCert])
                .apply(([at, serverCaCert]) => agentUserData({ k3sVersion: cfg.k3sVersion, installerSha256: cfg.k3sInstallerSha256, nodeIp: ip, labels: pool.labels, taints: pool.taints, agentToken: at, serverCaCert }))
                .apply(pulumi.secret),
            },
            // Agents join the fixed control-plane address, so they may boot alongside it.
            serverOptions([poolSubnet]),
          ),
        });
      }
    });

    this.ingressIpv4 = cfg.loadBalancer.enabled ? this.loadBalancer(name, cfg, networkId, cpSubnet, nodes, labels()) : apiIp.ipAddress;

    const url = pulumi.interpolate`https://${apiHost}:6443`;
    const ready = new ApiReady(`${name}-api-ready`, { url, caCert: pki.serverCaCert, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: controlPlane.id }, parent);
    this.kubeconfig = pulumi.secret(
      pulumi.all([ready.url, pki.serverCaCert, pki.adminCert, pki.adminKey]).apply(([server, caCert, clientCert, clientKey]) =>
        buildKubeconfig({ clusterName: cfg.name, server, caCert, clientCert, clientKey }),
      ),
    );
    this.networkId = network.id;
    this.networkName = network.name;
    this.adminCertNotAfter = pki.adminNotAfter;
    this.registerOutputs({ kubeconfig: this.kubeconfig, controlPlaneIpv4: this.controlPlaneIpv4, ingressIpv4: this.ingressIpv4, networkId: this.networkId });
  }

  /**
   * lb11 in front of every node's ingress ports, over the private network, with PROXY protocol so
   * ingress-nginx learns real client addresses without trusting client-sent X-Forwarded-For.
   */
  private loadBalancer(
    name: string,
    cfg: K3sClusterConfig,
    networkId: pulumi.Output<number>,
    subnet: hcloud.NetworkSubnet,
    nodes: { id: string; server: hcloud.Server }[],
    labels: Record<string, string>,
  ): pulumi.Output<string> {
    const lb = new hcloud.LoadBalancer(
      `${name}-ingress-lb`,
      { name: `${cfg.name}-ingress`, loadBalancerType: cfg.loadBalancer.type, location: cfg.location, labels, deleteProtection: cfg.deleteProtection },
      { parent: this },
    );
    const lbNetwork = new hcloud.LoadBalancerNetwork(`${name}-ingress-lb-network`, { loadBalancerId: numericId(lb.id), networkId }, { parent: this, dependsOn: [subnet] });
    nodes.forEach(({ id, server }) => {
      // Type "server" is spelled the same in Pulumi's docs and Hetzner's API (unlike label_selector).
      new hcloud.LoadBalancerTarget(
        `${id}-lb-target`,
        { loadBalancerId: numericId(lb.id), type: "server", serverId: numericId(server.id), usePrivateIp: true },
        { parent: this, dependsOn: [lbNetwork] },
      );
    });
    for (const port of [80, 443]) {
      // LoadBalancerService is the one LB resource whose id argument is a string (cluster.md §16.2).
      new hcloud.LoadBalancerService(`${name}-ingress-lb-${port}`, { loadBalancerId: lb.id, protocol: "tcp", listenPort: port, destinationPort: port, proxyprotocol: true }, { parent: this });
    }
    return lb.ipv4;
  }
}
