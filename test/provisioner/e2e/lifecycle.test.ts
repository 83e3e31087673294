/**
 * End to end with the real pieces (see ./harness.ts): the routes, the job runner, the Automation
 * API adapter and the Supabase mirror together, over real HTTP. The its run in order on one
 * provisioner; the last one searches everything they left behind for secret values.
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { deriveInstanceSecret } from "../../../infra/derived-secrets";
import { cliError } from "../stacks/fake-cli";
import { E2E_API_KEY, E2E_ROOT_SECRET, E2E_SERVICE_KEY, ENVIRONMENT, filesBelow, startRealHarness, SUBSCRIPTION, type RealHarness } from "./harness";

/** Argv without the SDK's per-run parts (random ports, event-log paths) and its trailing --non-interactive. */
function argv(h: RealHarness, from = 0): string[] {
  return h.cli
    .commands()
    .slice(from)
    .map((c) => c.replace(/--client=\S+/, "--client=HOST").replace(/--event-log \S+/, "--event-log LOG"));
}

describe("provisioner end to end: real routes, jobs, Automation API adapter and Supabase mirror", function () {
  this.timeout(30_000);
  let h: RealHarness;
  const stack = `${ENVIRONMENT}-1`;
  let firstJob: string;
  let sandboxToken: string;

  before(async () => {
    h = await startRealHarness();
  });
  after(() => h.close());

  it("provision: 202 with Location, then the job runs select → init → tags → up and succeeds; the row goes provisioning → running", async () => {
    const bootArgv = argv(h);
    expect(bootArgv, "the only CLI call at boot is one listing").to.deep.equal(["stack ls --json"]);
    const res = await h.request("POST", "/system/provision", { subscription_id: SUBSCRIPTION, tier: "byok" });
    expect(res.status).to.equal(202);
    firstJob = res.body.job_id as string;
    expect(res.headers.location).to.equal(`/system/jobs/${firstJob}`);
    expect(res.body).to.include({ customer_id: 1, frontend_url: "https://1.mindroom.test", success: true, message: "Provisioning queued" });
    const job = await h.settle(firstJob);
    expect(job.body).to.include({ status: "succeeded", kind: "provision", instance_id: "1" });
    expect(job.body.result).to.deep.equal({
      customer_id: 1,
      frontend_url: "https://1.mindroom.test",
      api_url: "https://1.api.mindroom.test",
      matrix_url: "https://1.matrix.mindroom.test",
      success: true,
      message: "Instance provisioned successfully",
    });
    expect(argv(h, bootArgv.length)).to.deep.equal([
      `stack select --stack ${stack}`,
      `stack init ${stack}`,
      `stack tag ls --json --stack ${stack}`,
      `stack tag set mindroom:customer 1 --stack ${stack}`,
      `stack tag set mindroom:account none --stack ${stack}`,
      `stack tag set mindroom:tier byok --stack ${stack}`,
      `stack tag set mindroom:desired-state running --stack ${stack}`,
      `stack tag set mindroom:subscription ${SUBSCRIPTION} --stack ${stack}`,
      `up --yes --skip-preview --client=HOST --exec-kind auto.inline --event-log LOG --stack ${stack}`,
      `stack output --json --stack ${stack}`,
      `stack output --json --show-secrets --stack ${stack}`,
      `stack history --json --show-secrets --page-size 1 --page 1 --stack ${stack}`,
    ]);
    // The secrets reached the program through its closure and ended in the tenant Secret.
    const secret = h.kube.secrets.get("mindroom-api-keys-1")!;
    expect(secret.credentials_encryption_key).to.equal(deriveInstanceSecret(E2E_ROOT_SECRET, "instance-credentials", "1"));
    expect(secret.matrix_registration_shared_secret).to.equal(deriveInstanceSecret(E2E_ROOT_SECRET, "matrix-registration", "1"));
    expect(secret.supabase_service_key).to.equal(E2E_SERVICE_KEY);
    expect(secret.sandbox_proxy_token).to.match(/^[0-9a-f]{64}$/);
    sandboxToken = secret.sandbox_proxy_token;

    await h.mirror.drained();
    expect(h.postgrest.rows.get("1")).to.include({ status: "running", stack_name: stack, last_job_id: firstJob, last_error: null, subscription_id: SUBSCRIPTION, tier: "byok" });
    const statuses = h.postgrest.writes().flatMap((w) => ((w.body as { status?: string }).status ? [(w.body as { status: string }).status] : []));
    expect(statuses).to.deep.equal(["provisioning", "running"]);
    const view = await h.request("GET", "/system/instances/1");
    expect(view.body).to.include({ status: "running", stack_name: stack, last_job_id: firstJob });
  });

  it("uninstall: destroy then stack rm; both volumes kept and reported; the row is deprovisioned", async () => {
    const from = h.cli.calls.length;
    const res = await h.request("DELETE", "/system/instances/1/uninstall");
    expect(res.status).to.equal(200);
    expect(res.body).to.deep.equal({ success: true, message: "Instance 1 uninstalled successfully", kept_volumes: ["mindroom-storage-1", "synapse-storage-1"] });
    const ops = argv(h, from).filter((c) => /^(destroy|stack rm|up|refresh)/.test(c));
    expect(ops).to.deep.equal([`destroy --yes --skip-preview --event-log LOG --client=HOST --exec-kind auto.inline --stack ${stack}`, `stack rm --yes ${stack}`]);
    expect(h.cli.stacks.has(stack)).to.equal(false);
    expect([...h.kube.pvcs.keys()]).to.have.members(["mindroom-storage-1", "synapse-storage-1"]);
    expect(h.kube.deployments.has("mindroom-1")).to.equal(false);
    await h.mirror.drained();
    expect(h.postgrest.rows.get("1")).to.include({ status: "deprovisioned" });
  });

  it("re-provision after a keeping uninstall: kept volumes keep their class, the kept Secret's key and token are reused", async () => {
    for (const pvc of ["mindroom-storage-1", "synapse-storage-1"]) h.kube.pvcs.set(pvc, "local-path");
    const res = await h.request("POST", "/system/provision", { instance_id: 1, tier: "byok" });
    expect(res.status).to.equal(202);
    expect(res.body.customer_id).to.equal("1");
    expect((await h.settle(res.body.job_id as string)).body.status).to.equal("succeeded");
    const values = h.values.get("1")!;
    expect(values.storageClassName).to.equal("local-path");
    expect(values.credentials_encryption_key).to.equal(deriveInstanceSecret(E2E_ROOT_SECRET, "instance-credentials", "1"));
    expect(values.sandbox_proxy_token).to.equal(sandboxToken);
    await h.mirror.drained();
    expect(h.postgrest.rows.get("1")).to.include({ status: "running", last_job_id: res.body.job_id });
  });

  it("a CommandError fails the job with a short redacted reason (no CLI log) and marks the row error", async () => {
    const derived = deriveInstanceSecret(E2E_ROOT_SECRET, "instance-credentials", "2");
    h.cli.fail(
      "up",
      cliError(
        `warning: a\nerror: update failed: Secret mindroom-api-keys-2 rejected value ${derived} (service key ${E2E_SERVICE_KEY})\n`,
        255,
        `Updating (${ENVIRONMENT}-2)\n  full run log line 1\n  full run log line 2 ${derived}\n`,
      ),
      true,
    );
    // Another subscription: the same one would re-provision tenant 1 (a retry is idempotent).
    const res = await h.request("POST", "/system/provision", { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", tier: "byok" });
    expect(res.body.customer_id).to.equal(2);
    const job = await h.settle(res.body.job_id as string);
    expect(job.body.status).to.equal("failed");
    const error = job.body.error as { status_code: number; detail: string };
    expect(error.status_code).to.equal(500);
    expect(error.detail).to.equal("Tenant stack update of instance 2 failed: update failed: Secret mindroom-api-keys-2 rejected value [REDACTED] (service key [REDACTED])");
    await h.mirror.drained();
    expect(h.postgrest.rows.get("2")).to.include({ status: "error", last_error: error.detail, last_job_id: res.body.job_id });
    expect(h.logText(), "the full CLI output reaches the debug log, scrubbed").to.include("full run log line 2 [REDACTED]");
  });

  it("re-provision of a Helm-era tenant (mirror row only): live token and class adopted, the Helm release records removed after the up", async () => {
    h.postgrest.rows.set("40", { id: 40, instance_id: 40, status: "running", subscription_id: SUBSCRIPTION, tier: "byok" });
    h.kube.secrets.set("mindroom-api-keys-40", { sandbox_proxy_token: "helm-era-token", credentials_encryption_key: "" });
    for (const pvc of ["mindroom-storage-40", "synapse-storage-40"]) h.kube.pvcs.set(pvc, "local-path");
    const records = h.kube.addHelmRelease("instance-40", 2);
    let recordsAtUp: string[] = [];
    const previous = h.cli.beforeAnswer;
    h.cli.beforeAnswer = async (args, cwd) => {
      if (args[0] === "up") recordsAtUp = h.kube.helmRecords();
      await previous?.(args, cwd);
    };
    const res = await h.request("POST", "/system/provision", { instance_id: 40, tier: "byok" });
    expect(res.status).to.equal(202);
    const job = await h.settle(res.body.job_id as string);
    h.cli.beforeAnswer = previous;
    expect(job.body.status).to.equal("succeeded");
    expect(recordsAtUp, "Helm still owned the tenant during the up").to.deep.equal(records);
    expect(h.kube.helmRecords()).to.deep.equal([]);
    expect((job.body.progress as { message: string }[]).map((p) => p.message)).to.include(`removed Helm release records ${records.join(", ")}`);
    expect(h.logText()).to.include(`Removed Helm release records ${records.join(", ")}`);
    const values = h.values.get("40")!;
    expect(values).to.include({ storageClassName: "local-path", sandbox_proxy_token: "helm-era-token", credentials_encryption_key: "" });
    expect(h.kube.secrets.get("mindroom-api-keys-40")!.sandbox_proxy_token).to.equal("helm-era-token");
  });

  it("no secret value appears in argv, CLI environment, workDir or data-dir files, logs, HTTP responses, job records or mirror rows", () => {
    const passphrase = readFileSync(join(h.dataDir, "passphrase"), "utf8").trim();
    const secrets: Record<string, string> = {
      "API key": E2E_API_KEY,
      "service key": E2E_SERVICE_KEY,
      "derivation root": E2E_ROOT_SECRET,
      passphrase,
      "sandbox token": sandboxToken,
    };
    for (const id of ["1", "2", "40"]) {
      secrets[`credentials key ${id}`] = deriveInstanceSecret(E2E_ROOT_SECRET, "instance-credentials", id);
      secrets[`registration secret ${id}`] = deriveInstanceSecret(E2E_ROOT_SECRET, "matrix-registration", id);
    }
    const places: Array<[string, string]> = [
      ...h.cli.calls.map((c, i): [string, string] => [`argv #${i}: ${c.args.join(" ")}`, c.args.join(" ")]),
      ...h.cli.calls.flatMap((c, i) =>
        Object.entries(c.env).map(([k, v]): [string, string] => [`CLI env #${i} ${k}`, v]),
      ),
      ...filesBelow(h.dataDir)
        .filter((f) => f.path !== join(h.dataDir, "passphrase"))
        .map((f): [string, string] => [`file ${f.path}`, f.text]),
      ["log", h.logText()],
      ...h.exchanges.map((e): [string, string] => [`HTTP ${e.method} ${e.path}`, `${JSON.stringify(e.headers)}\n${e.text}`]),
      ...h.postgrest.requests.map((r): [string, string] => [`PostgREST ${r.method} ${r.path} body`, JSON.stringify(r.body ?? null)]),
    ];
    expect(places.filter(([where]) => where.startsWith("file ") && where.includes("/jobs/")).length, "job records were searched").to.be.greaterThan(2);
    for (const [where, text] of places) {
      for (const [name, value] of Object.entries(secrets)) expect(text.includes(value), `${name} in ${where}`).to.equal(false);
    }
    // The CLI gets the passphrase as a file and the provisioner's own secrets blanked.
    for (const call of h.cli.calls) {
      expect(call.env.PULUMI_CONFIG_PASSPHRASE_FILE).to.equal(join(h.dataDir, "passphrase"));
      expect(call.env).to.include({ PROVISIONER_API_KEY: "", SUPABASE_SERVICE_KEY: "", INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: "" });
      expect(call.env).not.to.have.property("PULUMI_CONFIG_PASSPHRASE");
    }
  });
});
