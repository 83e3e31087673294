import { expect } from "chai";
import { spawn } from "node:child_process";
import { EngineError } from "../../../provisioner/ports";
import { API_KEY, call, startHarness, SUB, type Harness } from "../http/harness";
import { BIN, mindroom } from "./run-cli";

const SUBS = ["5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e51", "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e52", "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e53"];
const IMAGE = "ghcr.io/mindroom-ai/mindroom:v9.9.9";

describe("mindroom CLI: upgrade, preview, logs, jobs (fleet routes)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const provision = async (subscription = SUB, tier = "byok") => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription, tier } });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    return String(res.body.customer_id);
  };
  const imageOf = (id: string) => JSON.stringify(h.stacks.stacks.get(id)!.spec.values);

  it("upgrade <ids> --wait rolls the image out to exactly those tenants and prints the summary", async () => {
    const [a, b, c] = [await provision(SUBS[0]), await provision(SUBS[1]), await provision(SUBS[2])];
    const r = await mindroom(h, ["upgrade", a, c, "--image", IMAGE, "--wait"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^2 succeeded, 0 failed, 0 skipped of 2 tenants$/m);
    expect(r.stdout).to.match(new RegExp(`^${a}\\s+succeeded\\s+[0-9a-f-]{36}\\s+-$`, "m"));
    expect(r.stderr).to.match(/^upgrade rollout: \d\/2 upgraded: instance \d+$/m);
    expect(imageOf(a)).to.include(IMAGE);
    expect(imageOf(c)).to.include(IMAGE);
    expect(imageOf(b)).not.to.include(IMAGE);
  });

  it("upgrade --all refuses without --yes on a non-terminal stdin (exit 2) and starts nothing", async () => {
    await provision();
    const r = await mindroom(h, ["upgrade", "--all", "--image", IMAGE, "--wait"]);
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal("error: refusing to upgrade every tenant without --yes: stdin is not a terminal, so nothing can be confirmed; nothing was changed\n");
    expect((await call(h, "GET", "/system/jobs?kind=rollout")).body.jobs).to.deep.equal([]);
  });

  it("upgrade --all --yes --wait --json prints the finished rollout job; a failure past the budget exits 5 naming the tenants", async () => {
    const [a, b] = [await provision(SUBS[0]), await provision(SUBS[1])];
    const ok = await mindroom(h, ["upgrade", "--all", "--yes", "--wait", "--json"]);
    expect(ok.code, ok.stderr).to.equal(0);
    const job = JSON.parse(ok.stdout);
    expect(job).to.include({ kind: "rollout", status: "succeeded" });
    expect(job.result).to.include({ total: 2, succeeded: 2, failed: 0, skipped: 0, stopped_early: false });

    h.stacks.beforeUp = async (spec) => {
      if (spec.instanceId === a) throw new EngineError("update failed: image pull backoff");
    };
    const bad = await mindroom(h, ["upgrade", "--all", "--image", IMAGE, "--concurrency", "1", "--max-failures", "1", "--yes", "--wait"]);
    expect(bad.code, bad.stderr).to.equal(5);
    expect(bad.stdout).to.match(new RegExp(`^${a}\\s+failed\\s+[0-9a-f-]{36}\\s+.*image pull backoff`, "m"));
    expect(bad.stdout).to.match(new RegExp(`^${b}\\s+skipped\\s+-\\s+-$`, "m"));
    expect(bad.stderr).to.match(new RegExp(`^upgrade rollout: 1/2 upgraded: instance ${a} failed: .*image pull backoff`, "m"));
    expect(bad.stderr).to.match(/^upgrade rollout finished with 1 failed and 1 skipped of 2 \(stopped early: the failure budget was spent\); job [0-9a-f-]{36}$/m);
    expect(bad.stdout).to.match(/^0 succeeded, 1 failed, 1 skipped of 2 tenants \(stopped early/m);
    expect(imageOf(b)).not.to.include(IMAGE);
  });

  it("upgrade without --wait answers the rollout job at once; watch follows it; an empty selection is the API's error", async () => {
    const a = await provision();
    const r = await mindroom(h, ["upgrade", a, "--synapse-image", "matrixdotorg/synapse:v1.120.0"]);
    expect(r.code, r.stderr).to.equal(0);
    const m = /^upgrade of 1 tenants (?:queued|running) as job ([0-9a-f-]{36}): (\d+)$/m.exec(r.stdout);
    expect(m, r.stdout).to.not.equal(null);
    expect(m![2]).to.equal(a);
    expect(r.stdout).to.include(`follow it: mindroom watch ${m![1]}`);
    const w = await mindroom(h, ["watch", m![1]]);
    expect(w.code, w.stderr).to.equal(0);
    expect(w.stdout).to.match(/^1 succeeded, 0 failed, 0 skipped of 1 tenant$/m);

    const none = await mindroom(h, ["upgrade", "--all", "--tier", "enterprise", "--yes"]);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.match(/^error: The selection matches no provisioned instance.* \(HTTP 404\)$/m);
  });

  it("preview <id> prints the resources that would change; --image previews an upgrade; nothing is applied", async () => {
    const id = await provision();
    const ups = h.stacks.calls.filter((c) => c.op === "up").length;
    const clean = await mindroom(h, ["preview", id]);
    expect(clean.code, clean.stderr).to.equal(0);
    expect(clean.stdout).to.match(new RegExp(`^instance ${id}: no changes \\(\\d+ same\\)$`, "m"));
    const change = await mindroom(h, ["preview", id, "--image", IMAGE]);
    expect(change.code, change.stderr).to.equal(0);
    expect(change.stdout).to.match(new RegExp(`^instance ${id}: changes pending \\(.*1 update.*\\)$`, "m"));
    expect(change.stdout).to.match(new RegExp(`^update\\s+kubernetes:apps/v1:Deployment\\s+mindroom-${id}\\s+\\S+`, "m"));
    const json = await mindroom(h, ["preview", id, "--image", IMAGE, "--json"]);
    const job = JSON.parse(json.stdout);
    expect(job).to.include({ kind: "preview", instance_id: id, status: "succeeded" });
    expect(job.result).to.include({ instance_id: id, drifted: true });
    expect(h.stacks.calls.filter((c) => c.op === "up").length).to.equal(ups);
    expect(imageOf(id)).not.to.include(IMAGE);
  });

  it("preview --all checks the fleet for drift; list then shows each tenant's drift", async () => {
    const [a, b] = [await provision(SUBS[0]), await provision(SUBS[1])];
    h.stacks.drifted.add(b);
    const r = await mindroom(h, ["preview", "--all"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^drifted: ${b}$`, "m"));
    expect(r.stderr).to.match(/^drift rollout: \d\/2 previewed: instance \d+/m);
    const list = await mindroom(h, ["list"]);
    expect(list.stdout).to.match(new RegExp(`^${a}\\s+\\S+\\s+\\S+\\s+\\S+\\s+clean\\s`, "m"));
    expect(list.stdout).to.match(new RegExp(`^${b}\\s+\\S+\\s+\\S+\\s+\\S+\\s+drifted\\s`, "m"));
    const st = await mindroom(h, ["status", b]);
    expect(st.stdout).to.match(/^drift:\s+drifted \(checked \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\)$/m);
    const sync = await mindroom(h, ["sync"]);
    expect(sync.stdout).to.match(new RegExp(`^drifted: ${b}$`, "m"));
    const usage = await mindroom(h, ["preview", "--all", "--image", IMAGE]);
    expect(usage.code).to.equal(2);
  });

  it("logs prints the pod's log (tail, container); --json one document; a tenant without a pod is the API's 404", async () => {
    const id = await provision();
    h.kube.addPod(`mindroom-${id}`, { name: `mindroom-${id}-abc`, logs: { mindroom: "one\ntwo\nthree\n", "wait-for-synapse": "" } });
    h.kube.addPod(`synapse-${id}`, { name: `synapse-${id}-def`, logs: { synapse: "synapse up\n" } });
    const r = await mindroom(h, ["logs", id, "--tail", "2"]);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.equal("two\nthree\n");
    const syn = await mindroom(h, ["logs", id, "-c", "synapse", "--since", "10m"]);
    expect(syn.stdout).to.equal("synapse up\n");
    expect(h.kube.logRequests.at(-1)).to.include({ container: "synapse", sinceSeconds: 600, follow: false });
    const json = await mindroom(h, ["logs", id, "--json"]);
    expect(JSON.parse(json.stdout)).to.deep.equal({ instance_id: id, pod: `mindroom-${id}-abc`, container: "mindroom", lines: ["one", "two", "three"] });
    const missing = await mindroom(h, ["logs", "999"]);
    expect(missing.code).to.equal(1);
    expect(missing.stderr).to.match(/^error: Instance 999 has no log to show: .+ \(HTTP 404\)\n$/);
    const bad = await mindroom(h, ["logs", id, "-c", "nginx"]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.match(/^error: container must be one of mindroom, .* \(HTTP 422\)\n$/);
  });

  it("logs -f streams lines as the container writes them and ends when the log ends", async () => {
    const id = await provision();
    const pod = h.kube.addPod(`mindroom-${id}`, { logs: { mindroom: "before\n" } });
    const child = spawn(process.execPath, [BIN, "logs", id, "-f"], { env: { PATH: process.env.PATH ?? "", MINDROOM_API_URL: h.url, MINDROOM_API_KEY: API_KEY }, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    const until = async (cond: () => boolean) => {
      for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    await until(() => stdout.includes("before\n"));
    await until(() => h.kube.following(pod, "mindroom") !== undefined);
    h.kube.following(pod, "mindroom")!.stream.write("after\n");
    await until(() => stdout.includes("after\n"));
    expect(stdout).to.equal("before\nafter\n");
    h.kube.following(pod, "mindroom")!.stream.end();
    const code = await new Promise((r) => child.on("close", r));
    expect(code).to.equal(0);
  });

  it("logs -f whose stream breaks upstream exits 1 saying the log is incomplete", async () => {
    const id = await provision();
    const pod = h.kube.addPod(`mindroom-${id}`, { logs: { mindroom: "before\n" } });
    const running = mindroom(h, ["logs", id, "-f"]);
    for (let i = 0; i < 500 && !h.kube.following(pod, "mindroom"); i++) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 100));
    h.kube.following(pod, "mindroom")!.stream.destroy(new Error("connection to the API server reset"));
    const r = await running;
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal("before\n");
    expect(r.stderr).to.match(new RegExp(`^error: the log of instance ${id} was cut off before its end \\(.+\\); run the command again\n$`));
  });

  it("jobs lists recent jobs newest first with filters; --json is the API's {jobs: [...]}", async () => {
    const a = await provision(SUBS[0]);
    await provision(SUBS[1]);
    const r = await mindroom(h, ["jobs"]);
    expect(r.code, r.stderr).to.equal(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).to.match(/^JOB\s+KIND\s+INSTANCE\s+STATUS\s+CREATED\s+TOOK\s+DETAIL$/);
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(/^[0-9a-f-]{36}\s+provision\s+\d+\s+succeeded\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+\d+s/);
    const mine = await mindroom(h, ["jobs", "--instance", a, "--json"]);
    expect(JSON.parse(mine.stdout)).to.deep.equal((await call(h, "GET", `/system/jobs?instance_id=${a}`)).body);
    expect(JSON.parse(mine.stdout).jobs.map((j: { instance_id: string }) => j.instance_id)).to.deep.equal([a]);
    const none = await mindroom(h, ["jobs", "--kind", "rollout"]);
    expect(none.stdout).to.equal("no jobs\n");
    const bad = await mindroom(h, ["jobs", "--kind", "bogus"]);
    expect(bad.code).to.equal(1);
    expect(bad.stderr).to.include("kind must be one of provision, uninstall, upgrade, preview, rollout, rekey, rekey-stack (HTTP 422)");
  });
});
