import { expect } from "chai";
import { matrixLocalpart, normaliseUuid, ownerMxid } from "../../../provisioner/service/owner";

describe("provisioner service: owner MXID (§6.4)", () => {
  it("matches the upstream examples", () => {
    expect(ownerMxid("Owner.User+Test@Example.COM", "42", "mindroom.chat")).to.equal("@owner.user+test:42.mindroom.chat");
    expect(ownerMxid("_Owner=Test@example.com", "42", "mindroom.chat")).to.equal("@=5fowner=3dtest:42.mindroom.chat");
    expect(ownerMxid("owner.user+test@example.com", "123", "mindroom.test")).to.equal("@owner.user+test:123.mindroom.test");
  });

  it("escapes non-ASCII bytes, uses the last @, keeps an email without @ whole, and trims", () => {
    expect(matrixLocalpart("  Zoë@x.org ")).to.equal("zo=c3=ab");
    expect(matrixLocalpart('"a@b"@x.org')).to.equal("=22a=40b=22");
    expect(matrixLocalpart("plain")).to.equal("plain");
    expect(matrixLocalpart("a/b-c_d@x")).to.equal("a/b-c_d");
  });

  it("rejects an empty localpart with the upstream 500", () => {
    expect(() => matrixLocalpart("@example.com")).to.throw("Account email is required to configure Matrix owner access");
  });

  it("normalises UUIDs to lower case and refuses non-UUIDs", () => {
    expect(normaliseUuid("A1B2C3D4-0000-4000-8000-00000000ABCD")).to.equal("a1b2c3d4-0000-4000-8000-00000000abcd");
    expect(normaliseUuid("acc_test_123")).to.equal(null);
    expect(normaliseUuid(null)).to.equal(null);
  });
});
