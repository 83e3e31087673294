/**
 * Edge hardening (spec provisioner.md §3): requests a hostile or confused client can send and
 * that must still end in a clean JSON answer, never a bypass, a crash or library log noise.
 */
import { request } from "node:http";
import { expect } from "chai";
import { startHarness, SUB, type Harness } from "./harness";

interface RawResponse {
  status: number;
  headers: Record<string, unknown>;
  body: string;
}

/** node:http rather than fetch: fetch merges repeated headers and refuses some raw values. */
function raw(h: Harness, method: string, path: string, headers: Record<string, string | string[]>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${h.url}${path}`, { method, headers }, (res) => {
      let text = "";
      res.on("data", (c: Buffer) => (text += c.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

describe("provisioner HTTP: edge hardening", () => {
  let h: Harness;
  let client = 0;
  const ip = () => ({ "X-Real-IP": `10.77.${++client % 250}.1` });
  beforeEach(async () => {
    h = await startHarness();
    h.kube.deployments.set("mindroom-1", { replicas: 0, rolledOut: true });
    h.kube.deployments.set("synapse-1", { replicas: 0, rolledOut: true });
  });
  afterEach(() => h.close());

  it("rejects a request carrying two Authorization headers, even when the first is right", async () => {
    for (const authorization of [["Bearer test-key", "Bearer wrong"], ["Bearer wrong", "Bearer test-key"]]) {
      const res = await raw(h, "POST", "/system/instances/1/start", { ...ip(), Authorization: authorization });
      expect(res.status, authorization.join(" | ")).to.equal(401);
      expect(JSON.parse(res.body)).to.deep.equal({ detail: "Unauthorized" });
    }
    expect(h.kube.mutations()).to.deep.equal([]);
  });

  it("accepts the bearer with surrounding or repeated whitespace, as upstream's whitespace split does", async () => {
    for (const authorization of ["Bearer   test-key  ", "BEARER\ttest-key"]) {
      expect((await raw(h, "POST", "/system/instances/1/start", { ...ip(), Authorization: authorization })).status, authorization).to.equal(200);
    }
    expect((await raw(h, "POST", "/system/instances/1/start", { ...ip(), Authorization: `Bearer ${"k".repeat(12_000)}` })).status).to.equal(401);
  });

  it("keeps /metrics off the public domain in production whatever the path's case or trailing slash", async () => {
    await h.close();
    h = await startHarness({ env: { ENVIRONMENT: "production", PLATFORM_DOMAIN: "mindroom.chat" } });
    for (const path of ["/metrics", "/METRICS", "/metrics/", "/Metrics/"]) {
      const res = await raw(h, "GET", path, { Host: "api.mindroom.chat" });
      expect(res.status, path).to.equal(404);
      expect(res.body, path).to.not.contain("provisioner_");
    }
  });

  it("answers kubelet probes addressed to an IPv6 pod IP (Host is bracketed)", async () => {
    await h.close();
    h = await startHarness({ env: { POD_IP: "fd00:10:42::7" } });
    expect((await raw(h, "GET", "/healthz", { Host: "[fd00:10:42::7]:8000" })).status).to.equal(200);
    expect((await raw(h, "GET", "/healthz", { Host: "[fd00:10:42::8]:8000" })).status).to.equal(400);
  });

  it("keys the limit on X-Real-IP (set by ingress-nginx), so a client-chosen X-Forwarded-For cannot buy more calls", async () => {
    const statuses = [];
    for (let i = 0; i < 3; i++) {
      statuses.push((await raw(h, "DELETE", "/system/instances/9/uninstall", { "X-Real-IP": "203.0.113.5", "X-Forwarded-For": `198.51.100.${i}`, Authorization: "Bearer test-key" })).status);
    }
    expect(statuses).to.deep.equal([200, 200, 429]);
  });

  it("emits no express-rate-limit validation warnings for forwarded headers", async () => {
    const noise: unknown[] = [];
    const { error, warn } = console;
    console.error = (...args: unknown[]) => void noise.push(args);
    console.warn = (...args: unknown[]) => void noise.push(args);
    try {
      await raw(h, "POST", "/system/instances/1/start", { "X-Forwarded-For": "1.2.3.4, 10.0.0.1", Forwarded: "for=1.2.3.4", Authorization: "Bearer test-key" });
      await raw(h, "POST", "/system/instances/1/start", { "X-Real-IP": "2001:db8::1", Authorization: "Bearer test-key" });
    } finally {
      console.error = error;
      console.warn = warn;
    }
    expect(noise).to.deep.equal([]);
  });

  it("answers malformed bodies with 4xx JSON and never lets __proto__ or constructor keys through", async () => {
    const post = (body: string, contentType = "application/json") => raw(h, "POST", "/system/provision", { ...ip(), Authorization: "Bearer test-key", "Content-Type": contentType }, body);
    const invalid = await post("{bad");
    expect(invalid.status).to.equal(422);
    expect(JSON.parse(invalid.body)).to.deep.equal({ detail: [{ loc: ["body"], msg: "JSON decode error", type: "json_invalid" }] });
    for (const key of ["__proto__", "constructor"]) {
      const res = await post(`{"subscription_id":"${SUB}","${key}":{"prototype":{"polluted":true},"polluted":true}}`);
      expect(res.status, key).to.equal(422);
      expect(JSON.parse(res.body).detail[0].loc, key).to.deep.equal(["body", key]);
    }
    expect(({} as Record<string, unknown>).polluted).to.equal(undefined);
    const deep = await post("[".repeat(100_000) + "]".repeat(100_000));
    expect(deep.status).to.equal(422);
    const charset = await post(`{"subscription_id":"${SUB}"}`, "application/json; charset=koi8-r");
    expect(charset.status).to.equal(415);
    expect(JSON.parse(charset.body)).to.have.property("detail");
    expect(h.stacks.mutations()).to.deep.equal([]);
  });

  it("rejects hostile instance ids in the path with 404 or 422, never reaching a stack", async () => {
    for (const id of ["%2e%2e", "1%0a", "01", "0", "-1", "9007199254740993", "2147483648", "1e3"]) {
      const res = await raw(h, "POST", `/system/instances/${id}/start`, { ...ip(), Authorization: "Bearer test-key" });
      expect([404, 422], id).to.include(res.status);
      expect(JSON.parse(res.body), id).to.have.property("detail");
    }
    expect((await raw(h, "GET", "/system/instances/%zz", { ...ip(), Authorization: "Bearer test-key" })).status).to.equal(400);
    expect(h.kube.mutations()).to.deep.equal([]);
  });

  it("answers an unexpected exception with a bare 500, no stack or message", async () => {
    h.provisioner.registry.all = () => {
      throw new Error("pulumi: exit 255 at /usr/local/bin/pulumi stack ls --json");
    };
    const res = await raw(h, "GET", "/system/instances", { Authorization: "Bearer test-key" });
    expect(res.status).to.equal(500);
    expect(JSON.parse(res.body)).to.deep.equal({ detail: "Internal server error" });
  });
});
