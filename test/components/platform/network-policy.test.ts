/**
 * Project deviation (docs/platform.md, "NetworkPolicies"): the platform namespace denies all traffic
 * and allows each workload exactly its peers. The rendered policies are judged here by the
 * NetworkPolicy semantics (a connection needs the source's egress and the destination's ingress; a
 * pod no policy selects for a direction is open in it), connection by connection, as a user would
 * try them. The API server accepts the same objects in test/engine/projects.test.ts; nothing here
 * or there enforces them (no CNI runs in the tests).
 */
import { expect } from "chai";
import { BlockList } from "node:net";
import { selects } from "../../../infra/policy/tenant";
import { stateBackendPort } from "../../../components/platform/network-policy";
import { renderPlatform, type Obj } from "./render-platform";

const NS = "mindroom-staging";

interface Endpoint {
  what: string;
  ip: string;
  /** Pods only: namespace and labels. */
  namespace?: string;
  labels?: Record<string, string>;
}

const pod = (what: string, namespace: string, labels: Record<string, string>, ip: string): Endpoint => ({ what, namespace, labels, ip });
const host = (what: string, ip: string): Endpoint => ({ what, ip });

const P = {
  controller: pod("the ingress-nginx controller", "ingress-nginx", { "app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller", "app.kubernetes.io/instance": "ingress-nginx" }, "10.42.0.5"),
  tenant: pod("a tenant's MindRoom pod", "mindroom-instances", { app: "mindroom", customer: "42" }, "10.42.0.9"),
  frontend: pod("platform-frontend", NS, { app: "platform-frontend", environment: "staging" }, "10.42.0.20"),
  backend: pod("platform-backend", NS, { app: "platform-backend", environment: "staging" }, "10.42.0.21"),
  provisioner: pod("mindroom-provisioner", NS, { app: "mindroom-provisioner", environment: "staging" }, "10.42.0.22"),
  debug: pod("a pod nobody planned (kubectl run)", NS, { run: "debug" }, "10.42.0.23"),
  solver: pod("cert-manager's HTTP-01 solver", NS, { "acme.cert-manager.io/http01-solver": "true", "acme.cert-manager.io/http-token": "t" }, "10.42.0.24"),
  coredns: pod("CoreDNS", "kube-system", { "k8s-app": "kube-dns" }, "10.42.0.2"),
  prometheus: pod("Prometheus", "monitoring", { "app.kubernetes.io/name": "prometheus", prometheus: "kps" }, "10.42.0.30"),
  otherDns: pod("another pod in kube-system", "kube-system", { app: "hcloud-csi" }, "10.42.0.3"),
  apiServer: host("the API server (control plane node)", "10.255.0.101"),
  stripe: host("Stripe", "104.18.0.1"),
  metadata: host("the metadata service", "169.254.169.254"),
  resolver: host("a public resolver", "8.8.8.8"),
  db: host("a Postgres state backend", "10.0.0.50"),
};

const nsLabels = (name: string) => ({ "kubernetes.io/metadata.name": name });

function inBlock(ip: string, block: Obj): boolean {
  const [net, bits] = String(block.cidr).split("/");
  const list = new BlockList();
  list.addSubnet(net, Number(bits), "ipv4");
  const except = new BlockList();
  for (const e of (block.except ?? []) as string[]) except.addSubnet(e.split("/")[0], Number(e.split("/")[1]), "ipv4");
  return list.check(ip, "ipv4") && !except.check(ip, "ipv4");
}

/** A peer of a policy in `policyNs` matching `e` (pod and namespace selectors; ipBlock by address). */
function peerMatches(peer: Obj, policyNs: string, e: Endpoint): boolean {
  if (peer.ipBlock) return inBlock(e.ip, peer.ipBlock);
  if (!e.namespace) return false;
  const nsOk = peer.namespaceSelector ? selects(peer.namespaceSelector, nsLabels(e.namespace)) : e.namespace === policyNs;
  return nsOk && (peer.podSelector ? selects(peer.podSelector, e.labels ?? {}) : true);
}

const portMatches = (ports: Obj[] | undefined, port: number, protocol: string) =>
  !ports || ports.length === 0 || ports.some((p) => p.port === port && (p.protocol ?? "TCP") === protocol);

