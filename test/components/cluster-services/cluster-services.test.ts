import { expect } from "chai";
import { ClusterServices, type ClusterServicesArgs } from "../../../components/cluster-services";
import { kubeObjects } from "../../../infra/render/manifests";
import { recordProgram, type Registration } from "../../../infra/render/record";
import { validateKubeObjects } from "../../support/kube-schema";

const record = (args: Partial<ClusterServicesArgs> = {}) => recordProgram(() => new ClusterServices("services", { acmeEmail: "ops@example.com", ...args }));
const release = (regs: Registration[], chart: string) => regs.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === chart)?.inputs as Record<string, any> | undefined; // eslint-disable-line @typescript-eslint/no-explicit-any

describe("ClusterServices (mock runtime)", () => {
  it("installs ingress-nginx pinned, in namespace ingress-nginx (the tenant NetworkPolicy's peer)", async () => {
    const regs = await record();
    const ingress = release(regs, "ingress-nginx")!;
    expect(ingress).to.include({ version: "4.13.6", namespace: "ingress-nginx" });
    expect(ingress.repositoryOpts.repo).to.equal("https://kubernetes.github.io/ingress-nginx");
    expect(kubeObjects(regs).filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name)).to.have.members(["ingress-nginx", "cert-manager"]);
  });

  it("single node: host ports 80/443, no proxy protocol, forwarded headers not trusted", async () => {
    const c = release(await record(), "ingress-nginx")!.values.controller;
    expect(c.hostPort).to.deep.equal({ enabled: true, ports: { http: 80, https: 443 } });
    expect(c.service.type).to.equal("ClusterIP");
    expect(c.config).to.include({ "use-forwarded-headers": "false", "use-proxy-protocol": "false" });
    expect(c.ingressClassResource).to.deep.equal({ name: "nginx", default: true });
  });

  it("behind the Hetzner LB: PROXY protocol on, still no X-Forwarded-For trust", async () => {
    const c = release(await record({ ingressExposure: "loadBalancer" }), "ingress-nginx")!.values.controller;
    expect(c.config).to.include({ "use-proxy-protocol": "true", "use-forwarded-headers": "false" });
  });

  it("installs cert-manager with CRDs and both ClusterIssuers after it, with the configured e-mail", async () => {
    const regs = await record();
    const cm = release(regs, "cert-manager")!;
    expect(cm).to.include({ version: "v1.18.2", namespace: "cert-manager" });
    expect(cm.values.crds).to.deep.equal({ enabled: true, keep: true });
    const issuers = kubeObjects(regs).filter((o) => o.kind === "ClusterIssuer");
    expect(issuers.map((i) => i.metadata?.name)).to.deep.equal(["letsencrypt-prod", "letsencrypt-staging"]);
    const prod = issuers[0].spec as { acme: Record<string, any> }; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(prod.acme.email).to.equal("ops@example.com");
    expect(prod.acme.server).to.equal("https://acme-v02.api.letsencrypt.org/directory");
    expect(prod.acme.privateKeySecretRef).to.deep.equal({ name: "letsencrypt-prod-account-key" });
    expect(prod.acme.solvers).to.deep.equal([{ http01: { ingress: { ingressClassName: "nginx" } } }]);
    expect((issuers[1].spec as { acme: { server: string } }).acme.server).to.contain("acme-staging-v02");
    validateKubeObjects(kubeObjects(regs), ["cert-manager.io/v1/ClusterIssuer"]);
  });

  it("metrics-server follows its switch", async () => {
    expect(release(await record(), "metrics-server")).to.include({ version: "3.12.2", namespace: "kube-system" });
    expect(release(await record({ metricsServer: false }), "metrics-server")).to.equal(undefined);
  });

  it("ingress-nginx follows its switch and keeps its namespace", async () => {
    expect(release(await record(), "ingress-nginx")).to.include({ version: "4.13.6", namespace: "ingress-nginx" });
    const regs = await record({ ingressNginx: false });
    expect(release(regs, "ingress-nginx")).to.equal(undefined);
    expect(kubeObjects(regs).filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name)).to.include("ingress-nginx");
  });

  it("can skip cert-manager (local clusters) and then needs no e-mail", async () => {
    const regs = await recordProgram(() => new ClusterServices("services", { acmeEmail: "", certManager: false }));
    expect(release(regs, "cert-manager")).to.equal(undefined);
    expect(kubeObjects(regs).filter((o) => o.kind === "ClusterIssuer")).to.have.length(0);
  });

  it("rejects a missing ACME e-mail before registering anything", async () => {
    let error: Error | undefined;
    const regs = await recordProgram(() => {
      try {
        new ClusterServices("services", { acmeEmail: "nope" });
      } catch (err) {
        error = err as Error;
      }
    });
    expect(error?.message).to.match(/^acmeEmail: "nope" is not an e-mail address/);
    expect(regs).to.have.length(0);
  });
});
