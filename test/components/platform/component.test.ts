/** The component's contract with the root stack: type token, call shape, parents, providers, outputs. */
import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordProgram } from "../../../infra/render/record";
import { Platform, parsePlatformValues } from "../../../components/platform";

describe("Platform component", () => {
  it("new Platform(name, parsePlatformValues(values), {providers: [k8sProvider]}) parents every object and passes the provider", async () => {
    let outputs: Promise<unknown[]> | undefined;
    const regs = await recordProgram(() => {
      const k8sProvider = new k8s.Provider("cluster", {});
      const platform = new Platform("platform", parsePlatformValues({ environment: "production", provisioner: { enabled: true, pulumiConfigPassphrase: "p" } }), {
        providers: [k8sProvider],
      });
      outputs = Promise.all([platform.namespace, platform.backendUrl, platform.provisionerUrl].map((o) => new Promise((resolve) => o.apply(resolve))));
    });
    const component = regs.find((r) => r.type === "mindroom:platform:Platform")!;
    expect(component.name).to.equal("platform");
    expect(component.custom).to.equal(false);
    const objects = regs.filter((r) => r.type.startsWith("kubernetes:") && !r.type.startsWith("pulumi:providers"));
    expect(objects.length).to.be.greaterThan(15);
    for (const r of objects) {
      expect(r.urn, r.name).to.contain("mindroom:platform:Platform$kubernetes:");
      expect(r.provider, r.name).to.match(/pulumi:providers:kubernetes::cluster::/);
    }
    expect(await outputs).to.deep.equal([
      "mindroom-production",
      "http://platform-backend.mindroom-production.svc:8000",
      "http://mindroom-provisioner.mindroom-production.svc:8080",
    ]);
  });

  it("forwards the caller's dependsOn (the mindroom-instances Namespace) to its children, and retains the provisioner PVC", async () => {
    const seen = new Map<string, pulumi.CustomResourceOptions>();
    await recordProgram(() => {
      const record: pulumi.ResourceTransformation = (t) => {
        seen.set(`${t.type}::${t.name}`, t.opts);
        return undefined;
      };
      const instancesNs = new k8s.core.v1.Namespace("instances", { metadata: { name: "mindroom-instances" } });
      new Platform("platform", parsePlatformValues({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } }), {
        dependsOn: [instancesNs],
        transformations: [record],
      });
    });
    const depsOf = (key: string) => ((seen.get(key)?.dependsOn ?? []) as pulumi.Resource[]).map((r) => (r as unknown as { __name: string }).__name);
    for (const key of [
      "kubernetes:rbac.authorization.k8s.io/v1:Role::platform-role-platform-backend",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::platform-rolebinding-platform-backend",
      "kubernetes:rbac.authorization.k8s.io/v1:Role::platform-role-platform-backend-tenant-rbac",
      "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::platform-rolebinding-platform-backend-tenant-rbac",
      "kubernetes:rbac.authorization.k8s.io/v1:ClusterRole::platform-namespace-manager",
      "kubernetes:core/v1:Namespace::platform-mindroom-staging",
    ]) {
      expect(depsOf(key), key).to.deep.equal(["instances"]);
    }
    expect(depsOf("kubernetes:core/v1:ConfigMap::platform-platform-config")).to.deep.equal(["platform-mindroom-staging"]);
    expect(seen.get("kubernetes:core/v1:PersistentVolumeClaim::platform-mindroom-provisioner-data")?.retainOnDelete).to.equal(true);
  });
});
