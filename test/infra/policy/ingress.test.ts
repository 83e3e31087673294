import { expect } from "chai";
import { ingressTlsViolations, tlsHostCovers } from "../../../infra/policy/ingress";
import { ingress, rule } from "./fixtures";

describe("policy ingress-tls", () => {
  it("passes an Ingress whose TLS entries cover every rule host (exactly or by a one-label wildcard)", () => {
    expect(ingressTlsViolations(ingress({ rules: [rule("42.mindroom.chat"), rule("42.api.mindroom.chat")], tls: [{ hosts: ["42.mindroom.chat", "42.api.mindroom.chat"], secretName: "mindroom-42-tls" }] }))).to.deep.equal([]);
    expect(ingressTlsViolations(ingress({ rules: [rule("app.mindroom.chat")], tls: [{ hosts: ["*.mindroom.chat"], secretName: "wildcard" }] }))).to.deep.equal([]);
    expect(ingressTlsViolations({ apiVersion: "v1", kind: "Service", metadata: { name: "s" } })).to.deep.equal([]);
  });

  it("fails an Ingress without spec.tls", () => {
    expect(ingressTlsViolations(ingress({ rules: [rule("42.mindroom.chat")] }))).to.deep.equal(["the Ingress has no spec.tls; every Ingress serves HTTPS with a certificate Secret"]);
  });

  it("fails a host left out of spec.tls, a TLS entry without secretName, a rule without host and a default backend", () => {
    const v = ingressTlsViolations(
      ingress({
        defaultBackend: { service: { name: "web", port: { number: 80 } } },
        rules: [rule("42.mindroom.chat"), rule("42.matrix.mindroom.chat"), { http: rule("x").http }],
        tls: [{ hosts: ["42.mindroom.chat"], secretName: "mindroom-42-tls" }, { hosts: ["42.matrix.mindroom.chat"] }],
      }),
    );
    expect(v).to.deep.equal([
      "spec.tls[1] names no secretName (ingress-nginx would serve its self-signed default certificate)",
      "spec.defaultBackend serves every host name, which no certificate covers; route by host in spec.rules",
      "host 42.matrix.mindroom.chat (spec.rules[1]) is not in any spec.tls entry with a secretName",
      "spec.rules[2] has no host: it matches every name, which no certificate covers",
    ]);
  });

  it("a wildcard covers one label only", () => {
    expect(tlsHostCovers("*.mindroom.chat", "app.mindroom.chat")).to.equal(true);
    expect(tlsHostCovers("*.mindroom.chat", "42.api.mindroom.chat")).to.equal(false);
    expect(tlsHostCovers("*.mindroom.chat", "mindroom.chat")).to.equal(false);
    expect(tlsHostCovers("App.Mindroom.chat", "app.mindroom.CHAT")).to.equal(true);
  });
});
