/** Secret values stay secret: registered as Pulumi secrets, only inside Secrets, redacted in renders. */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, kubeObjects, toYamlStream } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { Platform } from "../../../components/platform/platform";
import { parsePlatformValues } from "../../../components/platform/values";
import { renderPlatform, type Loose, type Obj } from "./render-platform";

const SECRET_VALUES = {
  supabase: { serviceKey: "sv-supabase-1" },
  stripe: { secretKey: "sv-stripe-2", webhookSecret: "sv-webhook-3" },
  provisioner: { enabled: true, apiKey: "sv-api-4", instanceCredentialsEncryptionSecret: "sv-root-5", pulumiConfigPassphrase: "sv-pass-6" },
  matrixOidc: { enabled: "true", clientSecret: "sv-oidc-7", privateKey: "sv-key-8" },
  apiKeys: { openai: "sv-openai-9", anthropic: "sv-anthropic-10", openrouter: "sv-or-11", openrouterProvisioning: "sv-orp-12", google: "sv-google-13", deepseek: "sv-ds-14" },
};
const PLAINTEXTS = JSON.stringify(SECRET_VALUES).match(/sv-[a-z]+-\d+/g)!;

describe("platform secrets", () => {
  it("both Secrets are registered with secret stringData; nothing else carries a secret", async () => {
    const r = await renderPlatform(SECRET_VALUES);
    expect(containsSecret(r.reg("Secret", "platform-secrets").inputs.stringData)).to.equal(true);
    expect(containsSecret(r.reg("Secret", "mindroom-provisioner-secrets").inputs.stringData)).to.equal(true);
    const others = r.regs.filter((x) => x.inputs.kind !== "Secret");
    expect(others.length).to.be.greaterThan(10);
    for (const x of others) expect(containsSecret(x.inputs), `${String(x.inputs.kind)} ${x.name}`).to.equal(false);
  });

  it("secret values appear only in the two Secrets, even with --show-secrets, and never in the default render", async () => {
    const shown = await renderPlatform(SECRET_VALUES, true);
    const platformSecret = shown.get("Secret", "platform-secrets").stringData;
    expect(platformSecret.supabase_service_key).to.equal("sv-supabase-1");
    expect(platformSecret.openrouter_provisioning_key).to.equal("sv-orp-12");
    expect(shown.get("Secret", "mindroom-provisioner-secrets").stringData).to.deep.equal({ pulumi_config_passphrase: "sv-pass-6" });
    const nonSecret = JSON.stringify(shown.objects.filter((o) => o.kind !== "Secret"));
    for (const p of PLAINTEXTS) expect(nonSecret).not.to.contain(p);
    const yaml = toYamlStream((await renderPlatform(SECRET_VALUES)).objects);
    for (const p of PLAINTEXTS) expect(yaml).not.to.contain(p);
  });

  it("accepts pulumi.Output values (config.requireSecret) and marks plain Outputs secret too", async () => {
    const regs = await recordProgram(() => {
      const args = parsePlatformValues({
        supabase: { serviceKey: pulumi.output("from-config") },
        provisioner: { enabled: true, pulumiConfigPassphrase: pulumi.secret("pass-from-config") },
      });
      new Platform("platform", args);
    });
    const secret = regs.find((x) => x.inputs.kind === "Secret" && (x.inputs.metadata as { name: string }).name === "platform-secrets")!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    const shown = kubeObjects(regs, true).find((o) => o.kind === "Secret" && o.metadata?.name === "platform-secrets") as Obj;
    expect(shown.stringData.supabase_service_key).to.equal("from-config");
    const pass = kubeObjects(regs, true).find((o) => o.metadata?.name === "mindroom-provisioner-secrets") as Obj;
    expect(pass.stringData.pulumi_config_passphrase).to.equal("pass-from-config");
  });

  it("platformSecrets.create=false registers no Secret; backend and provisioner mount the pre-created ones", async () => {
    const r = await renderPlatform({ platformSecrets: { create: false, name: "ops-platform" }, provisioner: { enabled: true, secretName: "ops-provisioner" } });
    expect(r.objects.filter((o) => o.kind === "Secret")).to.deep.equal([]);
    expect(r.regs.some((x) => containsSecret(x.inputs))).to.equal(false);
    expect(r.get("Deployment", "platform-backend").spec.template.spec.volumes[0].secret.secretName).to.equal("ops-platform");
    const sources = r.get("Deployment", "mindroom-provisioner").spec.template.spec.volumes[1].projected.sources;
    expect(sources.map((s: Loose) => s.secret.name)).to.deep.equal(["ops-platform", "ops-provisioner"]);
  });
});
