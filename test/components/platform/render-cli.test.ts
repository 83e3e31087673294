/** The renderer CLI end to end: `npx tsx components/render-cli.ts platform -f <fixture>`. */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";

const ROOT = join(__dirname, "../../..");
const FIXTURES = join(ROOT, "test/fixtures/platform");
const render = (...args: string[]) => spawnSync("npx", ["tsx", "components/render-cli.ts", "platform", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("render platform CLI", function () {
  this.timeout(120_000);

  it("prints a YAML stream for valid values and exits 1 with one stderr line for invalid ones", () => {
    const ok = render("-f", join(FIXTURES, "production.yaml"));
    expect(ok.status, ok.stderr).to.equal(0);
    const docs = parseAllDocuments(ok.stdout, { version: "1.1" }).map((d) => d.toJS() as { kind: string; metadata: { name: string } });
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).to.include.members([
      "Namespace/mindroom-production",
      "Deployment/mindroom-provisioner",
      "ServiceMonitor/platform-backend",
      "ClusterRole/platform-backend-namespace-manager-production",
    ]);
    expect(ok.stdout).not.to.contain("fixture-passphrase");
    expect(ok.stdout).not.to.contain("fixture-supabase-service-key");

    const bad = render("-f", join(FIXTURES, "invalid-template.yaml"));
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.equal("");
    expect(bad.stderr.trimEnd().split("\n")).to.deep.equal([
      "render: provisioner.trustedUpstreamAuth.emailToMatrixUserIdTemplate: must contain exactly one {localpart} placeholder, e.g. @{localpart}:example.org (got @user:example.org)",
    ]);

    const wrongNs = render("-f", join(FIXTURES, "production.yaml"), "-n", "mindroom-staging");
    expect(wrongNs.status).to.equal(1);
    expect(wrongNs.stdout).to.equal("");
    expect(wrongNs.stderr).to.match(/^render: namespace: the platform lives in mindroom-production/);
  });
});
