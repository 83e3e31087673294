import { expect } from "chai";
import pino from "pino";
import { FakeInstanceMirror } from "../../../provisioner/fakes/mirror";
import { FakeTenantStacks } from "../../../provisioner/fakes/stacks";
import { InstanceRegistry } from "../../../provisioner/service/registry";

const SUB = "5B0C8F0E-6F8E-4C1B-9D55-2F3B6F0A9A11";
const OTHER = "7d1e2f3a-0000-4000-8000-000000000002";

describe("provisioner/service/registry: the lookups a provision makes", () => {
  const registry = () => new InstanceRegistry(new FakeTenantStacks(), new FakeInstanceMirror(), pino({ level: "silent" }));

  it("finds a subscription's tenant without regard to case, and not once it is deprovisioned", async () => {
    const r = registry();
    r.merge("4", { subscription_id: SUB, status: "running" });
    expect(r.forSubscription(SUB.toLowerCase())?.instance_id).to.equal("4");
    await r.record("4", { status: "deprovisioned" });
    expect(r.forSubscription(SUB)).to.equal(undefined);
  });

  it("follows a tenant whose subscription changed, and prefers the lowest id when several claim one", () => {
    const r = registry();
    r.merge("9", { subscription_id: SUB, status: "running" });
    r.merge("3", { subscription_id: OTHER, status: "running" });
    r.merge("3", { subscription_id: SUB });
    expect(r.forSubscription(OTHER)).to.equal(undefined);
    expect(r.forSubscription(SUB)?.instance_id).to.equal("3");
    r.merge("3", { status: "deprovisioned" });
    expect(r.forSubscription(SUB)?.instance_id).to.equal("9");
  });

  it("hands out copies: changing an answer changes no tenant", () => {
    const r = registry();
    r.merge("5", { subscription_id: SUB, status: "running" });
    r.forSubscription(SUB)!.status = "error";
    expect(r.get("5")?.status).to.equal("running");
  });

  it("knows the highest numeric id, whatever order tenants arrive in; names that are not numbers do not count", () => {
    const r = registry();
    expect(r.highestId()).to.equal(0);
    for (const id of ["12", "7", "legacy-a", "40", "3"]) r.merge(id, { status: "running" });
    expect(r.highestId()).to.equal(40);
  });
});
