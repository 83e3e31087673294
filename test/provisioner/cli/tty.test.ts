import { expect } from "chai";
import { call, startHarness, SUB, type Harness } from "../http/harness";
import { HAVE_SCRIPT, mindroomTty } from "./run-cli";

const SUB2 = "6f1c1e3a-3c1b-4b8e-9a51-0f2b6f0c9d11";

// A terminal for the CLI through util-linux `script`; without it these are skipped (the non-TTY paths are tested elsewhere).
(HAVE_SCRIPT ? describe : describe.skip)("mindroom CLI on a terminal (pseudo-TTY)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const provision = async (subscription = SUB) => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription, tier: "byok" } });
    expect(res.status).to.equal(200);
    return String(res.body.customer_id);
  };

  it("provision --wait draws a progress bar and ends with the URLs", async () => {
    h.stacks.beforeUp = () => new Promise((r) => setTimeout(r, 300));
    const r = await mindroomTty(h, ["provision", "--subscription", SUB, "--wait"]);
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/provision 1 \[█+░*\] running/);
    expect(r.output).to.match(/provision 1 \[█{24}\] succeeded/);
    expect(r.output).to.include("\x1b[?25l"); // the cursor hidden while drawing…
    expect(r.output).to.include("\x1b[?25h"); // …and shown again
    expect(r.output).to.match(/frontend: https:\/\/1\.mindroom\.test/);
  });

  it("an upgrade rollout's bar counts the tenants", async () => {
    await provision(SUB);
    await provision(SUB2);
    h.stacks.beforeUp = () => new Promise((r) => setTimeout(r, 300));
    const r = await mindroomTty(h, ["upgrade", "--all", "--concurrency", "1", "--yes", "--wait"]);
    expect(r.code, r.output).to.equal(0);
    expect(r.output).to.match(/upgrade rollout \[█{12}░{12}\] 1\/2/);
    expect(r.output).to.match(/upgrade rollout \[█{24}\] 2\/2/);
  });

  it("deprovision asks; y goes ahead, anything else changes nothing (exit 1)", async () => {
    const id = await provision();
    const no = await mindroomTty(h, ["deprovision", id], { input: "n\r" });
    expect(no.code, no.output).to.equal(1);
    expect(no.output).to.include(`Deprovision instance ${id} (its data volumes are kept)? [y/N]`);
    expect(no.output).to.include("error: not confirmed; nothing was changed");
    expect(h.stacks.calls.filter((c) => c.op === "destroy")).to.deep.equal([]);

    const yes = await mindroomTty(h, ["deprovision", id, "--delete-data", "--wait"], { input: "y\r" });
    expect(yes.code, yes.output).to.equal(0);
    expect(yes.output).to.include(`Deprovision instance ${id} and DELETE its data volumes (cannot be undone)? [y/N]`);
    expect(h.stacks.calls.filter((c) => c.op === "destroy")).to.deep.equal([{ op: "destroy", instanceId: id }]);
    expect(h.kube.mutations().filter((m) => m.startsWith("deletePvc:"))).to.have.length.greaterThan(0);
  });

  it("upgrade --all asks with the number of tenants it selects", async () => {
    await provision(SUB);
    await provision(SUB2);
    const r = await mindroomTty(h, ["upgrade", "--all", "--image", "ghcr.io/mindroom-ai/mindroom:v2"], { input: "no\r" });
    expect(r.code, r.output).to.equal(1);
    expect(r.output).to.include("Upgrade 2 tenants to MindRoom image ghcr.io/mindroom-ai/mindroom:v2? [y/N]");
    expect((await call(h, "GET", "/system/jobs?kind=rollout")).body.jobs).to.deep.equal([]);
  });
});
