/**
 * The generated stack file of `npm run local:up` (tools/local/stack.ts) and the URLs it prints
 * (tools/local/urls.ts).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { generatedStackConfig, platformOf } from "../../../tools/local/stack";
import { onHostPort, urlLines } from "../../../tools/local/urls";
import { ROOT } from "./fakes";

const clone = readFileSync(join(ROOT, "Pulumi.local.yaml"), "utf8");

describe("tools/local: generated stack file and URLs", () => {
  it("takes the clone's config, sets the context (and k3d's storage class), keeps the previous file's salt and secrets, drops the clone's own secrets", () => {
    const first = parse(generatedStackConfig(clone, undefined, { context: "k3d-mindroom", instanceStorageClassName: "local-path" })) as Record<string, Record<string, unknown>>;
    expect(first.encryptionsalt).to.equal(undefined);
    expect(first.config["mindroom:mode"]).to.equal("local");
    expect(first.config["mindroom:local"]).to.deep.equal({ context: "k3d-mindroom" });
    expect(first.config["mindroom:platform"]).to.deep.include({ domain: "mindroom.localhost" });
    expect((first.config["mindroom:platform"] as { provisioner: Record<string, unknown> }).provisioner).to.deep.equal({ enabled: true, instanceStorageClassName: "local-path" });

    const previous = "config:\n  mindroom:mode: hetzner\n  mindroom:provisionerApiKey:\n    secure: v1:ours\nencryptionsalt: v1:our-salt\n";
    const cloneWithSecret = `${clone}\n  mindroom:openaiApiKey:\n    secure: v1:theirs\nencryptionsalt: v1:their-salt\n`;
    const next = parse(generatedStackConfig(cloneWithSecret, previous, { context: "kind-mindroom" })) as Record<string, Record<string, unknown>>;
    expect(next.encryptionsalt).to.equal("v1:our-salt");
    expect(next.config["mindroom:provisionerApiKey"]).to.deep.equal({ secure: "v1:ours" });
    expect(next.config["mindroom:openaiApiKey"], "encrypted with the clone's salt: unreadable here").to.equal(undefined);
    expect(next.config["mindroom:mode"], "plain values come from the clone").to.equal("local");
    expect((next.config["mindroom:platform"] as { provisioner: Record<string, unknown> }).provisioner.instanceStorageClassName).to.equal("standard");
    expect(platformOf(clone)).to.deep.equal({ namespace: "mindroom-local", provisioner: true });
  });

  it("a previous file's pulumiConfigPassphrase (a random value of ours) is kept as tenantStacksPassphrase, the key the root program reads now (docs/rekey.md)", () => {
    const previous = "config:\n  mindroom:pulumiConfigPassphrase:\n    secure: v1:random-tenant\nencryptionsalt: v1:our-salt\n";
    const next = parse(generatedStackConfig(clone, previous, { context: "kind-mindroom" })) as Record<string, Record<string, unknown>>;
    expect(next.config["mindroom:tenantStacksPassphrase"]).to.deep.equal({ secure: "v1:random-tenant" });
    expect(next.config).not.to.have.property("mindroom:pulumiConfigPassphrase");
    const both = "config:\n  mindroom:pulumiConfigPassphrase:\n    secure: v1:old\n  mindroom:tenantStacksPassphrase:\n    secure: v1:new\nencryptionsalt: v1:our-salt\n";
    expect((parse(generatedStackConfig(clone, both, { context: "kind-mindroom" })) as Record<string, Record<string, unknown>>).config["mindroom:tenantStacksPassphrase"]).to.deep.equal({ secure: "v1:new" });
  });

  it("URLs carry the host port unless it is the scheme's default", () => {
    expect(onHostPort("https://app.mindroom.localhost", { http: 80, https: 443 })).to.equal("https://app.mindroom.localhost");
    expect(onHostPort("https://app.mindroom.localhost/x", { http: 80, https: 8443 })).to.equal("https://app.mindroom.localhost:8443/x");
    expect(onHostPort("http://a.localhost", { http: 8080, https: 443 })).to.equal("http://a.localhost:8080");
    const lines = urlLines({ outputs: {}, ports: { http: 80, https: 443 }, context: "kind-mindroom", platform: { namespace: "mindroom-local", provisioner: false } });
    expect(lines[0]).to.match(/^ingress: +http:\/\/localhost:80 +https:\/\/localhost:443/);
    expect(lines.join("\n")).to.not.include("provisioner");
  });
});
