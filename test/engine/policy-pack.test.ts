/**
 * The policy pack (infra/policy, docs/policy.md) under the real CLI: `pulumi preview --policy-pack
 * infra/policy` on the root project's `local` stack (as projects.test.ts runs it) against the test
 * API server. The CLI starts the pack through the Node.js language host's RunPlugin
 * (tools/engine/language-nodejs/runplugin.go), as it does in CI with the release's host.
 * - as committed, the stack passes every policy and the preview succeeds;
 * - with the provisioner's container allowed to escalate and given NET_ADMIN (stack config the
 *   platform accepts), the pack reports mandatory violations and the preview fails.
 */
import { expect } from "chai";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import { sharedCluster } from "./support/cluster";
import { cliProject, ROOT, type CliProject } from "./support/pulumi-cli";

const PACK = join(ROOT, "infra", "policy");

describe("engine: policy pack on the root project's local stack (pulumi preview --policy-pack)", () => {
  let project: CliProject;
  const stackFile = () => join(project.dir, "Pulumi.local.yaml");

  before(async () => {
    const cluster = await sharedCluster();
    const config = (parse(readFileSync(join(ROOT, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, unknown> }).config;
    config["mindroom:local"] = { kubeconfig: cluster.kubeconfigPath };
    (config["mindroom:clusterServices"] as Record<string, unknown>).ingressNginx = { enabled: false };
    config["mindroom:providerAwait"] = false;
    project = cliProject({
      files: { "Pulumi.yaml": "Pulumi.yaml" },
      links: Object.fromEntries(["stacks", "components", "infra", "node_modules", "package.json", "tsconfig.json"].map((l) => [l, l])),
      stack: "local",
      stackConfig: config,
    });
    await project.ok(["stack", "init", "local"]);
    // No tenantStacksPassphrase: the platform generates the tenant stacks' own (docs/rekey.md).
    await project.ok(["config", "set", "--secret", "provisionerApiKey"], "engine-test-provisioner-key");
  });

  after(() => project?.remove());

  it("the committed local stack passes every policy: the preview succeeds and lists the pack", async () => {
    const started = Date.now();
    const res = await project.run(["preview", "--policy-pack", PACK]);
    const out = res.stdout + res.stderr;
    expect(res.code, out.slice(-3000)).to.equal(0);
    expect(out).to.match(/Policies:\s+✅ mindroom@v1\.0\.0 \(local: [^)]*infra\/policy\)/);
    expect(out).to.not.match(/mandatory|advisory/);
    console.log(`      - clean preview with the pack: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  });

  it("a provisioner container that may escalate and adds NET_ADMIN fails the preview with mandatory violations", async () => {
    const file = parse(readFileSync(stackFile(), "utf8")) as { config: Record<string, Record<string, unknown>> };
    const original = stringify(file);
    const platform = file.config["mindroom:platform"] as { provisioner: Record<string, unknown> };
    platform.provisioner.securityContext = { allowPrivilegeEscalation: true, capabilities: { add: ["NET_ADMIN"] } };
    writeFileSync(stackFile(), stringify(file));
    try {
      const started = Date.now();
      const res = await project.run(["preview", "--policy-pack", PACK]);
      const out = res.stdout + res.stderr;
      expect(res.code, out.slice(-3000)).to.not.equal(0);
      expect(out).to.match(/❌ mindroom@v1\.0\.0 \(local: [^)]*infra\/policy\)/);
      expect(out).to.match(/\[mandatory\]\s+pod-security-baseline/);
      expect(out).to.contain('container "provisioner" adds capabilities beyond the baseline set: NET_ADMIN');
      expect(out).to.match(/\[mandatory\]\s+pod-security-restricted/);
      expect(out).to.contain('container "provisioner" must set securityContext.allowPrivilegeEscalation=false');
      expect(out).to.contain("mindroom-provisioner");
      console.log(`      - failing preview with the pack: ${((Date.now() - started) / 1000).toFixed(1)} s`);
      // Without the pack the same stack previews fine: the pack, not the program, refused it.
      expect((await project.run(["preview"])).code).to.equal(0);
    } finally {
      writeFileSync(stackFile(), original);
    }
  });
});
