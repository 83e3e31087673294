import { expect } from "chai";
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createHttpServer } from "node:http";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { API_KEY, ACCOUNT, call, gate, settle, startHarness, SUB, type Harness } from "../http/harness";
import { tenantVolumes } from "../../../infra/tenant-names";
import { mindroom, type CliResult } from "./run-cli";
import { version } from "../../../package.json";

const ROOT = join(__dirname, "../../..");

const SUB2 = "6f1c1e3a-3c1b-4b8e-9a51-0f2b6f0c9d11";

/** Every run: the key never shows, on either stream. */
function shown(r: CliResult): CliResult {
  expect(r.stdout + r.stderr).not.to.include(API_KEY);
  return r;
}

describe("mindroom CLI (child process against the real app)", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const provision = async (subscription = SUB, tier = "byok") => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: subscription, tier } });
    expect(res.status).to.equal(200);
    return String(res.body.customer_id);
  };

  it("list prints a table of the tenants and --json the API's {instances: [...]} as is", async () => {
    const a = await provision(SUB, "byok");
    const b = await provision(SUB2, "free");
    const table = shown(await mindroom(h, ["list"]));
    expect(table.code, table.stderr).to.equal(0);
    const lines = table.stdout.trimEnd().split("\n");
    expect(lines[0]).to.match(/^ID\s+STATUS\s+DESIRED\s+TIER\s+DRIFT\s+URL\s+LAST ERROR$/);
    expect(lines).to.have.length(3);
    expect(lines[1]).to.match(new RegExp(`^${a}\\s+\\S+\\s+running\\s+byok\\s+-\\s+https://${a}\\.mindroom\\.test`));
    expect(lines[2]).to.match(new RegExp(`^${b}\\s+\\S+\\s+running\\s+free\\s`));
    // Columns line up: every row's status starts where the header's does.
    expect(lines[1].indexOf(" running")).to.equal(lines[2].indexOf(" running"));

    const json = shown(await mindroom(h, ["list", "--json"]));
    expect(json.code).to.equal(0);
    expect(JSON.parse(json.stdout)).to.deep.equal((await call(h, "GET", "/system/instances")).body);
    expect(json.stderr).to.equal("");

    const none = await mindroom(h, ["list", "--status", "error"]);
    expect(none.stdout).to.equal("no tenants match\n");
  });

  it("status <id> shows one tenant's fields; an unknown id prints the API's detail and exits 1", async () => {
    const id = await provision();
    const r = shown(await mindroom(h, ["status", id]));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^instance:\\s+${id}$`, "m"));
    expect(r.stdout).to.match(/^desired state:\s+running$/m);
    expect(r.stdout).to.match(new RegExp(`^frontend:\\s+https://${id}\\.mindroom\\.test`, "m"));
    expect(r.stdout).to.match(/^matrix:\s+https:\/\//m);
    const json = await mindroom(h, ["status", id, "--json"]);
    expect(JSON.parse(json.stdout)).to.deep.equal((await call(h, "GET", `/system/instances/${id}`)).body);

    const missing = await mindroom(h, ["status", "999"]);
    expect(missing.code).to.equal(1);
    expect(missing.stdout).to.equal("");
    expect(missing.stderr).to.equal("error: Instance 999 not found (HTTP 404)\n");
  });

  it("status without an id reports the provisioner's readiness and the tenants per status", async () => {
    await provision();
    const r = shown(await mindroom(h, ["status"]));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.include(`provisioner: ready at ${h.url}`);
    expect(r.stdout).to.match(/^jobs:\s+0 running, 0 queued$/m);
    expect(r.stdout).to.match(/^tenants:\s+1 \w+$/m);
  });

  it("provision --wait follows the job (one stderr line per event) and ends with the URLs, exit 0", async () => {
    h.mirror.accounts.set(ACCOUNT, "owner@example.com");
    const r = shown(await mindroom(h, ["provision", "--subscription", SUB, "--account", ACCOUNT, "--tier", "byok", "--wait"]));
    expect(r.code, r.stderr).to.equal(0);
    const id = [...h.stacks.stacks.keys()][0];
    expect(id).to.be.a("string");
    expect(r.stdout).to.match(new RegExp(`^instance:\\s+${id}$`, "m"));
    expect(r.stdout).to.match(new RegExp(`^frontend:\\s+https://${id}\\.mindroom\\.test`, "m"));
    expect(r.stdout).to.match(/^api:\s+https:\/\/\S+$/m);
    expect(r.stdout).to.match(/^matrix:\s+https:\/\/\S+$/m);
    // Not a terminal: plain lines, no bar's control characters.
    expect(r.stderr).to.include(`provision ${id}: updating stack instance-${id}`);
    expect(r.stderr).to.include(`provision ${id}: create complete`);
    expect(r.stderr).to.include(`provision ${id}: succeeded`);
    expect(r.stderr).not.to.match(/\x1b\[/);
    expect(h.stacks.stacks.get(id)!.spec.tags.tier).to.equal("byok");
  });

  it("provision --json answers the API's 202 document at once; watch follows that job to its URLs", async () => {
    const g = gate();
    h.stacks.beforeUp = () => g.promise;
    const r = shown(await mindroom(h, ["provision", "--subscription", SUB, "--json"]));
    expect(r.code, r.stderr).to.equal(0);
    const accepted = JSON.parse(r.stdout);
    expect(accepted).to.include({ status: "queued", success: true, message: "Provisioning queued" });
    expect(accepted.job_id).to.match(/^[0-9a-f-]{36}$/);
    const watching = mindroom(h, ["watch", accepted.job_id]);
    await new Promise((res) => setTimeout(res, 300));
    g.open();
    const w = shown(await watching);
    expect(w.code, w.stderr).to.equal(0);
    expect(w.stdout).to.match(new RegExp(`^frontend:\\s+${accepted.frontend_url.replace(/[.]/g, "\\.")}$`, "m"));
    expect(w.stderr).to.match(/: running$/m);
    expect(w.stderr).to.match(/: succeeded$/m);

    const again = await mindroom(h, ["watch", accepted.job_id, "--json"]);
    expect(again.code).to.equal(0);
    expect(JSON.parse(again.stdout)).to.deep.equal((await call(h, "GET", `/system/jobs/${accepted.job_id}`)).body);
  });

  it("a 422 (bad tier) prints the API's detail as one line and exits 1, creating nothing", async () => {
    const r = shown(await mindroom(h, ["provision", "--subscription", SUB, "--tier", "gold", "--wait"]));
    expect(r.code).to.equal(1);
    expect(r.stdout).to.equal("");
    expect(r.stderr).to.equal("error: tier must be one of free, byok, hobby, pro, enterprise (HTTP 422)\n");
    expect(h.stacks.stacks.size).to.equal(0);
  });

  it("a failed job exits 1 with its detail; watch of an unknown job exits 1 with the API's 404", async () => {
    h.stacks.beforeUp = async () => {
      throw new Error("boom");
    };
    const r = shown(await mindroom(h, ["provision", "--subscription", SUB, "--wait"]));
    expect(r.code).to.equal(1);
    expect(r.stderr).to.match(/^error: provision \d+ failed: Failed to deploy instance: .+ \(HTTP 500\); job [0-9a-f-]{36}$/m);
    const unknown = await mindroom(h, ["watch", "00000000-0000-4000-8000-000000000000"]);
    expect(unknown.code).to.equal(1);
    expect(unknown.stderr).to.equal("error: Job 00000000-0000-4000-8000-000000000000 not found (HTTP 404)\n");
  });

  it("waiting past --timeout exits 4 and says how to pick the job up again", async () => {
    const g = gate();
    h.stacks.beforeUp = () => g.promise;
    try {
      const r = shown(await mindroom(h, ["provision", "--subscription", SUB, "--wait", "--timeout", "1s"]));
      expect(r.code).to.equal(4);
      expect(r.stderr).to.match(/^error: job ([0-9a-f-]{36}) is still running after 1 s; it goes on: follow it with mindroom watch \1$/m);
    } finally {
      g.open();
    }
  });

  it("a wait whose job reads are rate limited says so once and keeps trying, instead of looking hung", async () => {
    const g = gate();
    h.stacks.beforeUp = () => g.promise;
    try {
      const accepted = JSON.parse((await mindroom(h, ["provision", "--subscription", SUB, "--json"])).stdout);
      // Spend this address's budget (60 a minute, the socket peer, as the CLI's own requests).
      const url = `${h.url}/system/jobs/${accepted.job_id}`;
      const statuses = await Promise.all(Array.from({ length: 60 }, () => fetch(url, { headers: { Authorization: `Bearer ${API_KEY}` } }).then((r) => r.status)));
      expect(statuses.filter((s) => s === 429), "the budget is spent before the CLI runs").to.have.length(0);
      const r = shown(await mindroom(h, ["watch", accepted.job_id, "--timeout", "5s"]));
      expect(r.code, r.stderr).to.equal(4);
      const said = r.stderr.split("\n").filter((l) => l.includes("rate limited by the provisioner"));
      expect(said, r.stderr).to.have.length(1);
      expect(said[0]).to.match(/60 a minute per client address.*MINDROOM_POLL_INTERVAL_MS.*retrying for up to 120 s$/);
      expect(r.stderr).to.match(/still (queued|running|unfinished) after 5 s; it goes on: follow it with mindroom watch/);
    } finally {
      g.open();
    }
  });

  it("a rate-limited wait polls half as often from then on, so CLIs sharing an address settle within the budget", async () => {
    // A stand-in provisioner: the first read is over the limit, then the job runs for five reads.
    const reads: number[] = [];
    const job = (status: string) => ({ job_id: "j-1", kind: "upgrade", instance_id: "7", status, created_at: new Date().toISOString(), started_at: null, finished_at: null, progress: [] });
    const server = createHttpServer((req, res) => {
      reads.push(Date.now());
      res.setHeader("Content-Type", "application/json");
      if (reads.length === 1) res.writeHead(429).end(JSON.stringify({ error: "Rate limit exceeded: 60 per 1 minute" }));
      else res.writeHead(200).end(JSON.stringify(job(reads.length < 7 ? "running" : "succeeded")));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const r = await mindroom({ url }, ["watch", "j-1", "--timeout", "60s"], { env: { MINDROOM_POLL_INTERVAL_MS: "100" } });
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stderr).to.match(/rate limited by the provisioner .*; this wait now polls every 0\.2 s; retrying for up to 120 s$/m);
      const gaps = reads.slice(1).map((t, i) => t - reads[i]);
      expect(gaps[0], "the pause after a failed read").to.be.at.least(1900);
      for (const gap of gaps.slice(1)) expect(gap, `gaps between reads after the 429: ${gaps.slice(1).join(", ")} ms`).to.be.at.least(190);
    } finally {
      server.close();
    }
  });

  it("missing MINDROOM_API_KEY or MINDROOM_API_URL exits 2 with one line naming the variable and the fix", async () => {
    const noKey = await mindroom(h, ["list"], { env: { MINDROOM_API_KEY: null } });
    expect(noKey.code).to.equal(2);
    expect(noKey.stderr).to.equal("error: MINDROOM_API_KEY is not set: export MINDROOM_API_KEY=<the provisioner's PROVISIONER_API_KEY> or put it in ./.env\n");
    const noUrl = await mindroom(h, ["list"], { env: { MINDROOM_API_URL: null } });
    expect(noUrl.code).to.equal(2);
    expect(noUrl.stderr).to.match(/^error: MINDROOM_API_URL is not set: export MINDROOM_API_URL=http:\/\/127\.0\.0\.1:8080 .*--api-url\n$/);
    const badUrl = await mindroom(h, ["list"], { env: { MINDROOM_API_URL: "127.0.0.1:8080" } });
    expect(badUrl.code).to.equal(2);
    expect(badUrl.stderr).to.include("MINDROOM_API_URL must be an http(s) URL");
  });

  it("a wrong key exits 1 with the API's Unauthorized and the hint", async () => {
    const r = await mindroom(h, ["list"], { env: { MINDROOM_API_KEY: "wrong-key-value" } });
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal("error: Unauthorized; check MINDROOM_API_KEY (it must equal the provisioner's PROVISIONER_API_KEY) (HTTP 401)\n");
    expect(r.stderr).not.to.include("wrong-key-value");
  });

  it("an unreachable URL exits 3 naming the URL", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const url = `http://127.0.0.1:${port}`;
    const r = shown(await mindroom({ url }, ["list"]));
    expect(r.code).to.equal(3);
    expect(r.stderr).to.match(new RegExp(`^error: cannot reach the provisioner at ${url}: .*ECONNREFUSED.*; check MINDROOM_API_URL`));
    expect(r.stderr.trimEnd().split("\n")).to.have.length(1);
  });

  it("--api-url wins over MINDROOM_API_URL", async () => {
    const r = await mindroom(h, ["--api-url", h.url, "list", "--json"], { env: { MINDROOM_API_URL: "http://127.0.0.1:1" } });
    expect(r.code, r.stderr).to.equal(0);
    expect(JSON.parse(r.stdout)).to.deep.equal({ instances: [] });
    const after = await mindroom(h, ["list", "--api-url", h.url, "--json"], { env: { MINDROOM_API_URL: "http://127.0.0.1:1" } });
    expect(after.code, after.stderr).to.equal(0);
  });

  it("reads MINDROOM_API_URL and MINDROOM_API_KEY from ./.env; the environment wins over the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "mindroom-env-"));
    try {
      writeFileSync(join(dir, ".env"), `# operator settings\nMINDROOM_API_URL=${h.url}\nMINDROOM_API_KEY="${API_KEY}"\n`);
      const fromFile = shown(await mindroom(undefined, ["list", "--json"], { cwd: dir }));
      expect(fromFile.code, fromFile.stderr).to.equal(0);
      expect(JSON.parse(fromFile.stdout)).to.deep.equal({ instances: [] });
      const envWins = await mindroom(undefined, ["list"], { cwd: dir, env: { MINDROOM_API_KEY: "from-the-environment" } });
      expect(envWins.code).to.equal(1);
      expect(envWins.stderr).to.include("Unauthorized");
      writeFileSync(join(dir, ".env"), `MINDROOM_API_URL=${h.url}\nMINDROOM_API_KEY=stale-key\n`);
      const envKey = await mindroom(undefined, ["list"], { cwd: dir, env: { MINDROOM_API_KEY: API_KEY } });
      expect(envKey.code, envKey.stderr).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("deprovision without --yes on a non-terminal stdin refuses (exit 2) and changes nothing", async () => {
    const id = await provision();
    const calls = h.stacks.calls.length;
    const r = shown(await mindroom(h, ["deprovision", id], { input: "y\n" }));
    expect(r.code).to.equal(2);
    expect(r.stderr).to.equal(`error: refusing to deprovision instance ${id} without --yes: stdin is not a terminal, so nothing can be confirmed; nothing was changed\n`);
    expect(h.stacks.calls.slice(calls).filter((c) => c.op === "destroy")).to.deep.equal([]);
    expect(h.stacks.stacks.get(id)!.resourceCount).to.be.greaterThan(0);
    expect((await call(h, "GET", `/system/instances/${id}`)).body.status).not.to.equal("deprovisioned");
  });

  it("deprovision --yes --wait uninstalls the tenant, keeping its volumes; --delete-data asks the API for it", async () => {
    const id = await provision();
    const r = shown(await mindroom(h, ["deprovision", id, "--yes", "--wait"]));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(new RegExp(`^message:\\s+Instance ${id} uninstalled successfully$`, "m"));
    expect(r.stdout).to.match(/^kept volumes:\s+\S+/m);
    expect(r.stderr).to.include(`uninstall ${id}: destroying stack instance-${id}`);
    expect(h.stacks.calls.filter((c) => c.op === "destroy")).to.deep.equal([{ op: "destroy", instanceId: id }]);
    expect(h.kube.mutations().filter((m) => m.startsWith("deletePvc:"))).to.deep.equal([]);
    expect((await call(h, "GET", `/system/instances/${id}`)).body.status).to.equal("deprovisioned");

    const other = await provision(SUB2);
    const queued = shown(await mindroom(h, ["deprovision", other, "--delete-data", "--yes", "--json"]));
    expect(queued.code, queued.stderr).to.equal(0);
    const body = JSON.parse(queued.stdout);
    expect(body).to.include({ status: "queued", success: true, message: `Uninstall of instance ${other} queued` });
    await settle(h, body.job_id);
    expect(h.stacks.calls.filter((c) => c.op === "destroy").at(-1)).to.deep.equal({ op: "destroy", instanceId: other });
    expect(h.kube.mutations().filter((m) => m.startsWith("deletePvc:"))).to.have.length.greaterThan(0);
    expect(tenantVolumes(other).filter((pvc) => h.kube.pvcs.has(pvc))).to.deep.equal([]);
  });

  it("sync prints the counts and the updates", async () => {
    const id = await provision();
    h.kube.deployments.delete(`mindroom-${id}`);
    const r = shown(await mindroom(h, ["sync"]));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^\d+ of \d+ tenants synced, 0 errors, 1 updates$/m);
    expect(r.stdout).to.match(new RegExp(`^${id}\\s+\\w+\\s+error\\s+deployment_not_found$`, "m"));
    const json = await mindroom(h, ["sync", "--json"]);
    expect(JSON.parse(json.stdout)).to.include.keys("total", "synced", "errors", "updates");
  });

  it("usage errors exit 2: unknown command or option (there is no --api-key), a bad id, upgrade without a selection", async () => {
    const runs = await Promise.all([
      mindroom(h, ["frobnicate"]),
      mindroom(h, ["list", "--api-key", "x"]),
      mindroom(h, ["status", "abc"]),
      mindroom(h, ["upgrade", "--image", "ghcr.io/mindroom-ai/mindroom:v2"]),
      mindroom(h, ["logs", "7", "-f", "--json"]),
      mindroom(h, ["provision", "--tier", "free"]),
    ]);
    expect(runs.map((r) => r.code)).to.deep.equal([2, 2, 2, 2, 2, 2]);
    expect(runs[5].stderr).to.equal("error: give --subscription <uuid> for a new tenant, or --instance <id> to re-provision one\n");
    expect(h.stacks.calls.filter((c) => c.op === "up")).to.deep.equal([]);
    expect(runs[1].stderr).to.include("unknown option '--api-key'");
    expect(runs[2].stderr).to.include("an instance id is a positive integer such as 42");
    expect(runs[3].stderr).to.include("name the tenants: one or more instance ids, or --all");
  });

  it("--help shows each command's options, examples and the exit codes; the npm script runs the same CLI", async () => {
    const commands = ["list", "status", "logs", "provision", "upgrade", "preview", "deprovision", "sync", "jobs", "watch"];
    const runs = await Promise.all(commands.map((c) => mindroom(undefined, [c, "--help"])));
    runs.forEach((r, i) => {
      expect(r.code, commands[i]).to.equal(0);
      expect(r.stdout, commands[i]).to.include(`Usage: mindroom ${commands[i]}`);
      expect(r.stdout, commands[i]).to.match(new RegExp(`Examples:\\n  mindroom ${commands[i]}`));
      expect(r.stdout, commands[i]).to.include("--json");
      expect(r.stdout, commands[i]).to.include("Exit codes: 0 ok, 1 failed, 2 usage/config, 3 unreachable, 4 timed out");
    });
    const top = await mindroom(undefined, ["--help"]);
    expect(top.code).to.equal(0);
    expect(top.stdout).to.include("Exit codes:\n  0  ok\n  1  the operation failed");
    expect(top.stdout).to.include("MINDROOM_API_KEY");
    expect(top.stdout).to.include("mindroom upgrade --all --image ghcr.io/mindroom-ai/mindroom:<tag> --yes --wait");
    const viaNpm = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile("npm", ["run", "--silent", "cli", "--", "--version"], { cwd: ROOT, env: { PATH: process.env.PATH ?? "" } }, (err, stdout) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? -1) : 0, stdout }),
      );
    });
    expect(viaNpm).to.deep.equal({ code: 0, stdout: `${version}\n` });
  });
});