/** Whether the policies let `self` send (egress) to or receive (ingress) from `other` on `port`. */
function side(policies: Obj[], self: Endpoint, other: Endpoint, direction: "Ingress" | "Egress", port: number, protocol: string): boolean {
  if (!self.namespace) return true;
  const mine = policies.filter((p) => p.metadata.namespace === self.namespace && selects(p.spec.podSelector, self.labels ?? {}) && p.spec.policyTypes.includes(direction));
  if (mine.length === 0) return true;
  const rules = mine.flatMap((p) => ((direction === "Ingress" ? p.spec.ingress : p.spec.egress) ?? []).map((r: Obj) => ({ r, ns: p.metadata.namespace as string })));
  return rules.some(({ r, ns }) => {
    const peers = (direction === "Ingress" ? r.from : r.to) as Obj[] | undefined;
    return portMatches(r.ports, port, protocol) && (!peers || peers.length === 0 || peers.some((peer) => peerMatches(peer, ns, other)));
  });
}

const can = (policies: Obj[], from: Endpoint, to: Endpoint, port: number, protocol = "TCP") =>
  side(policies, from, to, "Egress", port, protocol) && side(policies, to, from, "Ingress", port, protocol);

async function policiesOf(values: Record<string, unknown>): Promise<Obj[]> {
  return (await renderPlatform(values)).objects.filter((o) => o.kind === "NetworkPolicy") as Obj[];
}

const ON = { provisioner: { enabled: true, pulumiConfigPassphrase: "p" } };

