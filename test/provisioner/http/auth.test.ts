import { expect } from "chai";
import { call, startHarness, type Harness } from "./harness";

describe("provisioner HTTP: authentication and cross-cutting behaviour", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const noAuth = async (headers: Record<string, string | undefined>) => {
    const res = await fetch(`${h.url}/system/instances/1/start`, { method: "POST", headers: headers as Record<string, string> });
    return { status: res.status, body: await res.json() };
  };

  it("rejects a missing, empty, wrong or malformed bearer with 401 Unauthorized and touches nothing", async () => {
    h.kube.deployments.set("mindroom-1", { replicas: 0, rolledOut: true });
    for (const authorization of [undefined, "", "Bearer", "Bearer a b", "Basic dGVzdA==", "Token test-key", "Bearer wrong", "bearer test-key-x"]) {
      const headers: Record<string, string> = authorization === undefined ? {} : { Authorization: authorization };
      const res = await noAuth(headers);
      expect(res.status, String(authorization)).to.equal(401);
      expect(res.body).to.deep.equal({ detail: "Unauthorized" });
    }
    expect(h.kube.mutations()).to.deep.equal([]);
  });

  it("answers a non-ASCII token with 401, never 500 (Deviation 8)", async () => {
    // fetch refuses non-Latin-1 header values, so send raw bytes through a socket.
    const { request } = await import("node:http");
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(`${h.url}/system/instances/1/start`, { method: "POST", headers: { Authorization: Buffer.from("Bearer tëst-kéy€", "utf8").toString("latin1") } }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", reject);
      req.end();
    });
    expect(status).to.equal(401);
  });

  it("accepts the scheme case-insensitively", async () => {
    h.kube.deployments.set("mindroom-1", { replicas: 0, rolledOut: true });
    h.kube.deployments.set("synapse-1", { replicas: 0, rolledOut: true });
    const res = await noAuth({ Authorization: "bearer test-key" });
    expect(res.status).to.equal(200);
  });

  it("fails closed when PROVISIONER_API_KEY is unset, and logs why", async () => {
    await h.close();
    h = await startHarness({ env: { PROVISIONER_API_KEY: "" } });
    const res = await call(h, "POST", "/system/provision", { body: { subscription_id: "5f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f" }, headers: { Authorization: "Bearer " } });
    expect(res.status).to.equal(401);
    const res2 = await call(h, "POST", "/system/provision", { body: {}, headers: { Authorization: "Bearer anything" } });
    expect(res2.status).to.equal(401);
    expect(h.log.text()).to.contain("PROVISIONER_API_KEY is not configured");
    expect(h.stacks.mutations()).to.deep.equal([]);
    expect(h.mirror.writes).to.deep.equal([]);
  });

  it("authenticates before validating: a bad body without credentials is 401, not 422", async () => {
    const res = await call(h, "POST", "/system/provision", { raw: "{not json", headers: { Authorization: "", "Content-Type": "application/json" } });
    expect(res.status).to.equal(401);
    const res2 = await call(h, "POST", "/system/instances/abc/start", { headers: { Authorization: "" } });
    expect(res2.status).to.equal(401);
  });

  it("sets the security headers on every response, errors included", async () => {
    for (const path of ["/healthz", "/system/instances/1/start"]) {
      const res = await fetch(`${h.url}${path}`, { method: path === "/healthz" ? "GET" : "POST" });
      expect(res.headers.get("x-content-type-options")).to.equal("nosniff");
      expect(res.headers.get("x-frame-options")).to.equal("DENY");
      expect(res.headers.get("x-xss-protection")).to.equal("1; mode=block");
      expect(res.headers.get("strict-transport-security")).to.equal("max-age=31536000; includeSubDomains");
      expect(res.headers.get("referrer-policy")).to.equal("strict-origin-when-cross-origin");
      expect(res.headers.get("permissions-policy")).to.equal("camera=(), microphone=(), geolocation=()");
      expect(res.headers.get("www-authenticate")).to.equal(null);
    }
  });

  it("rejects untrusted Host headers with 400 and accepts the platform domain and in-cluster names", async () => {
    const { request } = await import("node:http");
    const get = (host: string) =>
      new Promise<number>((resolve, reject) => {
        const req = request(`${h.url}/healthz`, { headers: { Host: host } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on("error", reject);
        req.end();
      });
    expect(await get("evil.example.com")).to.equal(400);
    expect(await get("api.mindroom.chat")).to.equal(200);
    expect(await get("platform-backend.mindroom-test.svc.cluster.local:8000")).to.equal(200);
  });

  it("answers unknown routes with a JSON 404", async () => {
    const res = await call(h, "GET", "/nope");
    expect(res.status).to.equal(404);
    expect(res.body).to.deep.equal({ detail: "Not Found" });
  });
});
