/**
 * docs/fleet.md's "Upgrade every tenant to a new image", step by step, with the `mindroom` CLI as an
 * operator runs it (a child process through its bin launcher, configured by a `.env` file in its
 * working directory) against the REAL provisioner, Pulumi CLI and kubernetes provider on the test
 * control plane: provision two tenants, preview the new image on one, upgrade it as a canary, then
 * `upgrade --all --yes --wait`, check with `list` and `jobs`, and deprovision.
 *
 * No kubelet runs here, so a running tenant never becomes ready and its upgrade would fail (that
 * report is asserted in fleet-upgrade.test.ts). The tenants are stopped first: their upgrades are
 * applied at 0 replicas and need no pod, so the walk-through can end green without faking readiness.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiRequest, type ApiTarget } from "./support/api";
import { ENGINE_API_KEY, startEngineProvisioner, type EngineProvisioner } from "./support/provisioner";
import { tenantNamespaceTarget } from "./support/tenant-namespace";
import { mindroom as runCli, type CliResult } from "../provisioner/cli/run-cli";

const NS = "mindroom-instances";
/** Ids of this file's tenants start here: other engine tests share the control plane. */
const FIRST_ID = 7401;
const NEW_IMAGE = "ghcr.io/mindroom-ai/mindroom:engine-cli-upgrade";
const SUBSCRIPTIONS = ["5c2e7a10-3b4d-4e5f-8a9b-0c1d2e3f4a01", "5c2e7a10-3b4d-4e5f-8a9b-0c1d2e3f4a02"];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

