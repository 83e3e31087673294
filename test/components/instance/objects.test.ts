import { expect } from "chai";
import { createHash } from "node:crypto";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { MindroomInstance } from "../../../components/instance";
import { K8S_RWX, mindroomEnv, podSpec, renderArgs, renderValues, type Obj } from "./helpers";

const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const sha = (s: string) => createHash("sha256").update(s).digest("hex");

describe("MindroomInstance: objects and naming (spec §17 items 1-13)", () => {
  it("1: every object is in mindroom-instances, whatever the provider's namespace (the worker admission policy is cluster-scoped)", async () => {
    const r = await renderArgs({ customer: "t1", ...K8S_RWX });
    expect(r.objects).to.have.length(18);
    for (const o of r.objects) {
      const clusterScoped = o.kind.startsWith("ValidatingAdmissionPolicy");
      expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).to.equal(clusterScoped ? undefined : "mindroom-instances");
    }
  });

  it("2: defaults register the 11 objects of the chart, plus (project, issue 9) Secret synapse-secrets-{c}", async () => {
    const r = await renderValues({ customer: "t1" });
    expect(kinds(r.objects)).to.deep.equal([
      "ConfigMap/mindroom-config-t1", "ConfigMap/synapse-config-t1", "Deployment/mindroom-t1", "Deployment/synapse-t1",
      "Ingress/t1-ingress", "NetworkPolicy/instance-traffic-controls-t1", "PersistentVolumeClaim/mindroom-storage-t1",
      "PersistentVolumeClaim/synapse-storage-t1", "Secret/mindroom-api-keys-t1", "Secret/synapse-secrets-t1", "Service/mindroom-t1", "Service/synapse-t1",
    ]);
  });

  it("3: workerBackend=kubernetes with RWX adds the worker-manager ServiceAccount, Role, RoleBinding and worker-auth Secret (15; 18 with the worker admission policy and binding and synapse-secrets-{c})", async () => {
    const r = await renderArgs({ customer: "t1", ...K8S_RWX });
    const extra = kinds(r.objects).filter((k) => k.includes("worker"));
    expect(extra).to.deep.equal([
      "Role/mindroom-worker-manager-t1", "RoleBinding/mindroom-worker-manager-t1",
      "Secret/mindroom-worker-auth-t1", "ServiceAccount/mindroom-worker-manager-t1",
      "ValidatingAdmissionPolicy/mindroom-worker-manager-t1", "ValidatingAdmissionPolicyBinding/mindroom-worker-manager-t1",
    ]);
    expect(r.objects).to.have.length(18);
  });

  it("4: mindroom-worker-auth-{c} has neither data nor stringData and labels app=mindroom, customer", async () => {
    const r = await renderArgs({ customer: "t1", ...K8S_RWX });
    const s = r.get("Secret", "mindroom-worker-auth-t1");
    expect(s).to.not.have.property("data");
    expect(s).to.not.have.property("stringData");
    expect(s.type).to.equal("Opaque");
    expect(s.metadata?.labels).to.deep.equal({ app: "mindroom", customer: "t1" });
  });

  it("5: instanceSecrets.create=false registers no tenant Secret and no given secret value appears anywhere", async () => {
    const r = await renderValues({
      customer: "t1", instanceSecrets: { create: "false", hash: "h1" },
      openai_key: "sk-OPENAI-VALUE", sandbox_proxy_token: "TOKEN-VALUE", matrixRegistrationSharedSecret: "REG-VALUE",
      matrix_admin_password: "ADMIN-VALUE", supabaseServiceKey: "SUPA-VALUE", matrixOidc: { clientSecret: "OIDC-VALUE" },
    });
    // The only Secret is the component's own synapse-secrets-{c}: an operator's Secret holds no macaroon/form key.
    expect(r.objects.filter((o) => o.kind === "Secret").map((o) => o.metadata.name)).to.deep.equal(["synapse-secrets-t1"]);
    const synapse = r.get("Secret", "synapse-secrets-t1");
    const elsewhere = JSON.stringify(r.objects.filter((o) => o !== synapse));
    for (const v of ["sk-OPENAI-VALUE", "TOKEN-VALUE", "REG-VALUE", "SUPA-VALUE", "OIDC-VALUE", "ADMIN-VALUE"]) expect(elsewhere).to.not.contain(v);
    // matrix_admin_password doubles as the macaroon/form secret (§8.3): only there, and only as a secret input.
    expect(synapse.stringData).to.deep.equal({ macaroon_secret_key: "ADMIN-VALUE", form_secret: "ADMIN-VALUE" });
    expect(JSON.stringify(r.redacted)).to.not.contain("ADMIN-VALUE");
  });

  it("6: instanceSecrets.name=X makes both Deployments use Secret X; hash=H lands on both pod templates", async () => {
    const r = await renderValues({ customer: "t1", instanceSecrets: { create: false, name: "ops-keys", hash: "H" } });
    const mindroom = r.get("Deployment", "mindroom-t1");
    const synapse = r.get("Deployment", "synapse-t1");
    expect(podSpec(mindroom).volumes[2].secret.secretName).to.equal("ops-keys");
    expect(podSpec(synapse).volumes.find((v: Obj) => v.projected).projected.sources[0].secret.name).to.equal("ops-keys");
    expect(mindroomEnv(r, "t1").MINDROOM_SANDBOX_PROXY_TOKEN).to.deep.equal({ secretKeyRef: { name: "ops-keys", key: "sandbox_proxy_token" } });
    for (const d of [mindroom, synapse]) expect(d.spec.template.metadata.annotations["mindroom.ai/instance-secret-hash"]).to.equal("H");
  });

  it("7: the default Secret name is mindroom-api-keys-{c}; customer 1 as number or string gives mindroom-api-keys-1", async () => {
    for (const customer of [1, "1"]) {
      const r = await renderArgs({ customer });
      expect(r.objects.filter((o) => o.kind === "Secret").map((o) => o.metadata?.name)).to.deep.equal(["mindroom-api-keys-1", "synapse-secrets-1"]);
    }
  });

  it("8: the tenant Secret has exactly the ten keys of §9, empty strings when not given", async () => {
    const r = await renderValues({ customer: "t1", openai_key: "sk-1", supabaseServiceKey: "svc", matrixOidc: { clientSecret: "oc" } });
    const data = r.get("Secret", "mindroom-api-keys-t1").stringData;
    expect(Object.keys(data).sort()).to.deep.equal([
      "anthropic_key", "credentials_encryption_key", "deepseek_key", "google_key", "matrix_oidc_client_secret",
      "matrix_registration_shared_secret", "openai_key", "openrouter_key", "sandbox_proxy_token", "supabase_service_key",
    ]);
    expect(data.openai_key).to.equal("sk-1");
    expect(data.supabase_service_key).to.equal("svc");
    expect(data.matrix_oidc_client_secret).to.equal("oc");
    expect(data.google_key).to.equal("");
  });

  it("9: a generated registration secret is 48 characters, identical across two renders, with no provider resource", async () => {
    const first = await renderArgs({ customer: "t1" });
    const second = await renderArgs({ customer: "t1" });
    const reg = (r: Awaited<ReturnType<typeof renderArgs>>) => r.get("Secret", "mindroom-api-keys-t1").stringData.matrix_registration_shared_secret;
    expect(reg(first)).to.have.length(48).and.match(/^[A-Za-z0-9]+$/);
    expect(reg(second)).to.equal(reg(first));
    // Generated in-process (repeatable only under the renderer), never a random:* resource.
    expect(first.regs.filter((x) => !x.type.startsWith("kubernetes:") && !x.type.startsWith("pulumi:") && !x.type.startsWith("mindroom:"))).to.deep.equal([]);
    const given = await renderValues({ customer: "t1", matrix_admin_password: "pw" });
    expect(given.get("Secret", "mindroom-api-keys-t1").stringData.matrix_registration_shared_secret).to.equal("pw");
  });

  it("10: without instanceSecrets.hash the hash is SHA-256 of the ten values in order, '' last when generated", async () => {
    const values = { openai_key: "a", anthropic_key: "b", openrouter_key: "c", google_key: "d", deepseek_key: "e", supabaseServiceKey: "f", sandbox_proxy_token: "g", credentials_encryption_key: "h", matrixOidc: { clientSecret: "i" } };
    const generated = await renderValues({ customer: "t1", ...values });
    const annotation = (r: Awaited<ReturnType<typeof renderArgs>>) => r.get("Deployment", "mindroom-t1").spec.template.metadata.annotations["mindroom.ai/instance-secret-hash"];
    expect(annotation(generated)).to.equal(sha("a|b|c|d|e|f|g|h|i|"));
    const given = await renderValues({ customer: "t1", ...values, matrixRegistrationSharedSecret: "j", matrix_admin_password: "k" });
    expect(annotation(given)).to.equal(sha("a|b|c|d|e|f|g|h|i|j"));
    const admin = await renderValues({ customer: "t1", ...values, matrix_admin_password: "k" });
    expect(annotation(admin)).to.equal(sha("a|b|c|d|e|f|g|h|i|k"));
    // The hash is plain (not a secret), although it is computed from secrets.
    expect(containsSecret(generated.reg("Deployment", "mindroom-t1").inputs.spec)).to.equal(false);
  });

  it("11: a numeric customer 42 gives string names, labels and CUSTOMER_ID, and LABELS_JSON keeps the number", async () => {
    const r = await renderArgs({ customer: 42, ...K8S_RWX });
    for (const o of r.objects) {
      expect(o.metadata?.name, o.kind).to.contain("42");
      for (const v of Object.values(o.metadata?.labels ?? {})) expect(v).to.be.a("string");
    }
    expect(r.get("ServiceAccount", "mindroom-worker-manager-42").metadata.name).to.equal("mindroom-worker-manager-42");
    expect(podSpec(r.get("Deployment", "mindroom-42")).serviceAccountName).to.equal("mindroom-worker-manager-42");
    expect(r.get("RoleBinding", "mindroom-worker-manager-42").subjects[0].name).to.equal("mindroom-worker-manager-42");
    expect(r.get("Deployment", "mindroom-42").metadata.labels.customer).to.equal("42");
    const env = mindroomEnv(r, "42");
    expect(env.CUSTOMER_ID).to.equal("42");
    expect(env.MINDROOM_KUBERNETES_WORKER_LABELS_JSON).to.equal('{"customer":42}');
    expect(r.get("Ingress", "42-ingress").spec.tls[0].hosts).to.deep.equal(["42.mindroom.chat", "42.api.mindroom.chat", "42.matrix.mindroom.chat"]);
    const stringly = await renderArgs({ customer: "t1", ...K8S_RWX });
    expect(mindroomEnv(stringly, "t1").MINDROOM_KUBERNETES_WORKER_LABELS_JSON).to.equal('{"customer":"t1"}');
  });

  it("12: customer Foo_1 or a 60-character id is rejected before any object registers", async () => {
    for (const customer of ["Foo_1", "a".repeat(60), "-x", 1.5, undefined as unknown as string]) {
      let thrown: unknown;
      const regs = await recordProgram(() => {
        try {
          new MindroomInstance("tenant", { customer });
        } catch (err) {
          thrown = err;
        }
      });
      expect(String(thrown), String(customer)).to.match(/^ValuesError: customer: /);
      expect(regs, String(customer)).to.deep.equal([]);
    }
    const longest = await renderArgs({ customer: "a".repeat(54) });
    expect(longest.get("Service", `mindroom-${"a".repeat(54)}`).metadata.name).to.have.length(63);
  });

  it("13: the tenant Secret is a child of the component and its stringData is a secret Output", async () => {
    const r = await renderArgs({ customer: "t1", openaiKey: "sk-1", sandboxProxyToken: pulumi.secret("tok") });
    const reg = r.reg("Secret", "mindroom-api-keys-t1");
    expect(reg.urn).to.contain("mindroom:instance:MindroomInstance$kubernetes:core/v1:Secret::");
    expect(containsSecret(reg.inputs.stringData)).to.equal(true);
    expect(JSON.stringify(r.redacted)).to.not.contain("sk-1");
  });
});
