import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { resolveKubeAccess } from "../../../provisioner/stacks/kube-access";

describe("provisioner/stacks: how tenant stacks reach Kubernetes", () => {
  it("in a pod (KUBERNETES_SERVICE_HOST) uses the ServiceAccount", () => {
    expect(resolveKubeAccess({ KUBERNETES_SERVICE_HOST: "10.43.0.1", KUBECONFIG: "/x" }, "staging")).to.deep.equal({ mode: "in-cluster" });
  });

  it("outside a pod passes the KUBECONFIG file's contents (first entry of a list)", () => {
    const dir = mkdtempSync(join(tmpdir(), "kubeaccess-"));
    writeFileSync(join(dir, "config"), "apiVersion: v1\nkind: Config\n");
    try {
      expect(resolveKubeAccess({ KUBECONFIG: `${join(dir, "config")}:/other` }, "staging")).to.deep.equal({
        mode: "kubeconfig",
        kubeconfig: "apiVersion: v1\nkind: Config\n",
      });
      expect(() => resolveKubeAccess({ KUBECONFIG: join(dir, "missing") }, "staging")).to.throw(/KUBECONFIG=.* is not readable \(ENOENT\): fix the path or unset it/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("otherwise reads the root stack's kubeconfig output of the same environment", () => {
    expect(resolveKubeAccess({}, "production")).to.deep.equal({
      mode: "stack-reference",
      stack: "organization/mindroom/production",
      output: "kubeconfig",
    });
  });
});