describe("engine: the docs' fleet upgrade with the mindroom CLI (CLI → HTTP → rollout → pulumi → kube-apiserver)", function () {
  let target: ApiTarget;
  let p: EngineProvisioner;
  let cwd: string;
  const ids: string[] = [];

  /**
   * `mindroom <args>` in `cwd`, whose `.env` is the only source of the URL and the key. The CLI
   * polls at its default interval: at 200 ms the job reads of one minute spent the provisioner's
   * budget (60 a minute per address) and the canary's wait stalled 46 s on 429s.
   */
  const mindroom = (...args: string[]): Promise<CliResult> => runCli(undefined, args, { cwd, env: { MINDROOM_POLL_INTERVAL_MS: null }, timeoutMs: 240_000 });
  const ok = (r: CliResult, what: string) => {
    expect(r.code, `${what}\nstdout: ${r.stdout}\nstderr: ${r.stderr}\n${p.logText().split("\n").slice(-20).join("\n")}`).to.equal(0);
    // One operator at the default interval stays within the job-read budget.
    expect(r.stderr, what).to.not.include("rate limited");
  };
  const deployment = async (name: string): Promise<Json> => (await apiRequest(target, "GET", `/apis/apps/v1/namespaces/${NS}/deployments/${name}`)).body;
  const image = (d: Json) => (d.spec.template.spec.containers as { name: string; image: string }[]).find((c) => c.name === "mindroom")!.image;

  before(async function () {
    this.timeout(180_000);
    const ready = await tenantNamespaceTarget();
    target = ready.target;
    p = await startEngineProvisioner({
      kubeconfigPath: ready.cluster.kubeconfigPath,
      env: { INSTANCE_STORAGE_CLASS_NAME: "engine-local", PROVISIONER_READINESS_TIMEOUT_SECONDS: "2", PROVISIONER_CONCURRENCY: "2" },
      lastInstanceId: FIRST_ID - 1,
    });
    cwd = mkdtempSync(join(tmpdir(), "mindroom-cli-engine-"));
    writeFileSync(join(cwd, ".env"), `# as docs/fleet.md "Configuration" says\nMINDROOM_API_URL=${p.url}\nMINDROOM_API_KEY="${ENGINE_API_KEY}"\n`);
  });

  after(async function () {
    this.timeout(180_000);
    // What a failed step left: the tenants go, so the shared namespace stays clean for the others.
    for (const id of ids) {
      const res = await p?.request("DELETE", `/system/instances/${id}/uninstall?delete_data=true`);
      if (res?.body?.job_id) await p.settle(res.body.job_id as string, 170_000).catch(() => undefined);
      await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}/secrets/mindroom-api-keys-${id}`);
    }
    await p?.stop();
    if (cwd) rmSync(cwd, { recursive: true, force: true });
  });

  it("provision, preview, canary, upgrade --all, check, deprovision: every step exits 0 and the cluster runs the new image", async function () {
    this.timeout(600_000);
    for (const sub of SUBSCRIPTIONS) {
      const r = await mindroom("provision", "--subscription", sub, "--tier", "free", "--wait", "--json");
      ok(r, `provision ${sub}`);
      const job = JSON.parse(r.stdout);
      expect(job).to.include({ kind: "provision", status: "succeeded" });
      ids.push(String(job.instance_id));
    }
    // No kubelet: stopped tenants need no pod to count as upgraded (see the header).
    for (const id of ids) expect((await p.request("POST", `/system/instances/${id}/stop`)).status, `stop ${id}`).to.equal(200);
    const [canary, other] = ids;
    const before = image(await deployment(`mindroom-${canary}`));
    expect(before).to.not.equal(NEW_IMAGE);

    // 1. Preview one tenant: the engine's diff names the Deployment; nothing is applied.
    const preview = await mindroom("preview", canary, "--image", NEW_IMAGE);
    ok(preview, "preview");
    expect(preview.stdout).to.match(new RegExp(`^instance ${canary}: changes pending`, "m"));
    expect(preview.stdout).to.match(new RegExp(`^update\\s+kubernetes:apps/v1:Deployment\\s+mindroom-${canary}\\b`, "m"));
    expect(image(await deployment(`mindroom-${canary}`)), "a preview applies nothing").to.equal(before);

    // 2. Canary, then its status.
    ok(await mindroom("upgrade", canary, "--image", NEW_IMAGE, "--wait"), "canary upgrade");
    expect(image(await deployment(`mindroom-${canary}`))).to.equal(NEW_IMAGE);
    expect(image(await deployment(`mindroom-${other}`)), "the canary touches one tenant").to.equal(before);
    const status = await mindroom("status", canary);
    ok(status, "status");
    expect(status.stdout).to.match(/stopped/);

    // 3. The fleet.
    const all = await mindroom("upgrade", "--all", "--image", NEW_IMAGE, "--yes", "--wait", "--json");
    ok(all, "upgrade --all");
    const rollout = JSON.parse(all.stdout);
    expect(rollout).to.include({ kind: "rollout", status: "succeeded" });
    expect(rollout.result).to.include({ failed: 0, skipped: 0, stopped_early: false });
    const outcome = Object.fromEntries((rollout.result.instances as Json[]).map((o) => [o.instance_id, o.status]));
    for (const id of ids) {
      expect(outcome[id], `rollout outcome of ${id}`).to.equal("succeeded");
      const d = await deployment(`mindroom-${id}`);
      expect(image(d), `mindroom-${id} image`).to.equal(NEW_IMAGE);
      expect(d.spec.replicas, `mindroom-${id} stays stopped`).to.equal(0);
    }

    // 4. Check: list shows them stopped, no failed upgrade is listed.
    const list = await mindroom("list", "--json");
    ok(list, "list");
    const listed = Object.fromEntries((JSON.parse(list.stdout).instances as Json[]).map((i) => [String(i.instance_id), i]));
    for (const id of ids) expect(listed[id], `list entry of ${id}`).to.include({ status: "stopped" });
    const failed = await mindroom("jobs", "--kind", "upgrade", "--status", "failed", "--json");
    ok(failed, "jobs");
    expect(JSON.parse(failed.stdout).jobs.filter((j: Json) => ids.includes(String(j.instance_id)))).to.deep.equal([]);

    // Done: deprovision with the data, as the docs' examples do.
    for (const id of [...ids]) {
      ok(await mindroom("deprovision", id, "--delete-data", "--yes", "--wait"), `deprovision ${id}`);
      expect((await apiRequest(target, "GET", `/apis/apps/v1/namespaces/${NS}/deployments/mindroom-${id}`)).status, `mindroom-${id} gone`).to.equal(404);
      ids.splice(ids.indexOf(id), 1);
    }
  });
});
