/**
 * The tenant stacks' own passphrase in the provisioner Secret (docs/rekey.md): generated once when
 * unset and kept by the Secret's state (ignoreChanges), applied as given otherwise; the previous
 * passphrase beside it only during a move, mounted as PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE. No
 * passphrase is ever in plain text outside the Secret, and none in a default render.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, kubeObjects, toYamlStream } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { Platform } from "../../../components/platform/platform";
import { parsePlatformValues } from "../../../components/platform/values";
import { renderPlatform, type Loose } from "./render-platform";

const SECRET = "mindroom-provisioner-secrets";

/** Resource options of every child, by `type::name` (what the engine keeps state by). */
async function childOptions(values: Record<string, unknown>): Promise<Map<string, pulumi.CustomResourceOptions>> {
  const seen = new Map<string, pulumi.CustomResourceOptions>();
  await recordProgram(() => {
    new Platform("platform", parsePlatformValues(values), {
      transformations: [(a) => (seen.set(`${a.type}::${a.name}`, a.opts as pulumi.CustomResourceOptions), undefined)],
    });
  });
  return seen;
}

const secretOptions = async (values: Record<string, unknown>) => (await childOptions(values)).get(`kubernetes:core/v1:Secret::platform-${SECRET}`);
const pod = (r: { get(kind: string, name: string): Loose }) => r.get("Deployment", "mindroom-provisioner").spec.template.spec;

describe("platform: the tenant stacks' own passphrase (provisioner Secret)", () => {
  it("unset: a 48-character passphrase is generated, secret, and kept by the Secret's state (ignoreChanges on data and stringData)", async () => {
    const shown = await renderPlatform({ provisioner: { enabled: true } }, true);
    const passphrase = shown.get("Secret", SECRET).stringData.pulumi_config_passphrase as string;
    expect(passphrase).to.match(/^[A-Za-z0-9]{48}$/);
    expect(containsSecret((await renderPlatform({ provisioner: { enabled: true } })).reg("Secret", SECRET).inputs.stringData)).to.equal(true);
    expect((await secretOptions({ provisioner: { enabled: true } }))?.ignoreChanges).to.deep.equal(["data", "stringData"]);
    // The offline render is repeatable; nothing but the Secret carries it, and a default render shows none.
    expect((await renderPlatform({ provisioner: { enabled: true } }, true)).get("Secret", SECRET).stringData.pulumi_config_passphrase).to.equal(passphrase);
    expect(JSON.stringify(shown.objects.filter((o) => o.kind !== "Secret"))).not.to.include(passphrase);
    expect(toYamlStream((await renderPlatform({ provisioner: { enabled: true } })).objects)).not.to.include(passphrase);
  });

  it("given: applied as given (no ignoreChanges), so setting a new one (a move) reaches the Secret", async () => {
    const shown = await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "tenant-own-passphrase" } }, true);
    expect(shown.get("Secret", SECRET).stringData).to.deep.equal({ pulumi_config_passphrase: "tenant-own-passphrase" });
    expect((await secretOptions({ provisioner: { enabled: true, pulumiConfigPassphrase: "x" } }))?.ignoreChanges).to.equal(undefined);
  });

  it("without a previous passphrase: one key, one projected item, no PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE", async () => {
    const spec = pod(await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } }));
    const env = spec.containers[0].env.map((e: Loose) => e.name);
    expect(env).to.include("PULUMI_CONFIG_PASSPHRASE_FILE");
    expect(env).not.to.include("PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE");
    const source = spec.volumes.find((v: Loose) => v.name === "secrets").projected.sources.find((s: Loose) => s.secret.name === SECRET);
    expect(source.secret.items).to.deep.equal([{ key: "pulumi_config_passphrase", path: "pulumi_config_passphrase" }]);
  });

  it("during a move: the previous passphrase is a second key of the Secret, mounted 0400 and named by PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE; in plain text nowhere else", async () => {
    const values = { provisioner: { enabled: true, pulumiConfigPassphrase: "tenant-new-passphrase", previousPulumiConfigPassphrase: "root-old-passphrase" } };
    const shown = await renderPlatform(values, true);
    expect(shown.get("Secret", SECRET).stringData).to.deep.equal({ pulumi_config_passphrase: "tenant-new-passphrase", pulumi_previous_config_passphrase: "root-old-passphrase" });
    const spec = pod(shown);
    expect(spec.containers[0].env).to.deep.include({ name: "PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE", value: "/etc/secrets/pulumi_previous_config_passphrase" });
    const projected = spec.volumes.find((v: Loose) => v.name === "secrets").projected;
    expect(projected.defaultMode).to.equal(0o400);
    expect(projected.sources.find((s: Loose) => s.secret.name === SECRET).secret.items).to.deep.equal([
      { key: "pulumi_config_passphrase", path: "pulumi_config_passphrase" },
      { key: "pulumi_previous_config_passphrase", path: "pulumi_previous_config_passphrase" },
    ]);
    for (const p of ["tenant-new-passphrase", "root-old-passphrase"]) {
      expect(JSON.stringify(shown.objects.filter((o) => o.kind !== "Secret"))).not.to.include(p);
      expect(toYamlStream((await renderPlatform(values)).objects)).not.to.include(p);
    }
  });

  it("Output values (the root stack's secret config) work for both, and stay secret", async () => {
    const regs = await recordProgram(() => {
      new Platform("platform", parsePlatformValues({ provisioner: { enabled: true, pulumiConfigPassphrase: pulumi.secret("from-config-new"), previousPulumiConfigPassphrase: pulumi.secret("from-config-old") } }));
    });
    const secret = regs.find((x) => x.inputs.kind === "Secret" && (x.inputs.metadata as { name: string }).name === SECRET)!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    const shown = kubeObjects(regs, true).find((o) => o.metadata?.name === SECRET) as Loose;
    expect(shown.stringData).to.deep.equal({ pulumi_config_passphrase: "from-config-new", pulumi_previous_config_passphrase: "from-config-old" });
  });
});
