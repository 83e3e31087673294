import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { K3sCluster, type K3sClusterInput } from "../../../components/cluster";
import { parseClusterArgs, WIDE_ADMIN_CIDRS_ACK } from "../../../components/cluster/args";
import { containsSecret } from "../../../infra/render/manifests";
import { recordProgram, type Registration } from "../../../infra/render/record";
import { ValuesError } from "../../../infra/values/errors";
import { clusterState, LB_IP, PUBLIC_IP, testPki } from "../../fixtures/cluster/mocks";

const ADMIN = "192.0.2.10/32";
const INSTALLER_SHA256 = "0123456789abcdef".repeat(4);
const base: K3sClusterInput = { adminCidrs: { kubeApi: [ADMIN] }, k3sInstallerSha256: INSTALLER_SHA256 };

async function record(args: K3sClusterInput, grab?: (c: K3sCluster) => void): Promise<Registration[]> {
  return recordProgram(() => {
    const cluster = new K3sCluster("cluster", args);
    grab?.(cluster);
  }, { state: clusterState });
}

const ofType = (regs: Registration[], type: string) => regs.filter((r) => r.type === type);
const one = (regs: Registration[], type: string) => {
  const found = ofType(regs, type);
  expect(found, type).to.have.length(1);
  return found[0].inputs as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
};
const unwrap = (v: unknown): unknown => (containsSecret(v) ? (v as { value: unknown }).value : v);
const promiseOf = <T>(o: pulumi.Output<T>) => new Promise<T>((resolve) => o.apply(resolve));

