import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";

const root = join(__dirname, "..", "..");
const file = join(root, ".github", "workflows", "preview.yml");

describe("workflows/preview.yml", () => {
  it("passes action-validator", function () {
    this.timeout(60_000);
    const result = spawnSync("npx", ["--no-install", "action-validator", file], { cwd: root, encoding: "utf8" });
    expect(result.status, `${result.stdout}${result.stderr}`).to.equal(0);
  });

  it("runs tests and previews staging and production on pull requests", () => {
    const wf = parse(readFileSync(file, "utf8")) as { on: Record<string, unknown>; jobs: Record<string, { steps: { uses?: string; run?: string; with?: Record<string, unknown> }[] }> };
    expect(wf.on).to.have.property("pull_request");
    const steps = wf.jobs.preview.steps;
    expect(steps.map((s) => s.run)).to.include.members(["npm ci", "npm test"]);
    expect(steps.find((s) => s.uses?.startsWith("actions/setup-node"))?.with?.["node-version"]).to.equal(20);
    const previews = steps.filter((s) => s.uses?.startsWith("pulumi/actions"));
    expect(previews.map((s) => [s.with?.command, s.with?.["stack-name"]])).to.deep.equal([["preview", "staging"], ["preview", "production"]]);
    expect(readFileSync(file, "utf8")).to.match(/PULUMI_CONFIG_PASSPHRASE: \$\{\{ secrets\.PULUMI_CONFIG_PASSPHRASE \}\}/);
  });
});
