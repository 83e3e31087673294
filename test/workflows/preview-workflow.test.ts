import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

const root = join(__dirname, "..", "..");
const file = join(root, ".github", "workflows", "preview.yml");
const text = () => readFileSync(file, "utf8");

type Step = { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> };
const workflow = () => parse(text()) as { on: Record<string, unknown>; jobs: Record<string, { env: Record<string, string>; steps: Step[] }> };

function actionValidator(path: string): { status: number | null; output: string } {
  const result = spawnSync("npx", ["--no-install", "action-validator", path], { cwd: root, encoding: "utf8" });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe("workflows/preview.yml", () => {
  it("passes action-validator", function () {
    this.timeout(60_000);
    const { status, output } = actionValidator(file);
    expect(status, output).to.equal(0);
  });

  it("action-validator rejects a broken workflow (the lint can fail)", function () {
    this.timeout(60_000);
    const broken = join(mkdtempSync(join(tmpdir(), "wf-")), "broken.yml");
    writeFileSync(broken, "name: x\non: pull_request\njobs:\n  a:\n    runs-on: ubuntu-latest\n    stepz: []\n");
    expect(actionValidator(broken).status).not.to.equal(0);
  });

  it("on pull requests installs, type-checks, lints and tests, then previews staging and production", () => {
    const wf = workflow();
    expect(wf.on).to.have.property("pull_request");
    const steps = wf.jobs.preview.steps;
    const runs = steps.map((s) => s.run);
    expect(runs.filter((r) => r?.startsWith("npm "))).to.deep.equal(["npm ci", "npm run build", "npm run lint"]);
    // The tests run as root, as in .ci/run: the metadata-guard test needs network namespaces.
    expect(runs).to.include('sudo env "PATH=$PATH" npm test');
    expect(steps.find((s) => s.run?.includes("apt-get install"))?.run).to.match(/cloud-init postgresql iptables/);
    expect(steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).to.equal(20);
    const previews = steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(previews.map((s) => [s.with?.command, s.with?.["stack-name"]])).to.deep.equal([["preview", "staging"], ["preview", "production"]]);
    for (const p of previews) {
      expect(p.with?.["cloud-url"]).to.equal("${{ secrets.PULUMI_BACKEND_URL }}");
      expect(p.with?.["pulumi-version"], "a pinned CLI").to.match(/^\d+\.\d+\.\d+$/);
      // Pull requests from forks get no secrets: the previews are skipped, not failed.
      expect(p.if).to.equal("env.PULUMI_BACKEND_URL != ''");
      expect(steps.indexOf(p)).to.be.greaterThan(runs.indexOf("npm test"));
    }
  });

  it("every pulumi preview runs the policy pack infra/policy (a mandatory violation fails it)", () => {
    const previews = Object.values(workflow().jobs).flatMap((j) => j.steps.filter((s) => s.uses?.startsWith("pulumi/actions@")));
    expect(previews.map((s) => s.with?.["stack-name"])).to.deep.equal(["staging", "production"]);
    // pulumi/actions passes each line of policyPacks to the CLI as --policy-pack <path>.
    for (const p of previews) expect(p.with?.policyPacks, String(p.with?.["stack-name"])).to.equal("infra/policy");
    const pack = parse(readFileSync(join(root, "infra", "policy", "PulumiPolicy.yaml"), "utf8")) as { runtime: string };
    expect(pack.runtime).to.equal("nodejs");
  });

  it("takes the backend and credentials from repository secrets, each documented, never on a command line", () => {
    const env = workflow().jobs.preview.env;
    expect(env).to.include({ PULUMI_BACKEND_URL: "${{ secrets.PULUMI_BACKEND_URL }}", PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}" });
    const used = new Set([...text().matchAll(/\$\{\{\s*secrets\.(\w+)\s*\}\}/g)].map((m) => m[1]));
    const header = text().split("\nname:")[0];
    for (const name of used) expect(header, `secret ${name} is documented`).to.match(new RegExp(`#.*\\b${name}\\b`));
    for (const step of workflow().jobs.preview.steps) expect(step.run ?? "").not.to.match(/secrets\./);
  });
});