describe("K3sCluster (mock runtime)", () => {
  it("registers network, subnet, placement group, firewall, primary IP and one control plane under the component", async () => {
    const regs = await record(base);
    const types = regs.filter((r) => r.type.startsWith("hcloud:")).map((r) => r.type).sort();
    expect(types).to.deep.equal([
      "hcloud:index/firewall:Firewall",
      "hcloud:index/network:Network",
      "hcloud:index/networkSubnet:NetworkSubnet",
      "hcloud:index/placementGroup:PlacementGroup",
      "hcloud:index/primaryIp:PrimaryIp",
      "hcloud:index/server:Server",
    ]);
    for (const r of regs.filter((x) => x.type.startsWith("hcloud:"))) expect(r.urn).to.contain("mindroom:cluster:K3sCluster$");
    expect(one(regs, "hcloud:index/network:Network")).to.include({ name: "mindroom-k8s", ipRange: "10.0.0.0/8" });
    const subnet = one(regs, "hcloud:index/networkSubnet:NetworkSubnet");
    expect(subnet).to.include({ type: "cloud", networkZone: "eu-central", ipRange: "10.255.0.0/16" });
    expect(subnet.networkId, "NetworkSubnet.networkId must be a number").to.be.a("number");
    expect(one(regs, "hcloud:index/placementGroup:PlacementGroup")).to.include({ type: "spread", name: "mindroom-k8s-control-plane" });
    expect(one(regs, "hcloud:index/primaryIp:PrimaryIp")).to.include({ type: "ipv4", location: "fsn1", assigneeType: "server", autoDelete: false });
    expect(ofType(regs, "hcloud:index/sshKey:SshKey")).to.have.length(0);
  });

  it("gives the server numeric ids where the provider wants numbers, and a fixed private IP", async () => {
    const server = one(await record(base), "hcloud:index/server:Server");
    expect(server).to.include({ name: "mindroom-k8s-control-plane", serverType: "cpx31", image: "ubuntu-24.04", location: "fsn1" });
    expect(server.firewallIds).to.have.length(1);
    expect(server.firewallIds[0]).to.be.a("number");
    expect(server.placementGroupId).to.be.a("number");
    expect(server.networks).to.have.length(1);
    expect(server.networks[0].networkId).to.be.a("number");
    expect(server.networks[0].ip).to.equal("10.255.0.101");
    expect(server.publicNets[0].ipv4).to.be.a("number");
    expect(server.publicNets[0].ipv4Enabled).to.equal(true);
    expect(server.deleteProtection).to.equal(server.rebuildProtection);
  });

  it("puts the user-data (join token, CA keys) into state only as a secret", async () => {
    const server = one(await record(base), "hcloud:index/server:Server");
    expect(containsSecret(server.userData)).to.equal(true);
    const text = unwrap(server.userData) as string;
    expect(text.startsWith("#cloud-config\n")).to.equal(true);
    const doc = parse(text) as { write_files: { path: string; content: string }[] };
    const config = parse(doc.write_files.find((f) => f.path === "/etc/rancher/k3s/config.yaml")!.content) as Record<string, unknown>;
    expect(config["tls-san"]).to.deep.equal([PUBLIC_IP, "10.255.0.101"]);
    expect(String(config.token)).to.have.length(48);
    expect(doc.write_files.find((f) => f.path.endsWith("/server-ca.key"))!.content).to.equal(testPki().serverCaKey);
  });

  it("opens 80/443 to the world and 6443 only to the admin CIDRs; SSH closed by default", async () => {
    const rules = one(await record(base), "hcloud:index/firewall:Firewall").rules as { port?: string; protocol: string; sourceIps: string[] }[];
    const byPort = (p: string) => rules.find((r) => r.port === p);
    expect(byPort("80")!.sourceIps).to.deep.equal(["0.0.0.0/0", "::/0"]);
    expect(byPort("443")!.sourceIps).to.deep.equal(["0.0.0.0/0", "::/0"]);
    expect(byPort("6443")!.sourceIps).to.deep.equal([ADMIN]);
    expect(byPort("22")).to.equal(undefined);
    for (const r of rules) if (r.port !== "80" && r.port !== "443" && r.protocol === "tcp") expect(r.sourceIps).not.to.include("0.0.0.0/0");
  });

  it("opens SSH only to the configured CIDRs and installs the SSH key", async () => {
    const regs = await record({ ...base, adminCidrs: { kubeApi: [ADMIN], ssh: ["203.0.113.0/24"] }, sshPublicKey: "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIE ops" });
    const rules = one(regs, "hcloud:index/firewall:Firewall").rules as { port?: string; sourceIps: string[] }[];
    expect(rules.find((r) => r.port === "22")!.sourceIps).to.deep.equal(["203.0.113.0/24"]);
    expect(one(regs, "hcloud:index/sshKey:SshKey").publicKey).to.match(/^ssh-ed25519 /);
    expect(one(regs, "hcloud:index/server:Server").sshKeys).to.have.length(1);
  });

  it("creates agent pools with their own subnet and spread group, joining with the agent token only", async () => {
    const regs = await record({ ...base, agentPools: [{ name: "workers", serverType: "cx43", count: 2, labels: { "mindroom.chat/pool": "workers" }, taints: ["dedicated=tenants:NoSchedule"] }] });
    const servers = ofType(regs, "hcloud:index/server:Server").map((r) => r.inputs as Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any
    servers.sort((a, b) => String(a.name).localeCompare(String(b.name)));
    expect(servers.map((s) => s.name)).to.deep.equal(["mindroom-k8s-control-plane", "mindroom-k8s-workers-1", "mindroom-k8s-workers-2"]);
    expect(servers[1].networks[0].ip).to.equal("10.0.0.101");
    expect(servers[2].networks[0].ip).to.equal("10.0.0.102");
    expect(ofType(regs, "hcloud:index/networkSubnet:NetworkSubnet").map((r) => r.inputs.ipRange)).to.deep.equal(["10.255.0.0/16", "10.0.0.0/16"]);
    const agentData = unwrap(servers[1].userData) as string;
    const serverData = parse(unwrap(servers[0].userData) as string) as { write_files: { path: string; content: string }[] };
    const serverToken = (parse(serverData.write_files[0].content) as { token: string }).token;
    expect(agentData).not.to.contain(serverToken);
    // The agent's join token pins the CA the control plane's user-data installs.
    const serverCa = serverData.write_files.find((f) => f.path.endsWith("/tls/server-ca.crt"))!.content;
    const agentFiles = (parse(agentData) as { write_files: { path: string; content: string }[] }).write_files;
    const agentConfig = parse(agentFiles.find((f) => f.path === "/etc/rancher/k3s/config.yaml")!.content) as { token: string };
    const agentPassword = (parse(serverData.write_files[0].content) as { "agent-token": string })["agent-token"];
    expect(agentConfig.token).to.equal(`K10${createHash("sha256").update(serverCa).digest("hex")}::node:${agentPassword}`);
    expect(agentData).not.to.contain("PRIVATE KEY");
    expect(agentData).to.contain("dedicated=tenants:NoSchedule");
    // Every node, not only the control plane, keeps its pods away from the metadata service.
    for (const s of servers) expect(unwrap(s.userData) as string).to.contain("- mindroom-metadata-guard.service");
    // Every node runs the installer of the pinned tag only if it has the configured checksum.
    for (const s of servers) {
      const script = (parse(unwrap(s.userData) as string) as { write_files: { path: string; content: string }[] }).write_files.find((f) => f.path === "/usr/local/bin/mindroom-k3s-install.sh")!.content;
      expect(script).to.contain(`INSTALLER_SHA256='${INSTALLER_SHA256}'`);
      expect(script).to.contain("INSTALLER_URL='https://raw.githubusercontent.com/k3s-io/k3s/v1.31.13%2Bk3s1/install.sh'");
    }
    expect(ofType(regs, "hcloud:index/loadBalancer:LoadBalancer")).to.have.length(0);
  });

  it("fronts every node with an LB whose ids follow the provider types (service: string, others: number)", async () => {
    let ingress: pulumi.Output<string> | undefined;
    let exposure = "";
    const regs = await record({ ...base, agentPools: [{ name: "workers", count: 1 }], loadBalancer: { enabled: true } }, (c) => {
      ingress = c.ingressIpv4;
      exposure = c.ingressExposure;
    });
    expect(one(regs, "hcloud:index/loadBalancer:LoadBalancer")).to.include({ loadBalancerType: "lb11", location: "fsn1" });
    expect(one(regs, "hcloud:index/loadBalancerNetwork:LoadBalancerNetwork").loadBalancerId).to.be.a("number");
    const targets = ofType(regs, "hcloud:index/loadBalancerTarget:LoadBalancerTarget").map((r) => r.inputs);
    expect(targets).to.have.length(2);
    for (const t of targets) {
      expect(t).to.include({ type: "server", usePrivateIp: true });
      expect(t.loadBalancerId).to.be.a("number");
      expect(t.serverId).to.be.a("number");
    }
    const services = ofType(regs, "hcloud:index/loadBalancerService:LoadBalancerService").map((r) => r.inputs);
    expect(services.map((s) => [s.listenPort, s.destinationPort, s.protocol, s.proxyprotocol])).to.deep.equal([[80, 80, "tcp", true], [443, 443, "tcp", true]]);
    for (const s of services) expect(s.loadBalancerId).to.be.a("string");
    expect(exposure).to.equal("loadBalancer");
    expect(await promiseOf(ingress!)).to.equal(LB_IP);
  });

  it("exports a secret kubeconfig for the public IP, trusting the generated server CA", async () => {
    let kubeconfig: pulumi.Output<string> | undefined;
    await record(base, (c) => (kubeconfig = c.kubeconfig));
    expect(await pulumi.isSecret(kubeconfig!)).to.equal(true);
    const doc = parse(await promiseOf(kubeconfig!)) as { clusters: { cluster: Record<string, string> }[]; users: { user: Record<string, string> }[] };
    expect(doc.clusters[0].cluster.server).to.equal(`https://${PUBLIC_IP}:6443`);
    expect(Buffer.from(doc.clusters[0].cluster["certificate-authority-data"], "base64").toString()).to.equal(testPki().serverCaCert);
    expect(Buffer.from(doc.users[0].user["client-certificate-data"], "base64").toString()).to.equal(testPki().adminCert);
  });

  it("uses apiHostname for the kubeconfig and as an extra TLS SAN", async () => {
    let kubeconfig: pulumi.Output<string> | undefined;
    const regs = await record({ ...base, apiHostname: "k8s.example.org" }, (c) => (kubeconfig = c.kubeconfig));
    expect(await promiseOf(kubeconfig!)).to.contain("server: https://k8s.example.org:6443");
    expect(unwrap(one(regs, "hcloud:index/server:Server").userData)).to.contain("k8s.example.org");
  });

  it("waits for /readyz of the control plane, holding the admin key only as a secret", async () => {
    const regs = await record(base);
    expect(ofType(regs, "pulumi-nodejs:dynamic/mindroom:ApiReady")).to.have.length(1);
    const ready = ofType(regs, "pulumi-nodejs:dynamic/mindroom:ApiReady")[0].inputs;
    expect(containsSecret(ready.clientKey)).to.equal(true);
    expect(ready.url).to.equal(`https://${PUBLIC_IP}:6443`);
    // It authenticates as the admin and trusts only the stack's server CA.
    expect(unwrap(ready.clientKey)).to.equal(testPki().adminKey);
    expect(unwrap(ready.clientCert)).to.equal(testPki().adminCert);
    expect(ready.caCert).to.equal(testPki().serverCaCert);
  });

  const invalid: [string, unknown, RegExp][] = [
    ["missing kubeApi CIDRs", { ...base, adminCidrs: { kubeApi: [] } }, /^cluster\.adminCidrs\.kubeApi: list at least one CIDR/],
    ["a bad CIDR", { ...base, adminCidrs: { kubeApi: ["10.0.0.300/32"] } }, /^cluster\.adminCidrs\.kubeApi\[0\]: must be a CIDR/],
    ["the Kubernetes API open to the internet", { ...base, adminCidrs: { kubeApi: ["192.0.2.10/32", "0.0.0.0/0"] } }, /^cluster\.adminCidrs\.kubeApi: must not contain 0\.0\.0\.0\/0 or ::\/0, which opens the Kubernetes API to the whole internet/],
    ["SSH open to the internet", { ...base, adminCidrs: { kubeApi: [ADMIN], ssh: ["::/0"] } }, /^cluster\.adminCidrs\.ssh: must not contain 0\.0\.0\.0\/0 or ::\/0, which opens SSH/],
    // Refusing only /0 let half the internet in (issue 9).
    ["half the internet on the Kubernetes API", { ...base, adminCidrs: { kubeApi: [ADMIN, "0.0.0.0/1"] } }, /^cluster\.adminCidrs\.kubeApi\[1\]: 0\.0\.0\.0\/1 is wider than \/16 \(IPv4\), .* or set adminCidrs\.acknowledgeWideCidrs to "i-understand-wide-ranges-can-reach-the-api-and-ssh"/],
    ["an IPv4 /15 on SSH", { ...base, adminCidrs: { kubeApi: [ADMIN], ssh: ["198.18.0.0/15"] } }, /^cluster\.adminCidrs\.ssh\[0\]: 198\.18\.0\.0\/15 is wider than \/16 \(IPv4\)/],
    ["an IPv6 /47", { ...base, adminCidrs: { kubeApi: ["2001:db8::/47"] } }, /^cluster\.adminCidrs\.kubeApi\[0\]: 2001:db8::\/47 is wider than \/48 \(IPv6\)/],
    ["a wide range with a wrong acknowledgement", { ...base, adminCidrs: { kubeApi: ["10.0.0.0/8"], acknowledgeWideCidrs: "yes" } }, /^cluster\.adminCidrs\.kubeApi\[0\]: 10\.0\.0\.0\/8 is wider than \/16/],
    ["/0 even when wide ranges are acknowledged", { ...base, adminCidrs: { kubeApi: ["0.0.0.0/0"], acknowledgeWideCidrs: WIDE_ADMIN_CIDRS_ACK } }, /^cluster\.adminCidrs\.kubeApi: must not contain 0\.0\.0\.0\/0/],
    ["an LB on one node", { ...base, loadBalancer: { enabled: true } }, /^cluster\.loadBalancer\.enabled: a load balancer needs at least two nodes/],
    ["duplicate pools", { ...base, agentPools: [{ name: "a" }, { name: "a" }] }, /^cluster\.agentPools\[1\]\.name: pool name "a" is used twice/],
    ["a pool in another location", { ...base, agentPools: [{ name: "a", location: "hel1" }] }, /^cluster\.agentPools\[0\]\.location: must equal the cluster location fsn1/],
    ["a floating k3s version", { ...base, k3sVersion: "v1.31" }, /^cluster\.k3sVersion: must be a k3s release/],
    // No default: an installer checksum nobody checked would pin nothing.
    ["no installer checksum", { adminCidrs: { kubeApi: [ADMIN] } }, /^cluster\.k3sInstallerSha256: set the SHA-256 of k3s's install\.sh at the k3sVersion tag: curl -sfL https:\/\/raw\.githubusercontent\.com\/k3s-io\/k3s\/.* \| sha256sum/],
    ["an installer checksum that is not a SHA-256", { ...base, k3sInstallerSha256: "sha256:abc" }, /^cluster\.k3sInstallerSha256: must be 64 hex digits \(a SHA-256\); set the SHA-256/],
    ["an installer checksum one digit short", { ...base, k3sInstallerSha256: INSTALLER_SHA256.slice(1) }, /^cluster\.k3sInstallerSha256: must be 64 hex digits/],
    ["a bad taint", { ...base, controlPlane: { taints: ["oops"] } }, /^cluster\.controlPlane\.taints\[0\]: taints are key/],
    ["an unknown key", { ...base, sever: 1 }, /^cluster: unknown key "sever"; remove it \(every key: Pulumi.staging.yaml \(cluster:\), docs\/cluster.md\)$/],
    // A misspelt size used to be dropped, and the node came up at the default size.
    ["a misspelt server type on a pool", { ...base, agentPools: [{ name: "w", servertype: "cx53" }] }, /^cluster\.agentPools\[0\]: unknown key "servertype"; did you mean "serverType"\?/],
    ["a misspelt server type on the control plane", { ...base, controlPlane: { server_type: "cx53" } }, /^cluster\.controlPlane: unknown key "server_type"; did you mean "serverType"\?/],
    ["an unknown load balancer key", { ...base, loadBalancer: { enable: true } }, /^cluster\.loadBalancer: unknown key "enable"; did you mean "enabled"\?/],
    ["a malformed label key, naming the fix", { ...base, controlPlane: { labels: { "Bad Key": "x" } } }, /^cluster\.controlPlane\.labels\.Bad Key: label keys must be Kubernetes label keys/],
    // The kubelet exits on such --node-labels, so the node would never register (kubelet ValidateKubeletFlags).
    ["a node label in the kubernetes.io namespace", { ...base, agentPools: [{ name: "w", labels: { "node-role.kubernetes.io/worker": "true" } }] }, /^cluster\.agentPools\[0\]\.labels\.node-role\.kubernetes\.io\/worker: the kubelet refuses/],
    ["a node label in the k8s.io namespace", { ...base, controlPlane: { labels: { "example.k8s.io/x": "y" } } }, /^cluster\.controlPlane\.labels\.example\.k8s\.io\/x: the kubelet refuses/],
    // Pool i gets 10.i.0.0/16; pools 42 and 43 would sit on the pod and service CIDRs.
    ["more pools than fit below the pod CIDR", { ...base, agentPools: Array.from({ length: 43 }, (_, i) => ({ name: `p${i}`, count: 0 })) }, /^cluster\.agentPools: at most 42 agent pools/],
  ];
  it("accepts admin ranges up to /16 (IPv4) and /48 (IPv6), and wider ones only with the literal acknowledgement", async () => {
    const firewall = async (adminCidrs: K3sClusterInput["adminCidrs"]) => one(await record({ ...base, adminCidrs }), "hcloud:index/firewall:Firewall").rules as { port?: string; sourceIps: string[] }[];
    const bounds = await firewall({ kubeApi: ["198.51.0.0/16", "2001:db8::/48"], ssh: ["203.0.113.0/24"] });
    expect(bounds.find((r) => r.port === "6443")!.sourceIps).to.deep.equal(["198.51.0.0/16", "2001:db8::/48"]);
    const acknowledged = await firewall({ kubeApi: ["10.0.0.0/8", "2001:db8::/32"], ssh: ["0.0.0.0/1"], acknowledgeWideCidrs: WIDE_ADMIN_CIDRS_ACK });
    expect(acknowledged.find((r) => r.port === "6443")!.sourceIps).to.deep.equal(["10.0.0.0/8", "2001:db8::/32"]);
    expect(acknowledged.find((r) => r.port === "22")!.sourceIps).to.deep.equal(["0.0.0.0/1"]);
  });

  it("accepts node labels the kubelet allows (own namespace, node.kubernetes.io, kubelet.kubernetes.io) and 42 pools", async () => {
    const labels = { "mindroom.chat/pool": "workers", "node.kubernetes.io/exclude-from-external-load-balancers": "true", "x.kubelet.kubernetes.io/y": "z", "topology.kubernetes.io/zone": "fsn1-dc14" };
    const regs = await record({ ...base, controlPlane: { labels }, agentPools: Array.from({ length: 42 }, (_, i) => ({ name: `p${i}`, count: i === 41 ? 1 : 0 })) });
    const subnets = ofType(regs, "hcloud:index/networkSubnet:NetworkSubnet").map((r) => r.inputs.ipRange);
    expect(subnets).to.deep.equal(["10.255.0.0/16", "10.41.0.0/16"]);
  });

  it("an unknown key names the closest known one; a map that is no map says so (the shared strict map)", () => {
    expect(() => parseClusterArgs({ ...base, locaton: "fsn1" })).to.throw(ValuesError, /^cluster: unknown key "locaton"; did you mean "location"\?/);
    expect(() => parseClusterArgs({ ...base, adminCidrs: "203.0.113.7/32" })).to.throw(ValuesError, /^cluster\.adminCidrs: expected a map, got string$/);
  });

  for (const [what, args, message] of invalid) {
    it(`rejects ${what} before registering anything`, async () => {
      let error: Error | undefined;
      const regs = await recordProgram(() => {
        try {
          new K3sCluster("cluster", args as K3sClusterInput);
        } catch (err) {
          error = err as Error;
        }
      });
      expect(error?.message).to.match(message);
      expect(regs).to.have.length(0);
    });
  }
});
