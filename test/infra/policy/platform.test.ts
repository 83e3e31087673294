import { expect } from "chai";
import type { KubeObject } from "../../../infra/policy/kube";
import { platformNetworkPolicyViolations } from "../../../infra/policy/platform";
import { violations } from "../../../infra/policy/rules";
import { renderPlatform } from "../../components/platform/render-platform";
import { deployment, networkPolicy } from "./fixtures";

const NS = "mindroom-production";
const backend = () => deployment({ name: "platform-backend", namespace: NS, labels: { app: "platform-backend", environment: "production" } });
const frontend = () => deployment({ name: "platform-frontend", namespace: NS, labels: { app: "platform-frontend", environment: "production" } });
const inPlatform = (podSelector: Record<string, unknown>, policyTypes?: string[]): KubeObject => ({ ...networkPolicy(podSelector, policyTypes), metadata: { name: "np", namespace: NS } });

describe("policy platform-network-policy (stack)", () => {
  it("passes when a NetworkPolicy of the platform namespace selects every pod for ingress and egress (the default deny)", () => {
    expect(platformNetworkPolicyViolations([backend(), frontend(), inPlatform({}, ["Ingress", "Egress"])])).to.deep.equal([]);
    // Two policies together cover both directions.
    expect(platformNetworkPolicyViolations([backend(), inPlatform({}, ["Ingress"]), inPlatform({ matchLabels: { app: "platform-backend" } }, ["Egress"])])).to.deep.equal([]);
    // Without Deployment platform-backend there is no platform namespace; tenants have their own rule.
    expect(platformNetworkPolicyViolations([frontend()])).to.deep.equal([]);
    expect(platformNetworkPolicyViolations([deployment({ namespace: "mindroom" })])).to.deep.equal([]);
  });

  it("fails a platform pod left open in either direction: no policy, ingress only (policyTypes unset), another pod's, another namespace's", () => {
    const message = (d: string, app = "platform-frontend") =>
      `Deployment ${NS}/${app}: no NetworkPolicy in ${NS} selects its pods for ${d} (labels {"app":"${app}","environment":"production"}); the platform denies by default`;
    expect(platformNetworkPolicyViolations([backend(), frontend()])).to.deep.equal([
      { index: 0, message: message("ingress and egress", "platform-backend") },
      { index: 1, message: message("ingress and egress") },
    ]);
    expect(platformNetworkPolicyViolations([backend(), frontend(), inPlatform({})])).to.deep.equal([
      { index: 0, message: message("egress", "platform-backend") },
      { index: 1, message: message("egress") },
    ]);
    const backendOnly = inPlatform({ matchLabels: { app: "platform-backend" } }, ["Ingress", "Egress"]);
    const elsewhere = { ...inPlatform({}, ["Ingress", "Egress"]), metadata: { name: "np", namespace: "default" } };
    for (const other of [backendOnly, elsewhere]) {
      expect(platformNetworkPolicyViolations([backend(), frontend(), other]).map((v) => v.message)).to.include(message("ingress and egress"));
    }
  });

  it("the rendered platform passes; without the default deny a workload that lost its own policy fails, without any policy every one does", async () => {
    const r = await renderPlatform({ environment: "production", provisioner: { enabled: true, pulumiConfigPassphrase: "p" }, monitoring: { enabled: true } });
    const findings = (objects: KubeObject[]) => violations(objects).filter((f) => f.rule === "platform-network-policy").map((f) => f.object);
    expect(findings(r.objects)).to.deep.equal([]);
    const without = (...names: string[]) => r.objects.filter((o) => !(o.kind === "NetworkPolicy" && names.includes(o.metadata?.name ?? "")));
    expect(findings(without("platform-frontend")), "the default deny still covers it").to.deep.equal([]);
    expect(findings(without("platform-default-deny", "platform-frontend"))).to.deep.equal([`Deployment ${NS}/platform-frontend`]);
    expect(findings(r.objects.filter((o) => o.kind !== "NetworkPolicy"))).to.have.members([
      `Deployment ${NS}/platform-frontend`,
      `Deployment ${NS}/platform-backend`,
      `Deployment ${NS}/mindroom-provisioner`,
    ]);
  });
});
