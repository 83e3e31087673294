/**
 * Object-by-object parity with upstream's chart: `test/fixtures/runtime/helm/*.helm.yaml` is what
 * `helm template` of the upstream runtime chart (9f69327b) renders for the values beside it
 * (stateStorage, contentBundles, appservice, providerCredentials, egressProxy). The component must
 * render the same objects, apart from the deviations docs/runtime.md lists: no `helm.sh/chart`
 * label, `managed-by: pulumi`, explicit namespaces, and the runtime pod's `runAsNonRoot` and
 * RuntimeDefault seccomp.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { loadValuesFiles } from "../../../infra/values/load";
import { render, type Obj } from "./helpers";

const DIR = join(__dirname, "..", "..", "fixtures", "runtime");
const CASES: Record<string, string> = {
  features: join(DIR, "features-values.yaml"),
  "storage-bundles": join(DIR, "helm", "storage-bundles.values.yaml"),
  "egress-proxy": join(DIR, "helm", "egress-proxy.values.yaml"),
  "egress-proxy-no-env": join(DIR, "helm", "egress-proxy-no-env.values.yaml"),
};

/** Strips what differs by design, so the rest must be equal. */
function normalise(objects: Obj[], ours: boolean): Record<string, Obj> {
  const out: Record<string, Obj> = {};
  for (const o of objects) {
    const copy = JSON.parse(JSON.stringify(o)) as Obj;
    const md = copy.metadata ?? {};
    delete md.namespace;
    if (md.labels) {
      delete md.labels["helm.sh/chart"];
      delete md.labels["app.kubernetes.io/managed-by"];
    }
    if (ours && copy.kind === "Deployment" && md.name === "mindroom-runtime") {
      const pod = copy.spec.template.spec.securityContext;
      expect(pod.runAsNonRoot).to.equal(true);
      expect(pod.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
      delete pod.runAsNonRoot;
      delete pod.seccompProfile;
    }
    // The same YAML, quoted differently.
    if (copy.kind === "ConfigMap" && copy.data?.["config.yaml"]) copy.data["config.yaml"] = parse(copy.data["config.yaml"]);
    out[`${copy.kind}/${md.name}`] = copy;
  }
  return out;
}

describe("runtime features: parity with helm template of the upstream chart", () => {
  for (const [name, values] of Object.entries(CASES)) {
    it(name, async () => {
      const helm = parseAllDocuments(readFileSync(join(DIR, "helm", `${name}.helm.yaml`), "utf8"))
        .map((d) => d.toJS() as Obj)
        .filter((d) => d);
      const ours = (await render(loadValuesFiles([values]))).objects;
      const expected = normalise(helm, false);
      const actual = normalise(ours, true);
      expect(Object.keys(actual).sort()).to.deep.equal(Object.keys(expected).sort());
      for (const key of Object.keys(expected)) expect(actual[key], key).to.deep.equal(expected[key]);
    });
  }
});
