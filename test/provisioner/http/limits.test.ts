import { expect } from "chai";
import { call, startHarness, SUB, type Harness } from "./harness";

describe("provisioner HTTP: rate limits and request size", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it("allows 10 starts per minute per client, then 429 with the upstream body and no rate-limit headers", async () => {
    h.kube.deployments.set("mindroom-1", { replicas: 1, rolledOut: true });
    h.kube.deployments.set("synapse-1", { replicas: 1, rolledOut: true });
    const statuses = [];
    for (let i = 0; i < 11; i++) statuses.push((await call(h, "POST", "/system/instances/1/start", { headers: { "X-Forwarded-For": "10.0.0.1, 192.168.0.1", "X-Real-IP": "" } })).status);
    expect(statuses).to.deep.equal([...Array(10).fill(200), 429]);
    const res = await call(h, "POST", "/system/instances/1/start", { headers: { "X-Forwarded-For": "10.0.0.1", "X-Real-IP": "" } });
    expect(res.body).to.deep.equal({ error: "Rate limit exceeded: 10 per 1 minute" });
    expect(res.headers.get("retry-after")).to.equal(null);
    expect(res.headers.get("ratelimit-limit")).to.equal(null);
    expect(res.headers.get("x-ratelimit-limit")).to.equal(null);
    expect(h.log.text()).to.match(/429 Too Many Requests: path=\/system\/instances\/1\/start client=/);
    // another client is not affected
    expect((await call(h, "POST", "/system/instances/1/start", { headers: { "X-Forwarded-For": "10.0.0.2", "X-Real-IP": "" } })).status).to.equal(200);
  });

  it("counts unauthenticated calls: 2 uninstalls per minute, the third is 429 even with a wrong token", async () => {
    const ip = { "X-Real-IP": "10.0.0.9" };
    expect((await call(h, "DELETE", "/system/instances/9/uninstall", { headers: ip })).status).to.equal(200);
    expect((await call(h, "DELETE", "/system/instances/9/uninstall", { headers: { ...ip, Authorization: "Bearer nope" } })).status).to.equal(401);
    expect((await call(h, "DELETE", "/system/instances/9/uninstall", { headers: ip })).status).to.equal(429);
  });

  it("limits provision (5/min), sync (5/min) and job reads (60/min) per client", async () => {
    const ip = { "X-Real-IP": "10.1.1.1" };
    const provisions = [];
    for (let i = 0; i < 6; i++) provisions.push((await call(h, "POST", "/system/provision", { body: { subscription_id: SUB }, headers: ip })).status);
    expect(provisions).to.deep.equal([202, 202, 202, 202, 202, 429]);
    const syncs = [];
    for (let i = 0; i < 6; i++) syncs.push((await call(h, "POST", "/system/sync-instances", { headers: ip })).status);
    expect(syncs.slice(5)).to.deep.equal([429]);
    const reads = [];
    for (let i = 0; i < 61; i++) reads.push((await call(h, "GET", "/system/jobs/00000000-0000-0000-0000-000000000000", { headers: ip })).status);
    expect(reads.filter((s) => s === 404)).to.have.length(60);
    expect(reads[60]).to.equal(429);
  });

  it("answers 413 for a declared body above 1 MiB before the route runs, and for a chunked one too", async () => {
    const big = "x".repeat(1_048_576 + 100);
    const res = await call(h, "POST", "/system/provision", { raw: JSON.stringify({ subscription_id: SUB, pad: big }), headers: { "Content-Type": "application/json" } });
    expect(res.status).to.equal(413);
    expect(res.body).to.deep.equal({ detail: "Request too large" });
    // Chunked: no Content-Length, so only the parser's byte cap can catch it.
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(`{"subscription_id":"${SUB}","pad":"${big}"}`));
        c.close();
      },
    });
    const chunked = await fetch(`${h.url}/system/provision`, {
      method: "POST",
      headers: { Authorization: "Bearer test-key", "Content-Type": "application/json", "X-Real-IP": "10.3.3.3" },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(chunked.status).to.equal(413);
    expect(await chunked.json()).to.deep.equal({ detail: "Request too large" });
    expect(h.stacks.mutations()).to.deep.equal([]);
    expect(h.mirror.writes).to.deep.equal([]);
  });

  it("a 413 consumes a rate-limit slot", async () => {
    const ip = { "X-Real-IP": "10.4.4.4", "Content-Type": "application/json" };
    const raw = "x".repeat(1_048_577);
    for (let i = 0; i < 5; i++) expect((await call(h, "POST", "/system/provision", { raw, headers: ip })).status).to.equal(413);
    expect((await call(h, "POST", "/system/provision", { raw, headers: ip })).status).to.equal(429);
  });
});
