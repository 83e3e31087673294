import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { parse } from "yaml";
import { ValuesError } from "../../../infra/values/errors";
import { MindroomInstance, parseInstanceValues, type MindroomInstanceArgs } from "../../../components/instance";
import { recordProgram } from "../../../infra/render/record";
import { resolveInstance } from "../../../components/instance/resolve";
import { mindroomEnv, renderValues } from "./helpers";

/** Every render-time rule: a valid and an invalid case, and the start of the one-line error. */
/** Enabled without strict mode needs the access layer and the acknowledgement (project rules). */
const ACCESS = { authUrl: "https://auth.example.org/oauth2/auth", acknowledgeUnverifiedHeaders: "i-understand-anyone-can-set-these-headers" };

const RULES: { rule: string; valid: Record<string, unknown>; invalid: Record<string, unknown>; error: RegExp }[] = [
  { rule: "customer is a DNS label", valid: { customer: "tenant-7" }, invalid: { customer: "Foo_1" }, error: /^customer: "Foo_1" cannot form valid object names; use lower-case/ },
  { rule: "customer length", valid: { customer: "a".repeat(54) }, invalid: { customer: "a".repeat(55) }, error: /^customer: .* at most 54/ },
  { rule: "baseDomain forms valid hosts", valid: { baseDomain: "staging.example-1.org" }, invalid: { baseDomain: "Example.org" }, error: /^baseDomain: "Example\.org" cannot form the tenant's hosts/ },
  { rule: "baseDomain is not empty", valid: { baseDomain: "x.io" }, invalid: { baseDomain: "" }, error: /^baseDomain: "" cannot form/ },
  { rule: "storage is a quantity", valid: { storage: "1.5Ti" }, invalid: { storage: "10GB" }, error: /^storage: "10GB" is not a Kubernetes quantity; use a size such as 10Gi/ },
  { rule: "resource values are quantities", valid: { synapseResources: { limits: { cpu: 2 } } }, invalid: { synapseResources: { limits: { cpu: "2 cores" } } }, error: /^synapseResources\.limits\.cpu: "2 cores" is not a Kubernetes quantity/ },
  { rule: "image pull policies are Kubernetes'", valid: { mindroom_image_pull_policy: "IfNotPresent" }, invalid: { kubernetesWorkerImagePullPolicy: "always" }, error: /^kubernetesWorkerImagePullPolicy: "always" is not an image pull policy; use Always, IfNotPresent or Never/ },
  { rule: "kubernetes workers need RWX or a node pin", valid: { workerBackend: "kubernetes", controlPlaneNodeName: "n1" }, invalid: { workerBackend: "kubernetes" }, error: /^workerBackend: .*storageAccessMode=ReadWriteMany.*controlPlaneNodeName/ },
  { rule: "worker port is a TCP port", valid: { kubernetesWorkerPort: "8800" }, invalid: { kubernetesWorkerPort: "http" }, error: /^kubernetesWorkerPort: "http" is not a TCP port/ },
  { rule: "trusted auth needs userIdHeader", valid: { trustedUpstreamAuth: { enabled: "on", userIdHeader: "X-U", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: "on" } }, error: /^trustedUpstreamAuth\.userIdHeader: required/ },
  { rule: "template needs emailHeader", valid: { trustedUpstreamAuth: { enabled: 1, userIdHeader: "X-U", emailHeader: "X-E", emailToMatrixUserIdTemplate: "@{localpart}:x.org", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: 1, userIdHeader: "X-U", emailToMatrixUserIdTemplate: "@{localpart}:x.org" } }, error: /^trustedUpstreamAuth\.emailHeader: required/ },
  { rule: "template has one {localpart}", valid: { trustedUpstreamAuth: { enabled: true, userIdHeader: "X-U", emailHeader: "X-E", emailToMatrixUserIdTemplate: "{localpart}", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: true, userIdHeader: "X-U", emailHeader: "X-E", emailToMatrixUserIdTemplate: "@{local}:x.org" } }, error: /^trustedUpstreamAuth\.emailToMatrixUserIdTemplate: must contain exactly one/ },
  ...["jwtHeader", "jwksUrl", "jwtAudience", "jwtIssuer"].map((key) => {
    const strict = { enabled: "true", userIdHeader: "X-U", requireJwt: "yes", jwtHeader: "h", jwksUrl: "u", jwtAudience: "a", jwtIssuer: "i" };
    return { rule: `strict mode needs ${key}`, valid: { trustedUpstreamAuth: strict }, invalid: { trustedUpstreamAuth: { ...strict, [key]: "" } }, error: new RegExp(`^trustedUpstreamAuth\\.${key}: required when requireJwt is true`) };
  }),
  { rule: "(project) trusted auth without requireJwt needs the acknowledgement", valid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", authUrl: ACCESS.authUrl } }, error: /^trustedUpstreamAuth\.acknowledgeUnverifiedHeaders: without requireJwt nothing verifies the identity headers; turn on requireJwt \(strict mode\), or set acknowledgeUnverifiedHeaders to "i-understand-anyone-can-set-these-headers"/ },
  { rule: "(project) trusted auth without requireJwt needs authUrl", valid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", acknowledgeUnverifiedHeaders: ACCESS.acknowledgeUnverifiedHeaders } }, error: /^trustedUpstreamAuth\.authUrl: required when trusted upstream auth runs without requireJwt/ },
  { rule: "(project) authUrl is a URL ingress-nginx accepts", valid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", ...ACCESS } }, invalid: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-U", ...ACCESS, authUrl: "auth:4180" } }, error: /^trustedUpstreamAuth\.authUrl: "auth:4180" is not a URL ingress-nginx accepts/ },
  { rule: "OIDC needs issuer", valid: { matrixOidc: { enabled: true, issuer: "https://i" } }, invalid: { matrixOidc: { enabled: true } }, error: /^matrixOidc\.issuer: required when matrixOidc\.enabled is true/ },
  { rule: "OIDC needs clientId", valid: { matrixOidc: { enabled: "true", issuer: "https://i", clientId: "c" } }, invalid: { matrixOidc: { enabled: "true", issuer: "https://i", clientId: "" } }, error: /^matrixOidc\.clientId: required when matrixOidc\.enabled is true/ },
];

describe("instance values: parsing and validation (spec §14, §2)", () => {
  for (const { rule, valid, invalid, error } of RULES) {
    it(`${rule}: accepts the valid case and rejects the invalid one with one line, in parse and constructor`, async () => {
      expect(() => parseInstanceValues({ customer: "t1", ...valid })).to.not.throw();
      let err: unknown;
      try {
        parseInstanceValues({ customer: "t1", ...invalid });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(ValuesError);
      expect((err as Error).message).to.match(error).and.not.contain("\n");
      // The constructor runs the same rules (args given directly in TypeScript), before anything registers.
      const args = { customer: "t1", ...invalid } as unknown as MindroomInstanceArgs;
      let thrown: unknown;
      const regs = await recordProgram(() => {
        try {
          new MindroomInstance("t", args);
        } catch (e) {
          thrown = e;
        }
      });
      expect((thrown as Error | undefined)?.message).to.match(error);
      expect(regs).to.deep.equal([]);
    });
  }

  it("maps upstream snake_case keys verbatim to camelCase args", () => {
    const out = parseInstanceValues({
      customer: "t1", mindroom_image: "img:1", mindroom_image_pull_policy: "IfNotPresent", synapse_image: "syn:1",
      synapse_image_pull_policy: "Never", openai_key: "o", anthropic_key: "a", google_key: "g", openrouter_key: "r",
      deepseek_key: "d", sandbox_proxy_token: "s", credentials_encryption_key: "c", matrix_admin_password: "p",
    });
    expect(out).to.include({
      mindroomImage: "img:1", mindroomImagePullPolicy: "IfNotPresent", synapseImage: "syn:1", synapseImagePullPolicy: "Never",
      openaiKey: "o", anthropicKey: "a", googleKey: "g", openrouterKey: "r", deepseekKey: "d", sandboxProxyToken: "s",
      credentialsEncryptionKey: "c", matrixAdminPassword: "p",
    });
  });

  it("applies the chart defaults once, when the component resolves the args: customer demo, resource maps, and an empty values file renders", async () => {
    const out = parseInstanceValues({});
    expect(out.customer).to.equal("demo");
    // The args keep what the file said; resolveInstance (the component's view) has the defaults.
    expect(out).to.not.have.property("mindroomResources");
    expect(resolveInstance(out).mindroomResources).to.deep.equal({ requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" } });
    const r = await renderValues({});
    expect(r.objects).to.have.length(12);
    expect(mindroomEnv(r).MATRIX_SERVER_NAME).to.equal("demo.mindroom.chat");
  });

  it("rejects an unknown key, naming it and suggesting the closest known key", () => {
    expect(() => parseInstanceValues({ mindroom_imgae: "x" })).to.throw(/^unknown key "mindroom_imgae"; did you mean "mindroom_image"\?/);
    expect(() => parseInstanceValues({ trustedUpstreamAuth: { userIdHeaders: "x" } })).to.throw(/^trustedUpstreamAuth: unknown key "userIdHeaders"; did you mean "userIdHeader"\?/);
    expect(() => parseInstanceValues({ mindroomResources: { requests: {}, limit: {} } })).to.throw(/^mindroomResources: .*/);
    expect(() => parseInstanceValues({ completelyUnrelated: 1 })).to.throw(/^unknown key "completelyUnrelated"; remove it/);
  });

  it("names the upstream (snake_case) key when an image pull policy is wrong", () => {
    expect(() => parseInstanceValues({ synapse_image_pull_policy: "always" })).to.throw(/^synapse_image_pull_policy: "always" is not an image pull policy/);
    expect(() => parseInstanceValues({ mindroom_image_pull_policy: "Sometimes" })).to.throw(/^mindroom_image_pull_policy: "Sometimes" is not an image pull policy/);
  });

  it("names the value and the expected type on a type error", () => {
    expect(() => parseInstanceValues({ baseDomain: ["a.org"] })).to.throw(/^baseDomain: expected a string, got a list/);
    expect(() => parseInstanceValues({ trustedUpstreamAuth: { jwtAudience: true } })).to.throw(/^trustedUpstreamAuth\.jwtAudience: expected a string, got boolean/);
    expect(() => parseInstanceValues({ authorizationGlobalUsers: "@a:b" })).to.throw(/^authorizationGlobalUsers: expected a list of strings/);
    expect(() => parseInstanceValues({ storageAccessMode: "RWO" })).to.throw(/^storageAccessMode: "RWO" is not a PVC access mode/);
    expect(() => parseInstanceValues({ customer: null })).to.throw(/^customer: expected the tenant id/);
  });

  it("takes numbers in string values as their string form, as Helm renders them (helm --set types jwtAudience=1234 as a number)", async () => {
    const r = await renderValues({
      customer: 7, baseDomain: "example.org", accountId: 99, storageClassName: 0,
      trustedUpstreamAuth: { enabled: true, userIdHeader: "X-U", requireJwt: true, jwtHeader: "X-J", jwksUrl: "https://j", jwtAudience: 1234567890, jwtIssuer: "https://i" },
      matrixOidc: { enabled: true, issuer: "https://i", clientId: 4242 },
    });
    expect(mindroomEnv(r, "7")).to.include({ MINDROOM_TRUSTED_UPSTREAM_JWT_AUDIENCE: "1234567890", ACCOUNT_ID: "99" });
    expect(r.get("PersistentVolumeClaim", "mindroom-storage-7").spec.storageClassName).to.equal("0");
    expect(parse(r.get("ConfigMap", "synapse-config-7").data["homeserver.yaml"], { version: "1.1" }).oidc_providers[0].client_id).to.equal("4242");
  });

  it("accepts secret values as Pulumi Outputs and numbers", () => {
    const out = parseInstanceValues({ openai_key: pulumi.secret("sk"), matrix_admin_password: 12345 });
    expect(pulumi.Output.isInstance(out.openaiKey)).to.equal(true);
    expect(out.matrixAdminPassword).to.equal("12345");
  });
});
