import { expect } from "chai";
import { derivationRoot, deriveInstanceSecret, deriveTenantSecret } from "../../infra/derived-secrets";

describe("derived secrets (provisioner.md §6.5)", () => {
  it("matches the spec's test vectors byte for byte", () => {
    expect(deriveInstanceSecret("root-secret", "instance-credentials", "123")).to.equal("ICuHLTYpL8WzZxVOKoMeut7PQB02qWJilmP2moVKRSI");
    expect(deriveInstanceSecret("root-secret", "matrix-registration", "123")).to.equal("XDxB59FotsbqgtR-dnnbXTsvV4mcHO3ksmzl8VmofP0");
  });

  it("is 43 URL-safe characters and differs across ids and purposes", () => {
    const a = deriveInstanceSecret("r", "instance-credentials", "1");
    expect(a).to.match(/^[A-Za-z0-9_-]{43}$/);
    expect(a).to.not.equal(deriveInstanceSecret("r", "instance-credentials", "2"));
    expect(a).to.not.equal(deriveInstanceSecret("r", "matrix-registration", "1"));
  });

  it("prefers the dedicated secret, trims after choosing, and refuses an empty root", () => {
    expect(derivationRoot(" dedicated ", "api")).to.equal("dedicated");
    expect(derivationRoot("", " api ")).to.equal("api");
    expect(derivationRoot("   ", "api")).to.equal("");
    expect(() => deriveInstanceSecret("", "matrix-registration", "1")).to.throw(/INSTANCE_CREDENTIALS_ENCRYPTION_SECRET/);
  });
});

describe("derived secrets: tenant component (synapse-macaroon, synapse-form)", () => {
  it("is hex HMAC-SHA256 over mindroom.{purpose}.v1:{customer}, cut to the length (vectors from openssl dgst -sha256 -hmac)", () => {
    // printf 'mindroom.synapse-macaroon.v1:123' | openssl dgst -sha256 -hmac registration-secret | cut -c…
    expect(deriveTenantSecret("registration-secret", "synapse-macaroon", "123", 32)).to.equal("98d9b04abe0896eec4b9350182ff2f47");
    expect(deriveTenantSecret("registration-secret", "synapse-form", "123", 32)).to.equal("3dd7c1d60079986e982d5200d8376ccd");
  });

  it("differs across keys, customers and purposes; refuses an empty key and lengths outside 1-64", () => {
    const a = deriveTenantSecret("k", "synapse-macaroon", "1", 32);
    expect(a).to.match(/^[0-9a-f]{32}$/);
    expect(deriveTenantSecret("k", "synapse-macaroon", "1", 32)).to.equal(a);
    expect(a).to.not.equal(deriveTenantSecret("k2", "synapse-macaroon", "1", 32));
    expect(a).to.not.equal(deriveTenantSecret("k", "synapse-macaroon", "2", 32));
    expect(a).to.not.equal(deriveTenantSecret("k", "synapse-form", "1", 32));
    expect(deriveTenantSecret("k", "synapse-form", "1", 64)).to.have.length(64);
    expect(() => deriveTenantSecret("", "synapse-form", "1", 32)).to.throw(/key is empty/);
    expect(() => deriveTenantSecret("k", "synapse-form", "1", 65)).to.throw(/length must be 1-64/);
  });
});
