import { expect } from "chai";
import { ALPHANUMERIC, cryptoSource, generatedSecretsRepeatable, generateSecret, useSecretSource } from "../../infra/generated-secrets";
import { recordProgram } from "../../infra/render/record";

describe("generated secrets (in-process, node:crypto)", () => {
  it("draws alphanumeric values of the asked length, fresh on every call", () => {
    const a = generateSecret("x", 48);
    expect(a).to.match(/^[A-Za-z0-9]{48}$/);
    expect(generateSecret("x", 48)).to.not.equal(a);
    expect(ALPHANUMERIC).to.have.length(62);
    // Every character class shows up over enough draws (a uniform source, not hex).
    const many = cryptoSource("y", 4000);
    for (const c of ["A", "z", "0", "9"]) expect(many).to.contain(c);
    expect(() => generateSecret("x", 0)).to.throw(/positive integer/);
  });

  it("a repeatable source is installed only around a render, and removed afterwards", async () => {
    expect(generatedSecretsRepeatable()).to.equal(false);
    let inside: [boolean, string, string] | undefined;
    await recordProgram(() => {
      inside = [generatedSecretsRepeatable(), generateSecret("label", 32), generateSecret("label", 32)];
    });
    expect(inside![0]).to.equal(true);
    expect(inside![1]).to.equal(inside![2]).and.to.match(/^[A-Za-z0-9]{32}$/);
    expect(generatedSecretsRepeatable()).to.equal(false);
    expect(generateSecret("label", 32)).to.not.equal(inside![1]);
  });

  it("useSecretSource returns a restore function", () => {
    const restore = useSecretSource((label, length) => label.repeat(length).slice(0, length));
    expect(generateSecret("ab", 5)).to.equal("ababa");
    expect(generatedSecretsRepeatable()).to.equal(true);
    restore();
    expect(generatedSecretsRepeatable()).to.equal(false);
    expect(generateSecret("ab", 5)).to.not.equal("ababa");
  });
});
