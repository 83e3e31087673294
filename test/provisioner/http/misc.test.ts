import { expect } from "chai";
import { call, startHarness, SUB, type Harness } from "./harness";

describe("provisioner HTTP: status, jobs, health, metrics, OpenAPI", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it("lists instances and shows one, with status, stack name and last job; unknown → 404", async () => {
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "enterprise" } });
    const list = await call(h, "GET", "/system/instances");
    expect(list.status).to.equal(200);
    const instances = list.body.instances as Record<string, unknown>[];
    expect(instances).to.have.length(1);
    expect(instances[0]).to.include({ instance_id: "1", status: "running", stack_name: "instance-1", tier: "enterprise", desired_state: "running" });
    const one = await call(h, "GET", "/system/instances/1");
    expect(one.body).to.include({ instance_id: "1", frontend_url: res.body.frontend_url });
    expect(one.body.last_job_id).to.be.a("string");
    const missing = await call(h, "GET", "/system/instances/2");
    expect(missing.status).to.equal(404);
    expect(missing.body).to.deep.equal({ detail: "Instance 2 not found" });
    expect((await call(h, "GET", "/system/instances", { headers: { Authorization: "" } })).status).to.equal(401);
  });

  it("warns once at boot when derived secrets fall back to PROVISIONER_API_KEY, naming INSTANCE_CREDENTIALS_ENCRYPTION_SECRET; not when that is set", async () => {
    const warnings = () => h.log.lines.filter((l) => l.level === "warn" && l.msg.includes("INSTANCE_CREDENTIALS_ENCRYPTION_SECRET"));
    expect(warnings()).to.have.length(1);
    expect(warnings()[0].msg).to.include("PROVISIONER_API_KEY");
    expect(h.log.text()).to.not.include("test-key");
    await h.close();
    h = await startHarness({ env: { INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: "a-separate-root-secret-0123456789" } });
    expect(warnings()).to.have.length(0);
  });

  it("answers 404 for unknown or malformed job ids", async () => {
    for (const id of ["00000000-0000-0000-0000-000000000000", "nope"]) {
      const res = await call(h, "GET", `/system/jobs/${id}`);
      expect(res.status).to.equal(404);
      expect(res.body).to.deep.equal({ detail: `Job ${id} not found` });
    }
  });

  it("serves /healthz and /readyz without auth", async () => {
    expect(await (await fetch(`${h.url}/healthz`)).json()).to.deep.equal({ status: "ok" });
    const ready = await fetch(`${h.url}/readyz`);
    expect(ready.status).to.equal(200);
    expect(await ready.json()).to.deep.include({ status: "ready", mirror: "on", mirror_pending: 0 });
  });

  it("exposes Prometheus metrics with request and job counters", async () => {
    await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB } });
    const text = await (await fetch(`${h.url}/metrics`)).text();
    expect(text).to.match(/provisioner_http_requests_total\{method="POST",route="\/system\/provision",status="200"\} 1/);
    expect(text).to.match(/provisioner_jobs_finished_total\{kind="provision",status="succeeded"\} 1/);
    expect(text).to.contain('provisioner_jobs{status="queued"} 0');
    expect(text).to.contain("provisioner_mirror_outbox_pending 0");
  });

  it("generates an OpenAPI document from the zod schemas", async () => {
    const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as {
      openapi: string;
      paths: Record<string, Record<string, { requestBody?: { content: { "application/json": { schema: { properties: Record<string, { enum?: string[] }> } } } } }>>;
    };
    expect(doc.openapi).to.equal("3.1.0");
    expect(Object.keys(doc.paths)).to.include.members([
      "/system/provision",
      "/system/instances/{instance_id}/start",
      "/system/instances/{instance_id}/uninstall",
      "/system/sync-instances",
      "/system/jobs/{job_id}",
    ]);
    const props = doc.paths["/system/provision"].post.requestBody!.content["application/json"].schema.properties;
    expect(props.tier.enum).to.deep.equal(["free", "byok", "hobby", "pro", "enterprise"]);
  });

  it("keeps /openapi.json behind the bearer in production and /metrics off the public domain", async () => {
    await h.close();
    h = await startHarness({ env: { ENVIRONMENT: "production", PLATFORM_DOMAIN: "mindroom.chat" } });
    expect((await fetch(`${h.url}/openapi.json`)).status).to.equal(401);
    expect((await fetch(`${h.url}/openapi.json`, { headers: { Authorization: "Bearer test-key" } })).status).to.equal(200);
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve) => {
      request(`${h.url}/metrics`, { headers: { Host: "api.mindroom.chat" } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      }).end();
    });
    expect(status).to.equal(404);
    expect((await fetch(`${h.url}/metrics`)).status).to.equal(200);
  });
});
