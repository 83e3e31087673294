/**
 * `npm start` (`tsx provisioner/main.ts`) as a real process with the embedded defaults: only
 * PROVISIONER_API_KEY set (and PORT=0 so the OS picks a free port), no Pulumi CLI, no Supabase, no
 * kubeconfig, run from an empty directory so the default data dir `./.mindroom` lands there.
 * One spawn: booting tsx with the SDKs takes seconds.
 */
import { expect } from "chai";
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { CLI_NOT_FOUND } from "../../provisioner/stacks/cli";

const ROOT = resolve(__dirname, "../..");
const KEY = "start-test-key-Ju7hQ2xM";

interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

describe("npm start: the provisioner process with the embedded defaults", function () {
  this.timeout(90_000);
  let dir: string;
  let child: ChildProcess;
  let stdout = "";
  let stderr = "";
  const lines = (): LogLine[] =>
    stdout
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as LogLine);

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "provisioner-start-"));
    child = spawn(join(ROOT, "node_modules/.bin/tsx"), [join(ROOT, "provisioner/main.ts")], {
      cwd: dir,
      // Only node on PATH, so no Pulumi CLI can be found; HOME empty, so no ~/.kube/config.
      env: { PATH: dirname(process.execPath), HOME: dir, PROVISIONER_API_KEY: KEY, PORT: "0" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", (d) => (stdout += String(d)));
    child.stderr!.on("data", (d) => (stderr += String(d)));
    const deadline = Date.now() + 80_000;
    while (!lines().some((l) => l.msg === "provisioner listening")) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`provisioner did not start (exit ${child.exitCode}): ${stdout}\n${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });

  after(() => {
    if (child.exitCode === null) child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  const url = () => `http://127.0.0.1:${lines().find((l) => l.msg === "provisioner listening")!.port as number}`;

  it("boots, says the mirror is off, warns about the generated passphrase (0600) and names the missing CLI's fix", () => {
    const messages = lines().map((l) => l.msg);
    expect(messages).to.include("Supabase mirror off (SUPABASE_URL or SUPABASE_SERVICE_KEY unset): instance status is not mirrored");
    const warning = lines().find((l) => l.msg.startsWith("generated a Pulumi passphrase"))!;
    expect(warning, stdout).to.not.equal(undefined);
    expect(warning.level).to.equal(40);
    const passphrase = join(dir, ".mindroom", "passphrase");
    expect(warning.file).to.equal(passphrase);
    expect(statSync(passphrase).mode & 0o777).to.equal(0o600);
    expect(messages).to.include(CLI_NOT_FOUND);
    expect(messages.some((m) => m.startsWith("Kubernetes API unavailable: no Kubernetes credentials found"))).to.equal(true);
    expect(existsSync(join(dir, ".mindroom", "state")), "the default file backend directory").to.equal(true);
    const listening = lines().find((l) => l.msg === "provisioner listening")!;
    expect(listening).to.include({ mirror: "off", concurrency: 2, dataDir: join(dir, ".mindroom") });
  });

  it("/healthz 200; /readyz 503 and provisioning 503 with the one-line CLI fix, writing nothing", async () => {
    expect((await fetch(`${url()}/healthz`)).status).to.equal(200);
    const ready = await fetch(`${url()}/readyz`);
    expect(ready.status).to.equal(503);
    expect(await ready.json()).to.deep.equal({ detail: `Pulumi engine unavailable: ${CLI_NOT_FOUND}` });
    const res = await fetch(`${url()}/system/provision`, {
      method: "POST",
      headers: { Authorization: `Bearer ${KEY}`, "Content-Type": "application/json" },
      body: JSON.stringify({ subscription_id: "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" }),
    });
    expect(res.status).to.equal(503);
    expect(await res.json()).to.deep.equal({ detail: `Tenant provisioning is not available in this environment: ${CLI_NOT_FOUND}` });
    expect(readdirSync(join(dir, ".mindroom", "jobs"))).to.deep.equal([]);
    expect(existsSync(join(dir, ".mindroom", "instance-ids.json"))).to.equal(false);
  });

  it("exits 0 on SIGTERM and never logged the API key or the passphrase", async () => {
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    child.kill("SIGTERM");
    expect(await exited).to.equal(0);
    expect(lines().map((l) => l.msg)).to.include("shutting down: no new jobs; running ones get 25 s, queued ones resume on the next boot");
    const passphrase = readFileSync(join(dir, ".mindroom", "passphrase"), "utf8").trim();
    for (const secret of [KEY, passphrase]) expect(stdout + stderr).not.to.include(secret);
  });
});
