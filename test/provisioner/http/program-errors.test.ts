/**
 * The tenant program validates its values synchronously, when it is built, before any CLI runs; the
 * adapter passes its ValuesError through (docs/provisioner-adapters.md, error mapping). The job must
 * then fail with that one line, not with "unexpected error", and nothing may quote a secret value.
 */
import { expect } from "chai";
import { tenantProgram } from "../../../stacks/tenant";
import { call, startHarness, SUB, type Harness } from "./harness";

describe("provisioner HTTP: tenant program exceptions", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ env: { OPENROUTER_PROVISIONING_API_KEY: "", SANDBOX_PROXY_TOKEN: "sandbox-token-Q2w9e8r7t6y5u4i3" } });
  });
  afterEach(() => h.close());

  it("a ValuesError (provisioner outside a pod, in-cluster kube access) fails the job with the one-line reason and marks the row error", async () => {
    const host = process.env.KUBERNETES_SERVICE_HOST;
    delete process.env.KUBERNETES_SERVICE_HOST;
    try {
      h.stacks.beforeUp = async (spec) => void tenantProgram(spec.values, { kube: { mode: "in-cluster" } });
      const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
      expect(res.status).to.equal(500);
      expect(res.body.detail).to.equal(
        "Failed to deploy instance: kube access in-cluster: KUBERNETES_SERVICE_HOST is not set, so this process is not running in a pod; run the provisioner in the cluster or use kubeconfig / stack-reference access",
      );
      expect(h.mirror.rows.get("1")).to.include({ status: "error", last_error: res.body.detail });
    } finally {
      if (host !== undefined) process.env.KUBERNETES_SERVICE_HOST = host;
    }
  });

  it("an exception that quotes a tenant secret value leaves it out of the reason and the logs", async () => {
    h.stacks.beforeUp = async (spec) => {
      throw new TypeError(`cannot use ${String(spec.values.sandbox_proxy_token)} here`);
    };
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    expect(res.status).to.equal(500);
    expect(JSON.stringify(res.body)).to.not.include("sandbox-token-Q2w9e8r7t6y5u4i3");
    expect(h.log.text()).to.include("cannot use");
    expect(h.log.text()).to.not.include("sandbox-token-Q2w9e8r7t6y5u4i3");
  });
});
