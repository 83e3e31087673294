/** The renderer CLI end to end: `npx tsx components/render-cli.ts runtime -f <values>`. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateKubeObjects } from "../../support/kube-schema";
import type { KubeObject } from "../../../infra/render/manifests";

const ROOT = join(__dirname, "..", "..", "..");

function cli(...args: string[]) {
  const run = spawnSync("npx", ["tsx", "components/render-cli.ts", "runtime", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

describe("render runtime (CLI)", function () {
  this.timeout(120_000);

  it("prints schema-valid objects for the production values, honouring --release-name and --namespace", () => {
    const run = cli("-f", "test/fixtures/runtime/production-values.yaml", "--release-name", "edge", "-n", "apps");
    expect(run.stderr).to.equal("");
    expect(run.status).to.equal(0);
    const objects = parseAllDocuments(run.stdout).map((d) => d.toJS({ maxAliasCount: -1 }) as KubeObject);
    validateKubeObjects(objects);
    const names = objects.map((o) => `${o.kind}/${o.metadata?.namespace}/${o.metadata?.name}`);
    expect(names).to.include("Deployment/apps/edge-mindroom-runtime");
    expect(names).to.include("Secret/apps/edge-mindroom-runtime-event-cache-postgres-auth");
    // Secrets are redacted unless --show-secrets.
    expect(run.stdout).to.contain("password: REDACTED");
    expect(run.stdout).to.not.match(/postgresql:\/\//);
  });

  it("invalid values: exit 1, one line on stderr naming the value, nothing on stdout", () => {
    const run = cli("-f", "test/fixtures/runtime/invalid-values.yaml");
    expect(run.status).to.equal(1);
    expect(run.stdout).to.equal("");
    expect(run.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(run.stderr).to.match(/^render: config\.path: config\.source=file needs an absolute path/);
    const badRelease = cli("-f", "test/fixtures/runtime/production-values.yaml", "--release-name", "Edge_1");
    expect([badRelease.status, badRelease.stdout]).to.deep.equal([1, ""]);
    expect(badRelease.stderr).to.equal(`render: releaseName: "Edge_1" must be a DNS label (lower-case letters, digits and '-', at most 63 characters); it names the runtime's objects\n`);
  });
});
