/** Every rendered object is valid against the Kubernetes OpenAPI schemas, in every mode. */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { MONITORING_KINDS, renderPlatform } from "./render-platform";

const MODES: Record<string, Record<string, unknown>> = {
  defaults: {},
  "everything on": {
    environment: "production",
    imagePullSecrets: [{ name: "regcred" }],
    autoscaling: { enabled: true },
    monitoring: { enabled: true },
    apexRedirect: { enabled: true },
    ingress: { enableConfigurationSnippet: true },
    resources: { frontend: null },
    provisioner: { enabled: true, pulumiConfigPassphrase: "p", storage: { storageClassName: "hcloud-volumes" } },
  },
  "provisioner with remote backend": { provisioner: { enabled: true, pulumiConfigPassphrase: "p", backendUrl: "s3://bucket" } },
  "pre-created secrets": { platformSecrets: { create: false }, matrixOidc: { enabled: "true" }, provisioner: { enabled: true } },
};

describe("platform objects are schema-valid", () => {
  for (const [mode, values] of Object.entries(MODES)) {
    for (const showSecrets of [false, true]) {
      it(`${mode}${showSecrets ? " (--show-secrets)" : ""}`, async () => {
        const r = await renderPlatform(values, showSecrets);
        expect(r.objects.length).to.be.greaterThan(12);
        validateKubeObjects(r.objects, MONITORING_KINDS);
      });
    }
  }

  it("the monitoring kinds pass only because they are allowed explicitly", async () => {
    const r = await renderPlatform({ monitoring: { enabled: true } });
    expect(() => validateKubeObjects(r.objects)).to.throw(/ServiceMonitor|PrometheusRule/);
  });
});
