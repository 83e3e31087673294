/**
 * Inbound firewall rules. Only web traffic is open to everyone; the Kubernetes API and SSH are
 * limited to the admin CIDRs (upstream opened both to the internet). Outbound is left open: the
 * kube-hetzner allow-list blocked SMTP, Matrix federation and external databases (cluster.md §17.10).
 * Hetzner firewalls do not filter the private network, so node-to-node traffic needs no rule.
 */
export interface FirewallRuleSpec {
  direction: "in";
  protocol: "tcp" | "icmp";
  port?: string;
  sourceIps: string[];
  description: string;
}

export const ANYWHERE = ["0.0.0.0/0", "::/0"];

export function firewallRules(adminCidrs: { kubeApi: string[]; ssh: string[] }): FirewallRuleSpec[] {
  const rules: FirewallRuleSpec[] = [
    { direction: "in", protocol: "tcp", port: "80", sourceIps: ANYWHERE, description: "HTTP (ingress, ACME HTTP-01)" },
    { direction: "in", protocol: "tcp", port: "443", sourceIps: ANYWHERE, description: "HTTPS (ingress)" },
    { direction: "in", protocol: "icmp", sourceIps: ANYWHERE, description: "ping" },
    { direction: "in", protocol: "tcp", port: "6443", sourceIps: adminCidrs.kubeApi, description: "Kubernetes API (admins and Pulumi)" },
  ];
  if (adminCidrs.ssh.length > 0) {
    rules.push({ direction: "in", protocol: "tcp", port: "22", sourceIps: adminCidrs.ssh, description: "SSH (admins)" });
  }
  return rules;
}
