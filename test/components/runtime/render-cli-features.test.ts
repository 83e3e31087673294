/** The renderer CLI on a values file that switches on the issue-11 features at once. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateKubeObjects } from "../../support/kube-schema";
import type { KubeObject } from "../../../infra/render/manifests";

const ROOT = join(__dirname, "..", "..", "..");

describe("render runtime (CLI): stateStorage, contentBundles, appservice, providerCredentials, egressProxy together", function () {
  this.timeout(120_000);

  it("prints schema-valid objects carrying every feature", () => {
    const run = spawnSync("npx", ["tsx", "components/render-cli.ts", "runtime", "-f", "test/fixtures/runtime/features-values.yaml"], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
    expect(run.stderr).to.equal("");
    expect(run.status).to.equal(0);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const objects = parseAllDocuments(run.stdout).map((d) => d.toJS({ maxAliasCount: -1 }) as KubeObject & Record<string, any>);
    validateKubeObjects(objects);
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(names).to.include.members(["PersistentVolumeClaim/mindroom-runtime-state", "NetworkPolicy/mindroom-runtime-workers", "Deployment/mindroom-runtime"]);
    expect(names.filter((n) => n.startsWith("ConfigMap/"))).to.deep.equal([]);

    const pod = objects.find((o) => o.kind === "Deployment")!.spec.template.spec;
    expect(pod.initContainers.map((c: { name: string }) => c.name)).to.deep.equal(["prepare-state-storage", "content-bundle-team-config"]);
    const mindroom = pod.containers.find((c: { name: string }) => c.name === "mindroom");
    const env = new Map<string, { value?: string }>(mindroom.env.map((e: { name: string }) => [e.name, e]));
    expect(env.get("MATRIX_APPSERVICE_TOKEN_FILE")?.value).to.equal("/etc/mindroom/matrix-appservice/MATRIX_APPSERVICE_TOKEN");
    expect(env.has("OPENAI_API_KEY") && env.has("ANTHROPIC_API_KEY")).to.equal(true);
    expect(JSON.parse(env.get("MINDROOM_KUBERNETES_WORKER_ENV_JSON")!.value!).HTTP_PROXY).to.equal("http://squid.egress.svc.cluster.local:3128");
    expect(mindroom.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).to.include.members(["/etc/mindroom/matrix-appservice", "/app/agent_data/encryption_keys"]);
    const np = objects.find((o) => o.kind === "NetworkPolicy" && o.metadata?.name === "mindroom-runtime-workers")!;
    expect(np.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
  });
});
