/**
 * components/instance/secrets.ts: the registration secret and the Synapse macaroon/form secrets
 * without @pulumi/random: derived from the tenant's registration secret (hosted flow), carried by
 * explicit args, or generated in-process (repeatable only under the renderer).
 */
import { expect } from "chai";
import { containsSecret, kubeObjects } from "../../../infra/render/manifests";
import { deriveInstanceSecret, deriveTenantSecret } from "../../../infra/derived-secrets";
import { useSecretSource } from "../../../infra/generated-secrets";
import { recordProgram } from "../../../infra/render/record";
import { MindroomInstance } from "../../../components/instance";
import { parseInstanceValues } from "../../../components/instance/values";
import { renderArgs, renderValues, withWarnings, type Obj, type Rendered } from "./helpers";

const ROOT = "provisioner-root-secret";
/** What the provisioner passes for tenant `id` (spec provisioner.md §6.5). */
const hosted = (id: string) => ({ customer: id, matrixRegistrationSharedSecret: deriveInstanceSecret(ROOT, "matrix-registration", id) });

function values(r: Rendered, c: string) {
  const synapse = r.get("Secret", `synapse-secrets-${c}`).stringData;
  return {
    registration: r.get("Secret", `mindroom-api-keys-${c}`).stringData.matrix_registration_shared_secret as string,
    macaroon: synapse.macaroon_secret_key as string,
    form: synapse.form_secret as string,
  };
}

describe("MindroomInstance: derived and generated secrets (no @pulumi/random)", () => {
  it("hosted flow: macaroon/form are HMAC-SHA256 of the registration secret, one label each, 32 hex characters", async () => {
    const v = hosted("7");
    const got = values(await renderValues(v), "7");
    expect(got.registration).to.equal(v.matrixRegistrationSharedSecret);
    expect(got.macaroon).to.equal(deriveTenantSecret(v.matrixRegistrationSharedSecret, "synapse-macaroon", "7", 32)).and.to.match(/^[0-9a-f]{32}$/);
    expect(got.form).to.equal(deriveTenantSecret(v.matrixRegistrationSharedSecret, "synapse-form", "7", 32));
    expect(got.form).to.not.equal(got.macaroon);
  });

  it("two renders of the same tenant give the same values; other tenants get other values", async () => {
    for (const make of [hosted, (id: string) => ({ customer: id })]) {
      const a = values(await renderValues(make("7")), "7");
      const b = values(await renderValues({ ...make("7"), mindroom_image: "reg/mindroom:v2", storage: "20Gi" }), "7");
      const other = values(await renderValues(make("8")), "8");
      expect(b).to.deep.equal(a);
      for (const key of ["registration", "macaroon", "form"] as const) expect(other[key], key).to.not.equal(a[key]);
    }
  });

  it("every value is a secret input: the stringData of the tenant Secret and of synapse-secrets-{c}; the Synapse ConfigMap holds none", async () => {
    for (const v of [hosted("7"), { customer: "7" }, { customer: "7", matrix_admin_password: "ADMIN-PW" }]) {
      const r = await renderValues(v);
      expect(containsSecret(r.reg("Secret", "mindroom-api-keys-7").inputs.stringData)).to.equal(true);
      expect(containsSecret(r.reg("Secret", "synapse-secrets-7").inputs.stringData)).to.equal(true);
      const shown = values(r, "7");
      const redacted = JSON.stringify(r.redacted);
      for (const s of Object.values(shown)) expect(redacted).to.not.contain(s);
      // Issue 9: no secret in the ConfigMap (upstream inlined macaroon/form, with matrix_admin_password the registration secret too).
      const configMap = r.get("ConfigMap", "synapse-config-7");
      expect(containsSecret(r.reg("ConfigMap", "synapse-config-7").inputs.data)).to.equal(false);
      for (const s of Object.values(shown)) expect(JSON.stringify(configMap)).to.not.contain(s);
    }
  });

  it("synapseMacaroonSecretKey / synapseFormSecret carry a tenant's existing values, ahead of matrix_admin_password and the derivation", async () => {
    const parsed = parseInstanceValues({ ...hosted("7"), synapseMacaroonSecretKey: "old-macaroon", synapseFormSecret: "old-form", matrix_admin_password: "P" });
    expect(parsed).to.include({ synapseMacaroonSecretKey: "old-macaroon", synapseFormSecret: "old-form" });
    const got = values(await renderArgs(parsed), "7");
    expect([got.macaroon, got.form]).to.deep.equal(["old-macaroon", "old-form"]);
    const one = values(await renderValues({ ...hosted("7"), synapseFormSecret: "old-form" }), "7");
    expect(one.macaroon).to.equal(deriveTenantSecret(hosted("7").matrixRegistrationSharedSecret, "synapse-macaroon", "7", 32));
    expect(one.form).to.equal("old-form");
    expect(() => parseInstanceValues({ customer: "7", synapseFormSecret: ["x"] })).to.throw(/^synapseFormSecret: expected a string/);
  });

  it("instanceSecrets.create=false: macaroon/form still derive from a given registration secret, into the component's own synapse-secrets-{c}", async () => {
    const v = { ...hosted("7"), instanceSecrets: { create: false, hash: "h" } };
    const r = await renderValues(v);
    expect(r.find("Secret", "mindroom-api-keys-7")).to.equal(undefined);
    expect(r.get("Secret", "synapse-secrets-7").stringData.macaroon_secret_key).to.equal(deriveTenantSecret(v.matrixRegistrationSharedSecret, "synapse-macaroon", "7", 32));
  });

  it("a real run (no renderer seed) without any tenant secret draws fresh values and warns, naming no value", async () => {
    const runs: Record<string, string>[] = [];
    const { warnings } = await withWarnings(async () => {
      for (let i = 0; i < 2; i++) {
        const regs = await recordProgram(() => {
          useSecretSource(undefined); // what `pulumi up` sees; recordProgram restores its own source afterwards
          new MindroomInstance("instance-7", parseInstanceValues({ customer: "7" }));
        });
        const objects = kubeObjects(regs, true) as Obj[];
        const secret = objects.find((o) => o.metadata?.name === "mindroom-api-keys-7")!;
        const synapse = objects.find((o) => o.metadata?.name === "synapse-secrets-7")!.stringData;
        runs.push({ registration: secret.stringData.matrix_registration_shared_secret, macaroon: synapse.macaroon_secret_key, form: synapse.form_secret });
      }
    });
    expect(warnings).to.have.length(2);
    expect(warnings[0]).to.match(/matrix_registration_shared_secret, macaroon_secret_key, form_secret were generated for this update only/);
    expect(runs[0].registration).to.match(/^[A-Za-z0-9]{48}$/);
    for (const key of ["registration", "macaroon", "form"]) expect(runs[1][key], key).to.not.equal(runs[0][key]);
    for (const w of warnings) for (const run of runs) for (const secret of Object.values(run)) expect(w).to.not.contain(secret);
  });

  it("no warning and no generation in the hosted flow or with matrix_admin_password", async () => {
    const { warnings } = await withWarnings(() =>
      recordProgram(() => {
        useSecretSource(undefined);
        new MindroomInstance("instance-7", parseInstanceValues(hosted("7")));
        new MindroomInstance("instance-8", parseInstanceValues({ customer: "8", matrix_admin_password: "P" }));
      }),
    );
    expect(warnings).to.deep.equal([]);
  });
});
