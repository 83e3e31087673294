import { expect } from "chai";
import { EngineError } from "../../../provisioner/ports";
import { call, startHarness, type Harness } from "../http/harness";
import { mindroom } from "./run-cli";

const subscription = (n: number) => `5f0c7a8e-1d2b-4c3d-8e9f-${String(n).padStart(12, "0")}`;

describe("mindroom CLI: rekey (docs/rekey.md)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const provision = async (n: number) => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription(n), tier: "free" } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return String(res.body.customer_id);
  };

  it("rekey --wait moves the stacks still on the previous passphrase, prints the summary and the table; a second run finds them moved", async () => {
    const [a, b] = [await provision(1), await provision(2)];
    h.stacks.onPreviousPassphrase.add(a);
    const r = await mindroom(h, ["rekey", "--wait"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^1 moved, 1 already on the passphrase, 0 failed, 0 skipped of 2 tenants$/m);
    expect(r.stdout).to.match(new RegExp(`^${a}\\s+moved\\s+[0-9a-f-]{36}\\s+-$`, "m"));
    expect(r.stdout).to.match(new RegExp(`^${b}\\s+already\\s+[0-9a-f-]{36}\\s+-$`, "m"));
    const again = await mindroom(h, ["rekey", "--wait", "--json"]);
    expect(again.code, again.stderr).to.equal(0);
    expect(JSON.parse(again.stdout).result).to.include({ total: 2, moved: 0, already: 2 });
  });

  it("without --wait prints the job to follow; a failed stack exits 5 naming it; a bad id is a usage error", async () => {
    const a = await provision(3);
    const started = await mindroom(h, ["rekey", a]);
    expect(started.code, started.stderr).to.equal(0);
    expect(started.stdout).to.match(/^rekey (queued|running) as job [0-9a-f-]{36}\nfollow it: mindroom watch [0-9a-f-]{36}\n$/);
    h.stacks.onPreviousPassphrase.add(a);
    h.stacks.beforeChangePassphrase = async () => {
      throw new EngineError(`Instance ${a}: the stack opens with neither the provisioner's passphrase nor the previous one`);
    };
    for (let i = 0; i < 100 && ((await call(h, "GET", "/system/jobs?kind=rekey&status=running")).body.jobs as unknown[]).length; i++) await new Promise((r) => setTimeout(r, 20));
    const bad = await mindroom(h, ["rekey", "--wait"]);
    expect(bad.code, bad.stderr).to.equal(5);
    expect(bad.stdout).to.match(new RegExp(`^${a}\\s+failed\\s+[0-9a-f-]{36}\\s+.*opens with neither`, "m"));
    expect((await mindroom(h, ["rekey", "abc"])).code).to.equal(2);
  });
});
