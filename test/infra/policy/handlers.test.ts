/** The `@pulumi/policy` handlers of `rules.ts` with hand-made arguments (spec pulumi.md §4.5). */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { unknownCheckingProxy, type ResourceValidationArgs, type ResourceValidationPolicy, type StackValidationArgs, type StackValidationPolicy } from "@pulumi/policy";
import { kubeObjectFromResource, type Obj } from "../../../infra/policy/kube";
import { policies, RESOURCE_RULES, STACK_RULES } from "../../../infra/policy/rules";
import { deployment, networkPolicy, pvc } from "./fixtures";

const byName = (name: string) => policies.find((p) => p.name === name)!;

function validate(name: string, type: string, props: Obj, config: Record<string, unknown> = {}): string[] {
  const reported: string[] = [];
  const args = { type, props, urn: `urn:pulumi:s::p::${type}::x`, name: "x", getConfig: () => config } as unknown as ResourceValidationArgs;
  const fn = (byName(name) as ResourceValidationPolicy).validateResource;
  for (const f of Array.isArray(fn) ? fn : [fn!]) void f(args, (message) => reported.push(message));
  return reported;
}

function validateStack(name: string, resources: { type: string; props: Obj; urn: string }[]): { message: string; urn?: string }[] {
  const reported: { message: string; urn?: string }[] = [];
  const args = { resources, getConfig: () => ({}) } as unknown as StackValidationArgs;
  void (byName(name) as StackValidationPolicy).validateStack!(args, (message, urn) => reported.push({ message, urn }));
  return reported;
}

describe("policy pack handlers", () => {
  it("has every rule once, all mandatory", () => {
    expect(policies.map((p) => p.name)).to.deep.equal([...RESOURCE_RULES, ...STACK_RULES].map((r) => r.name));
    expect(policies.map((p) => p.name)).to.deep.equal(["pod-security-baseline", "pod-security-restricted", "no-secret-literals", "tenant-customer-label", "tenant-storage-class", "tenant-no-default-token", "ingress-tls", "tenant-network-policy", "platform-network-policy"]);
    for (const p of policies) expect(p.enforcementLevel, p.name).to.equal("mandatory");
  });

  it("reads a Kubernetes resource's inputs as the object, apiVersion and kind from the type token when missing", () => {
    expect(kubeObjectFromResource("kubernetes:core/v1:Pod", { metadata: { name: "p" } })).to.include({ apiVersion: "v1", kind: "Pod" });
    expect(kubeObjectFromResource("kubernetes:networking.k8s.io/v1:Ingress", { spec: {} })).to.include({ apiVersion: "networking.k8s.io/v1", kind: "Ingress" });
    for (const t of ["kubernetes:helm.sh/v3:Release", "kubernetes:yaml/v2:ConfigGroup", "kubernetes:apps/v1:DeploymentPatch", "kubernetes:core/v1:ConfigMapList", "pulumi:providers:kubernetes", "hcloud:index/server:Server"]) {
      expect(kubeObjectFromResource(t, { kind: "Deployment", apiVersion: "apps/v1" }), t).to.equal(undefined);
    }
  });

  it("a resource policy reports each violation of its rule and nothing for a compliant object or another provider's resource", () => {
    const bad = deployment();
    bad.spec.template.spec.hostNetwork = true;
    expect(validate("pod-security-baseline", "kubernetes:apps/v1:Deployment", bad)).to.deep.equal(["baseline: host namespaces: hostNetwork must not be true"]);
    expect(validate("pod-security-baseline", "kubernetes:apps/v1:Deployment", deployment())).to.deep.equal([]);
    expect(validate("pod-security-baseline", "hcloud:index/server:Server", { hostNetwork: true })).to.deep.equal([]);
  });

  it("tenant-storage-class takes the allowed classes from the policy config (storageClasses)", () => {
    const claim = pvc("standard");
    expect(validate("tenant-storage-class", "kubernetes:core/v1:PersistentVolumeClaim", claim)).to.have.length(1);
    expect(validate("tenant-storage-class", "kubernetes:core/v1:PersistentVolumeClaim", claim, { storageClasses: ["hcloud-volumes", "standard"] })).to.deep.equal([]);
    const schema = (byName("tenant-storage-class") as ResourceValidationPolicy).configSchema;
    expect(schema?.properties.storageClasses).to.deep.include({ type: "array", default: ["hcloud-volumes"] });
  });

  it("config-local.json (kind's standard, k3d's local-path) is a valid config for tenant-storage-class", () => {
    const file = JSON.parse(readFileSync(join(__dirname, "../../../infra/policy/config-local.json"), "utf8")) as Record<string, Record<string, unknown>>;
    expect(Object.keys(file)).to.deep.equal(["tenant-storage-class"]);
    expect(Object.keys(file["tenant-storage-class"])).to.deep.equal(["storageClasses"]);
    for (const cls of ["hcloud-volumes", "standard", "local-path"]) {
      expect(validate("tenant-storage-class", "kubernetes:core/v1:PersistentVolumeClaim", pvc(cls), file["tenant-storage-class"]), cls).to.deep.equal([]);
    }
  });

  it("the stack policy reports an uncovered tenant pod on that resource's URN", () => {
    const resources = [
      { type: "kubernetes:apps/v1:Deployment", props: deployment(), urn: "urn:d" },
      { type: "kubernetes:helm.sh/v3:Release", props: {}, urn: "urn:r" },
    ];
    expect(validateStack("tenant-network-policy", resources)).to.deep.equal([
      { message: 'Deployment mindroom-instances/web: no NetworkPolicy in mindroom-instances selects its pods for ingress (labels {"app":"web","customer":"42"})', urn: "urn:d" },
    ]);
    expect(validateStack("tenant-network-policy", [...resources, { type: "kubernetes:networking.k8s.io/v1:NetworkPolicy", props: networkPolicy(), urn: "urn:np" }])).to.deep.equal([]);
  });

  it("an unknown input (preview) surfaces as @pulumi/policy's UnknownValueError, which the pack reports as advisory", () => {
    const d = deployment();
    d.spec.template.spec.hostNetwork = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"; // the engine's unknown sentinel
    expect(() => validate("pod-security-baseline", "kubernetes:apps/v1:Deployment", unknownCheckingProxy(d))).to.throw(/can't be known during preview/);
  });
});
