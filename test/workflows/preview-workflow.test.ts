import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";

const root = join(__dirname, "..", "..");
const file = join(root, ".github", "workflows", "preview.yml");
const text = () => readFileSync(file, "utf8");

type Step = { name?: string; uses?: string; run?: string; if?: string; env?: Record<string, string>; with?: Record<string, unknown> };
type Job = { needs?: string; environment?: string; env?: Record<string, string>; steps: Step[] };
const workflow = () => parse(text()) as { on: Record<string, unknown>; jobs: Record<string, Job> };

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

  it("on pull requests (not pull_request_target) the test job installs, type-checks, lints and tests", () => {
    const wf = workflow();
    expect(Object.keys(wf.on)).to.deep.equal(["pull_request"]);
    expect(Object.keys(wf.jobs)).to.deep.equal(["test", "preview"]);
    const steps = wf.jobs.test.steps;
    const runs = steps.map((s) => s.run);
    expect(runs.filter((r) => r?.startsWith("npm "))).to.deep.equal(["npm ci", "npm run build", "npm run lint"]);
    // The tests run as root, as in .ci/run: the metadata-guard test needs network namespaces.
    expect(runs).to.include('sudo env "PATH=$PATH" npm test');
    expect(steps.find((s) => s.run?.includes("apt-get install"))?.run).to.match(/cloud-init postgresql iptables/);
    expect(steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).to.equal(20);
    expect(steps.some((s) => s.uses?.startsWith("pulumi/"))).to.equal(false);
  });

  it("the job that runs the pull request's code holds no secret: none in its env, steps, inputs or conditions", () => {
    const job = workflow().jobs.test;
    expect(job.environment, "no environment (its secrets would be exposed)").to.equal(undefined);
    expect(JSON.stringify(job)).not.to.match(/secrets\./);
    expect(job.env ?? {}).to.deep.equal({});
    // The checkout leaves no token in .git/config for the pull request's code to read.
    for (const s of [...job.steps, ...workflow().jobs.preview.steps].filter((x) => x.uses?.startsWith("actions/checkout"))) {
      expect(s.with?.["persist-credentials"]).to.equal(false);
    }
  });

  it("the preview job runs after the tests, behind the GitHub environment preview, installs only the lockfile without scripts and runs only pulumi preview", () => {
    const job = workflow().jobs.preview;
    expect(job.needs).to.equal("test");
    expect(job.environment).to.equal("preview");
    const runs = job.steps.filter((s) => s.run !== undefined).map((s) => s.run as string);
    // Besides the skip notice, the one command: the lockfile's packages, no install scripts.
    expect(runs.filter((r) => !r.startsWith("echo "))).to.deep.equal(["npm ci --ignore-scripts"]);
    for (const r of runs.filter((x) => x.startsWith("echo "))) expect(r, "a notice, no expansion").to.match(/^echo "::warning::[^$`"]*"$/);
    const actions = job.steps.filter((s) => s.uses !== undefined).map((s) => s.uses as string);
    expect(actions.map((a) => a.split("@")[0])).to.deep.equal(["actions/checkout", "actions/setup-node", "pulumi/actions", "pulumi/actions"]);
    for (const a of actions) expect(a, "third-party actions pinned to a commit").to.match(/@[0-9a-f]{40}$/);
    // No npm cache restored into the job that holds the secrets (the test job's code wrote it).
    expect(job.steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.cache).to.equal(undefined);
    const previews = job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"));
    expect(previews.map((s) => [s.with?.command, s.with?.["stack-name"]])).to.deep.equal([["preview", "staging"], ["preview", "production"]]);
    const install = job.steps.findIndex((s) => s.run === "npm ci --ignore-scripts");
    for (const p of previews) {
      expect(p.with?.["cloud-url"]).to.equal("${{ secrets.PULUMI_BACKEND_URL }}");
      expect(p.with?.["pulumi-version"], "a pinned CLI").to.match(/^\d+\.\d+\.\d+$/);
      expect(p.with?.["comment-on-pr"]).to.equal(false);
      // Pull requests from forks get no secrets: the previews are skipped, not failed.
      expect(p.if).to.equal("env.BACKEND_CONFIGURED == 'true'");
      expect(job.steps.indexOf(p)).to.be.greaterThan(install);
    }
  });

  it("secrets reach only the two preview steps (their env and inputs), each documented, never on a command line", () => {
    const job = workflow().jobs.preview;
    expect(job.env).to.deep.equal({ BACKEND_CONFIGURED: "${{ secrets.PULUMI_BACKEND_URL != '' }}" });
    for (const s of job.steps) {
      const holds = JSON.stringify({ env: s.env, with: s.with, run: s.run }).match(/secrets\./) !== null;
      expect(holds, `${s.name ?? s.uses ?? s.run}`).to.equal(s.uses?.startsWith("pulumi/actions@") === true);
      expect(s.run ?? "").not.to.match(/secrets\./);
    }
    for (const p of job.steps.filter((s) => s.uses?.startsWith("pulumi/actions@"))) {
      expect(p.env).to.deep.equal({
        PULUMI_CONFIG_PASSPHRASE: "${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
        AWS_ACCESS_KEY_ID: "${{ secrets.AWS_ACCESS_KEY_ID }}",
        AWS_SECRET_ACCESS_KEY: "${{ secrets.AWS_SECRET_ACCESS_KEY }}",
      });
    }
    const used = new Set([...text().matchAll(/\$\{\{\s*secrets\.(\w+)/g)].map((m) => m[1]));
    expect([...used].sort()).to.deep.equal(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"]);
    const header = text().split("\nname:")[0];
    for (const name of used) expect(header, `secret ${name} is documented`).to.match(new RegExp(`#.*\\b${name}\\b`));
  });
});
