import { expect } from "chai";
import { derivationRoot, deriveInstanceSecret } from "../../infra/derived-secrets";

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
