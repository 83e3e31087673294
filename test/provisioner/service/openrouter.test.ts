import { expect } from "chai";
import { call, startHarness, SUB, type Harness } from "../http/harness";

interface Seen {
  method: string;
  url: string;
  auth: string | null;
  body: unknown;
}

/** A stub of the OpenRouter keys API. */
function stubFetch(seen: Seen[], opts: { createStatus?: number; deleteOk?: boolean } = {}): typeof fetch {
  let n = 0;
  return (async (url: string | URL, init?: RequestInit) => {
    const headers = new Headers(init?.headers);
    seen.push({ method: init?.method ?? "GET", url: String(url), auth: headers.get("authorization"), body: init?.body ? JSON.parse(String(init.body)) : null });
    if (init?.method === "DELETE") return new Response(JSON.stringify({ deleted: opts.deleteOk ?? true }), { status: opts.deleteOk === false ? 500 : 200 });
    n++;
    const body = JSON.parse(String(init?.body)) as { limit: number; name: string };
    return new Response(JSON.stringify({ key: `sk-or-${n}`, data: { hash: `hash-${n}`, label: body.name, limit: body.limit, limit_reset: "monthly" } }), { status: opts.createStatus ?? 201 });
  }) as typeof fetch;
}

describe("provisioner service: OpenRouter budget keys (§6.10)", () => {
  let h: Harness;
  let seen: Seen[];
  afterEach(() => h.close());

  const start = async (env: Record<string, string> = { OPENROUTER_PROVISIONING_API_KEY: "mgmt" }, opts = {}) => {
    seen = [];
    h = await startHarness({ env: { OPENROUTER_API_URL: "https://or.test/api/v1", ...env }, deps: { fetch: stubFetch(seen, opts) } });
  };

  it("hobby creates a 15 USD monthly key named after account and instance; the Secret holds it and the row its metadata", async () => {
    await start();
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "hobby", account_id: null } });
    expect(res.status).to.equal(200);
    expect(seen).to.deep.equal([
      { method: "POST", url: "https://or.test/api/v1/keys", auth: "Bearer mgmt", body: { name: "MindRoom hobby account None instance 1", limit: 15, limit_reset: "monthly", include_byok_in_limit: true } },
    ]);
    const secret = h.kube.secrets.get("mindroom-api-keys-1")!;
    expect(secret.openrouter_key).to.equal("sk-or-1");
    for (const k of ["openai_key", "anthropic_key", "google_key", "deepseek_key"]) expect(secret[k]).to.equal("");
    expect(h.mirror.rows.get("1")).to.include({ openrouter_key_hash: "hash-1", openrouter_key_limit_usd: 15, openrouter_key_limit_reset: "monthly" });
    expect(h.log.text()).to.not.contain("sk-or-1");
  });

  it("reuses the key while the metadata matches; a tier change (pro, 150) creates a new one and revokes the old hash", async () => {
    await start();
    await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "hobby" } });
    await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: "1", tier: "hobby" } });
    expect(seen.filter((s) => s.method === "POST")).to.have.length(1);
    await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: "1", tier: "pro" } });
    expect(seen.map((s) => `${s.method} ${s.url}`)).to.deep.equal(["POST https://or.test/api/v1/keys", "POST https://or.test/api/v1/keys", "DELETE https://or.test/api/v1/keys/hash-1"]);
    expect((seen[1].body as { limit: number }).limit).to.equal(150);
    expect(h.kube.secrets.get("mindroom-api-keys-1")!.openrouter_key).to.equal("sk-or-2");
  });

  it("a failed revocation only logs a warning naming the old hash", async () => {
    await start(undefined, { deleteOk: false });
    await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "hobby" } });
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { instance_id: "1", tier: "pro" } });
    expect(res.status).to.equal(200);
    expect(h.log.text()).to.contain("Failed to revoke superseded OpenRouter key hash-1 for instance 1");
  });

  it("byok creates no key; a budget tier without the management key → 500 and row error; an API failure → 502", async () => {
    await start({});
    await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "byok" } });
    expect(seen).to.deep.equal([]);
    // Another subscription: the same one would re-provision tenant 1 (retries are idempotent).
    const res = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: "6f0c7a8e-1d2b-4c3d-8e9f-0a1b2c3d4e5f", tier: "hobby" } });
    expect(res.status).to.equal(500);
    expect(res.body.detail).to.equal("OPENROUTER_PROVISIONING_API_KEY is required to create included-budget OpenRouter keys");
    expect(h.mirror.rows.get("2")!.status).to.equal("error");
    expect(h.stacks.calls.filter((c) => c.op === "up")).to.have.length(1);
    await h.close();
    await start(undefined, { createStatus: 400 });
    const bad = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "pro" } });
    expect(bad.status).to.equal(502);
    expect(bad.body.detail).to.match(/^OpenRouter key creation failed: HTTP 400/);
  });

  it("an unexpected status quotes the response body with the created key redacted (it never reaches the detail, row or log)", async () => {
    await start(undefined, { createStatus: 200 });
    const bad = await call(h, "POST", "/system/provision?wait=true", { body: { subscription_id: SUB, tier: "pro" } });
    expect(bad.status).to.equal(502);
    expect(bad.body.detail).to.match(/^OpenRouter key creation failed: HTTP 200: \{"key":"\[REDACTED\]","data":\{"hash":"hash-1"/);
    expect(JSON.stringify(bad.body)).to.not.contain("sk-or-1");
    expect(JSON.stringify([...h.mirror.rows.values()])).to.not.contain("sk-or-1");
    expect(h.log.text()).to.not.contain("sk-or-1");
  });
});
