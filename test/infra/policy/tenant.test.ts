import { expect } from "chai";
import type { KubeObject } from "../../../infra/policy/kube";
import { customerLabelViolations, defaultTokenViolations, networkPolicyCoverageViolations, selects, storageClassViolations } from "../../../infra/policy/tenant";
import { deployment, networkPolicy, podSpec, pvc } from "./fixtures";

describe("policy tenant-customer-label", () => {
  it("passes labelled tenant objects, objects elsewhere and the upstream-contract objects without labels", () => {
    expect(customerLabelViolations(deployment())).to.deep.equal([]);
    expect(customerLabelViolations(pvc("hcloud-volumes"))).to.deep.equal([]);
    expect(customerLabelViolations(deployment({ namespace: "mindroom-production", labels: { app: "web" } }))).to.deep.equal([]);
    const unlabelled = (kind: string, name: string): KubeObject => ({ apiVersion: "v1", kind, metadata: { name, namespace: "mindroom-instances" } });
    for (const [kind, name] of [["Secret", "mindroom-api-keys-42"], ["ConfigMap", "mindroom-config-42"], ["Ingress", "42-ingress"], ["Role", "platform-backend"], ["RoleBinding", "platform-backend-tenant-rbac"]]) {
      expect(customerLabelViolations(unlabelled(kind, name)), `${kind} ${name}`).to.deep.equal([]);
    }
  });

  it("fails a tenant object without the label, with an empty one, or a workload whose pods lack or differ in it", () => {
    const msg = "objects in mindroom-instances must carry the label customer=<tenant id>";
    expect(customerLabelViolations({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "synapse-config-42", namespace: "mindroom-instances" } })).to.deep.equal([msg]);
    expect(customerLabelViolations({ apiVersion: "v1", kind: "Secret", metadata: { name: "other-secret", namespace: "mindroom-instances", labels: { customer: "" } } })).to.deep.equal([msg]);
    const d = deployment();
    delete d.spec.template.metadata.labels.customer;
    expect(customerLabelViolations(d)).to.deep.equal(["the pod template must carry the label customer=<tenant id>"]);
    d.spec.template.metadata.labels.customer = "43";
    expect(customerLabelViolations(d)).to.deep.equal(["the pod template's customer=43 differs from the object's customer=42"]);
  });
});

describe("policy tenant-no-default-token", () => {
  const msg = "the pod runs as ServiceAccount default and mounts its token; set automountServiceAccountToken: false (no tenant workload uses that account)";
  /** `deployment()` with the token left to the defaults (mounted). */
  const mounting = (namespace?: string) => {
    const d = deployment({ namespace });
    delete podSpec(d).automountServiceAccountToken;
    return d;
  };

  it("passes a tenant pod without the default token, a pod of its own ServiceAccount, and pods outside mindroom-instances", () => {
    expect(defaultTokenViolations(deployment())).to.deep.equal([]);
    const own = mounting();
    podSpec(own).serviceAccountName = "mindroom-worker-manager-42";
    expect(defaultTokenViolations(own)).to.deep.equal([]);
    expect(defaultTokenViolations(mounting("mindroom-production"))).to.deep.equal([]);
    expect(defaultTokenViolations(pvc("hcloud-volumes"))).to.deep.equal([]);
  });

  it("fails a tenant pod of the default ServiceAccount (unset, empty or named) that leaves the token mounted or asks for it", () => {
    for (const [account, automount] of [[undefined, undefined], ["", undefined], ["default", undefined], [undefined, true], ["default", true]] as const) {
      const d = mounting();
      if (account !== undefined) podSpec(d).serviceAccountName = account;
      if (automount !== undefined) podSpec(d).automountServiceAccountToken = automount;
      expect(defaultTokenViolations(d), `${account} ${automount}`).to.deep.equal([msg]);
    }
  });
});

describe("policy tenant-storage-class", () => {
  it("passes tenant claims on hcloud-volumes (or a configured class) and claims outside mindroom-instances", () => {
    expect(storageClassViolations(pvc("hcloud-volumes"))).to.deep.equal([]);
    expect(storageClassViolations(pvc("standard"), ["hcloud-volumes", "standard"])).to.deep.equal([]);
    expect(storageClassViolations(pvc("local-path", "mindroom-production"))).to.deep.equal([]);
  });

  it("fails another class, an unset class (the cluster default) and a StatefulSet claim template", () => {
    expect(storageClassViolations(pvc("local-path"))).to.deep.equal(['the claim uses storage class "local-path"; tenant claims use hcloud-volumes']);
    expect(storageClassViolations(pvc())).to.deep.equal(["the claim sets no storageClassName (the cluster default); tenant claims use hcloud-volumes"]);
    const sts: KubeObject = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "mindroom-instances" }, spec: { volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { storageClassName: "standard" } }] } };
    expect(storageClassViolations(sts)).to.deep.equal(['claim template "data" uses storage class "standard"; tenant claims use hcloud-volumes']);
  });
});

describe("policy tenant-network-policy", () => {
  it("passes when a NetworkPolicy of mindroom-instances selects every tenant pod for ingress", () => {
    expect(networkPolicyCoverageViolations([deployment(), networkPolicy()])).to.deep.equal([]);
    expect(networkPolicyCoverageViolations([deployment(), networkPolicy({}, ["Ingress", "Egress"])])).to.deep.equal([]);
    // Workloads of other namespaces are not tenant pods.
    expect(networkPolicyCoverageViolations([deployment({ namespace: "mindroom-production" })])).to.deep.equal([]);
  });

  it("fails a tenant pod no policy selects: none, another tenant's, an egress-only one, one in another namespace", () => {
    const d = deployment();
    const elsewhere = { ...networkPolicy(), metadata: { name: "np", namespace: "default" } };
    for (const others of [[], [networkPolicy({ matchLabels: { customer: "43" } })], [networkPolicy(undefined, ["Egress"])], [elsewhere]]) {
      expect(networkPolicyCoverageViolations([...others, d])).to.deep.equal([
        { index: others.length, message: 'Deployment mindroom-instances/web: no NetworkPolicy in mindroom-instances selects its pods for ingress (labels {"app":"web","customer":"42"})' },
      ]);
    }
  });

  it("evaluates matchLabels and matchExpressions as the API server does", () => {
    const labels = { app: "web", customer: "42" };
    expect(selects({}, labels)).to.equal(true);
    expect(selects(undefined, labels)).to.equal(false);
    expect(selects({ matchExpressions: [{ key: "customer", operator: "In", values: ["41", "42"] }] }, labels)).to.equal(true);
    expect(selects({ matchExpressions: [{ key: "customer", operator: "NotIn", values: ["42"] }] }, labels)).to.equal(false);
    expect(selects({ matchExpressions: [{ key: "app", operator: "Exists" }, { key: "tier", operator: "DoesNotExist" }] }, labels)).to.equal(true);
    expect(selects({ matchLabels: { app: "web" }, matchExpressions: [{ key: "tier", operator: "Exists" }] }, labels)).to.equal(false);
  });
});
