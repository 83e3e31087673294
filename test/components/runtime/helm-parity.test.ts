/**
 * Object-by-object parity with upstream's chart: `test/fixtures/runtime/helm/<case>.helm.yaml` is
 * what `helm template` of the upstream runtime chart (9f69327b) rendered for the values named
 * beside it (stateStorage, contentBundles, appservice, providerCredentials, egressProxy,
 * approvedEgress, Agent Vault). The component must render the same objects apart from the
 * deviations docs/runtime.md lists: no `helm.sh/chart` label, `managed-by: pulumi`, explicit
 * namespaces, the runtime pod's `runAsNonRoot`/seccomp, no Helm hook annotations, the bootstrap
 * script without its shell comments, and the bootstrap RoleBinding's subject namespace spelt out.
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
  "egress-vault": join(DIR, "egress-vault-values.yaml"),
  "egress-vault-split": join(DIR, "helm", "egress-vault-split.values.yaml"),
  "agent-vault-static": join(DIR, "helm", "agent-vault-static.values.yaml"),
};

/** Strips what differs by design (asserting our side of it), so the rest must be equal. */
function normalise(objects: Obj[], ours: boolean, namespace: string): Record<string, Obj> {
  const out: Record<string, Obj> = {};
  for (const o of objects) {
    const copy = JSON.parse(JSON.stringify(o)) as Obj;
    const md = copy.metadata ?? {};
    delete md.namespace;
    for (const labels of [md.labels, copy.spec?.template?.metadata?.labels]) {
      if (!labels) continue;
      delete labels["helm.sh/chart"];
      delete labels["app.kubernetes.io/managed-by"];
    }
    if (md.annotations) {
      for (const key of Object.keys(md.annotations)) if (key.startsWith("helm.sh/")) delete md.annotations[key];
      if (Object.keys(md.annotations).length === 0) delete md.annotations;
    }
    if (ours && copy.kind === "Deployment" && md.name === "mindroom-runtime") {
      const pod = copy.spec.template.spec.securityContext;
      expect(pod.runAsNonRoot).to.equal(true);
      expect(pod.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
      delete pod.runAsNonRoot;
      delete pod.seccompProfile;
    }
    if (copy.kind === "Job" && copy.spec.template.spec.initContainers) {
      // Upstream's shell comments are prose, not commands: the script must match line for line without them.
      const init = copy.spec.template.spec.initContainers[0];
      init.args[0] = (init.args[0] as string).split("\n").filter((l) => !l.trim().startsWith("#")).join("\n");
    }
    if (ours && copy.kind === "RoleBinding" && md.name?.endsWith("-bootstrap")) {
      expect(copy.subjects[0].namespace).to.equal(namespace);
      delete copy.subjects[0].namespace;
    }
    // The same YAML, quoted differently.
    if (copy.kind === "ConfigMap" && copy.data?.["config.yaml"]) copy.data["config.yaml"] = parse(copy.data["config.yaml"]);
    out[`${copy.kind}/${md.name}`] = copy;
  }
  return out;
}

describe("runtime chart features: parity with helm template of the upstream chart", () => {
  for (const [name, values] of Object.entries(CASES)) {
    it(name, async () => {
      const helm = parseAllDocuments(readFileSync(join(DIR, "helm", `${name}.helm.yaml`), "utf8"))
        .map((d) => d.toJS() as Obj)
        .filter((d) => d);
      const ours = (await render(loadValuesFiles([values]))).objects;
      const expected = normalise(helm, false, "mindroom");
      const actual = normalise(ours, true, "mindroom");
      expect(Object.keys(actual).sort()).to.deep.equal(Object.keys(expected).sort());
      for (const key of Object.keys(expected)) expect(actual[key], key).to.deep.equal(expected[key]);
    });
  }
});