describe("platform NetworkPolicies (default deny, then each workload's peers)", () => {
  let policies: Obj[];
  before(async () => {
    policies = await policiesOf(ON);
  });

  const expectConnections = (cases: [Endpoint, Endpoint, number, boolean, string?][], of: () => Obj[] = () => policies) => {
    for (const [from, to, port, allowed, protocol] of cases) {
      expect(can(of(), from, to, port, protocol), `${from.what} → ${to.what}:${port}${protocol ? `/${protocol}` : ""}`).to.equal(allowed);
    }
  };

  it("registers the default deny, cluster DNS, ACME solver and one policy per workload, all in mindroom-{env}", async () => {
    expect(policies.map((p) => p.metadata.name).sort()).to.deep.equal([
      "mindroom-provisioner",
      "platform-allow-acme-http01-solver",
      "platform-allow-cluster-dns",
      "platform-backend",
      "platform-default-deny",
      "platform-frontend",
    ]);
    expect(new Set(policies.map((p) => p.metadata.namespace))).to.deep.equal(new Set([NS]));
    const deny = policies.find((p) => p.metadata.name === "platform-default-deny")!;
    expect(deny.spec).to.deep.equal({ podSelector: {}, policyTypes: ["Ingress", "Egress"] });
    // Every port names its protocol: the API server defaults it, and the lists are atomic under server-side apply.
    const ports = policies.flatMap((p) => [...(p.spec.ingress ?? []), ...(p.spec.egress ?? [])]).flatMap((r: Obj) => r.ports ?? []);
    expect(ports.filter((p: Obj) => !p.protocol)).to.deep.equal([]);
  });

  it("the ingress controller reaches each workload on its own port only", () => {
    expectConnections([
      [P.controller, P.frontend, 3000, true],
      [P.controller, P.backend, 8000, true],
      [P.controller, P.provisioner, 8080, true],
      [P.controller, P.frontend, 8000, false],
      [P.controller, P.backend, 8080, false],
      [P.controller, P.debug, 80, false],
    ]);
  });

  it("tenants and other namespaces reach nothing in the platform namespace directly", () => {
    for (const from of [P.tenant, P.otherDns, P.prometheus]) {
      expectConnections([
        [from, P.frontend, 3000, false],
        [from, P.backend, 8000, false],
        [from, P.provisioner, 8080, false],
      ]);
    }
  });

  it("the frontend calls the backend and HTTPS, nothing else (no API server, no provisioner, no metadata)", () => {
    expectConnections([
      [P.frontend, P.backend, 8000, true],
      [P.frontend, P.stripe, 443, true],
      [P.frontend, P.provisioner, 8080, false],
      [P.frontend, P.apiServer, 6443, false],
      [P.frontend, P.stripe, 80, false],
      [P.frontend, P.metadata, 443, false],
      [P.frontend, P.tenant, 8765, false],
    ]);
  });

  it("the backend and the provisioner call HTTPS and the API server on 6443, never the metadata service or tenant pods", () => {
    for (const from of [P.backend, P.provisioner]) {
      expectConnections([
        [from, P.stripe, 443, true],
        [from, P.apiServer, 6443, true],
        [from, P.metadata, 80, false],
        [from, P.metadata, 443, false],
        [from, P.tenant, 8765, false],
        [from, P.tenant, 8008, false],
        [from, P.stripe, 22, false],
      ]);
    }
    expectConnections([
      [P.backend, P.provisioner, 8080, false],
      [P.provisioner, P.backend, 8000, false],
      [P.backend, P.frontend, 3000, false],
    ]);
  });

  it("every pod resolves names through CoreDNS only (UDP and TCP 53), not through any other server", () => {
    for (const from of [P.frontend, P.backend, P.provisioner, P.debug]) {
      expectConnections([
        [from, P.coredns, 53, true, "UDP"],
        [from, P.coredns, 53, true, "TCP"],
        [from, P.resolver, 53, false, "UDP"],
        [from, P.otherDns, 53, false, "UDP"],
      ]);
    }
  });

  it("a pod nobody planned for gets nothing but DNS, in or out", () => {
    expectConnections([
      [P.debug, P.stripe, 443, false],
      [P.debug, P.apiServer, 6443, false],
      [P.debug, P.backend, 8000, false],
      [P.frontend, P.debug, 3000, false],
      [P.tenant, P.debug, 8080, false],
    ]);
  });

  it("cert-manager's HTTP-01 solver pods answer the ingress controller on 8089, nobody else", () => {
    expectConnections([
      [P.controller, P.solver, 8089, true],
      [P.tenant, P.solver, 8089, false],
      [P.controller, P.solver, 80, false],
    ]);
  });

  it("Prometheus scrapes the backend and the provisioner only when monitoring is enabled", async () => {
    const monitored = await policiesOf({ ...ON, monitoring: { enabled: true } });
    expectConnections(
      [
        [P.prometheus, P.backend, 8000, true],
        [P.prometheus, P.provisioner, 8080, true],
        [P.prometheus, P.frontend, 3000, false],
        [P.tenant, P.backend, 8000, false],
      ],
      () => monitored,
    );
    expectConnections([
      [P.prometheus, P.backend, 8000, false],
      [P.prometheus, P.provisioner, 8080, false],
    ]);
  });

  it("without the provisioner there is no provisioner policy; the rest is the same", async () => {
    const names = (await policiesOf({})).map((p) => p.metadata.name);
    expect(names).to.not.include("mindroom-provisioner");
    expect(names).to.include.members(["platform-default-deny", "platform-frontend", "platform-backend"]);
  });

  it("a remote state backend on another port than 443 gets that port, nothing more", async () => {
    const pg = await policiesOf({ provisioner: { ...ON.provisioner, backendUrl: "postgres://pulumi@10.0.0.50:5433/state" } });
    expectConnections(
      [
        [P.provisioner, P.db, 5433, true],
        [P.provisioner, P.db, 5432, false],
        [P.backend, P.db, 5433, false],
      ],
      () => pg,
    );
    expectConnections([[P.provisioner, P.db, 5433, false]]);
  });

  it("stateBackendPort: the port beyond 443 each backend URL needs", () => {
    const cases: [string, number | undefined][] = [
      ["", undefined],
      ["file:///data/state", undefined],
      ["s3://bucket?region=eu-central-1", undefined],
      ["gs://bucket", undefined],
      ["azblob://container", undefined],
      ["https://api.pulumi.com", undefined],
      ["https://pulumi.example.org:8443", 8443],
      ["http://pulumi.example.org", 80],
      ["postgres://pulumi@db.example.org/state", 5432],
      ["postgres://pulumi@db.example.org:5433/state", 5433],
      ["s3://bucket?endpoint=minio.example.org:9000&s3ForcePathStyle=true", 9000],
      ["s3://bucket?endpoint=https://minio.example.org", undefined],
      ["s3://bucket?endpoint=minio.example.org&disableSSL=true", 80],
    ];
    for (const [url, port] of cases) expect(stateBackendPort(url), url).to.equal(port);
  });
});
