import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { recordProgram } from "../../../infra/render/record";
import { MindroomInstance, type MindroomInstanceArgs } from "../../../components/instance";
import { parseInstanceValues } from "../../../components/instance/values";
import { K8S_RWX, mindroomEnv, renderArgs, renderValues } from "./helpers";

const T = "MINDROOM_TRUSTED_UPSTREAM_";
const trusted = (env: Record<string, unknown>) => Object.fromEntries(Object.entries(env).filter(([k]) => k.startsWith(T)));
const STRICT = { enabled: "true", userIdHeader: "X-User", requireJwt: "true", jwtHeader: "X-Jwt", jwksUrl: "https://idp/jwks", jwtAudience: "mindroom", jwtIssuer: "https://idp" };
/** Enabled without strict mode also needs these (project rules; trusted-upstream-ingress.test.ts). */
const ACCESS = { authUrl: "https://auth.example.org/oauth2/auth", acknowledgeUnverifiedHeaders: "i-understand-anyone-can-set-these-headers" };

describe("MindroomInstance: trusted upstream auth (spec §17 items 77-80)", () => {
  it("77: enabled without userIdHeader throws; a template without emailHeader throws; valid settings pass", () => {
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "true" } })).to.throw(/^trustedUpstreamAuth\.userIdHeader: required/);
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "yes", userIdHeader: "X-User", emailToMatrixUserIdTemplate: "@{localpart}:example.org" } }))
      .to.throw(/^trustedUpstreamAuth\.emailHeader: required/);
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-User", emailHeader: "X-Email", emailToMatrixUserIdTemplate: "@{localpart}:example.org", ...ACCESS } }))
      .to.not.throw();
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: "false", emailToMatrixUserIdTemplate: "no placeholder" } })).to.not.throw();
  });

  it("77 (deployment guide): the email template must contain exactly one {localpart}", () => {
    for (const template of ["@user:example.org", "@{localpart}{localpart}:example.org"]) {
      expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { enabled: true, userIdHeader: "X-User", emailHeader: "X-Email", emailToMatrixUserIdTemplate: template } }), template)
        .to.throw(/^trustedUpstreamAuth\.emailToMatrixUserIdTemplate: must contain exactly one \{localpart\}/);
    }
  });

  it("78: strict mode with a missing jwtHeader, jwksUrl, jwtAudience or jwtIssuer throws, naming the value", () => {
    expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: STRICT })).to.not.throw();
    for (const key of ["jwtHeader", "jwksUrl", "jwtAudience", "jwtIssuer"]) {
      expect(() => parseInstanceValues({ customer: "t1", trustedUpstreamAuth: { ...STRICT, [key]: "" } }), key).to.throw(new RegExp(`^trustedUpstreamAuth\\.${key}: required .*strict`));
    }
    expect(() => new MindroomInstance("x", { customer: "t1", trustedUpstreamAuth: { ...STRICT, jwksUrl: "" } })).to.throw(/jwksUrl/);
  });

  it("79: enabled + strict: env has the header settings, REQUIRE_JWT=true and the JWT settings, email claim defaulting to email", async () => {
    const r = await renderValues({ customer: "t1", trustedUpstreamAuth: { ...STRICT, emailHeader: "X-Email", jwtUserIdClaim: "uid" } });
    const env = mindroomEnv(r, "t1");
    expect(trusted(env)).to.deep.equal({
      [`${T}AUTH_ENABLED`]: "true", [`${T}USER_ID_HEADER`]: "X-User", [`${T}EMAIL_HEADER`]: "X-Email", [`${T}REQUIRE_JWT`]: "true",
      [`${T}JWT_HEADER`]: "X-Jwt", [`${T}JWKS_URL`]: "https://idp/jwks", [`${T}JWT_AUDIENCE`]: "mindroom", [`${T}JWT_ISSUER`]: "https://idp",
      [`${T}JWT_EMAIL_CLAIM`]: "email", [`${T}JWT_USER_ID_CLAIM`]: "uid",
    });
    const names = Object.keys(env);
    expect(names.indexOf(`${T}AUTH_ENABLED`)).to.equal(names.indexOf("SUPABASE_ANON_KEY") + 1);
  });

  it("80: disabled: no MINDROOM_TRUSTED_UPSTREAM_* env at all", async () => {
    const r = await renderValues({ customer: "t1", trustedUpstreamAuth: { ...STRICT, enabled: "off" } });
    expect(trusted(mindroomEnv(r, "t1"))).to.deep.equal({});
  });
});

/** Records each child's resource options through a transformation (mocks do not see options). */
async function childOptions(args: MindroomInstanceArgs): Promise<Map<string, pulumi.CustomResourceOptions>> {
  const seen = new Map<string, pulumi.CustomResourceOptions>();
  await recordProgram(() => {
    new MindroomInstance("tenant", args, {
      transformations: [(a) => {
        seen.set(`${a.type}::${a.name}`, a.opts as pulumi.CustomResourceOptions);
        return undefined;
      }],
    });
  });
  return seen;
}

describe("MindroomInstance: Pulumi mapping (spec §17 items 82-83, Deviation 9)", () => {
  it("82: Deployments, Services, the Ingress and both PVCs carry pulumi.com/skipAwait: \"true\"; nothing else does", async () => {
    const r = await renderArgs({ customer: "t1", ...K8S_RWX });
    const awaited = new Set(["Deployment", "Service", "Ingress", "PersistentVolumeClaim"]);
    for (const o of r.objects) {
      const value = o.metadata?.annotations?.["pulumi.com/skipAwait"];
      expect(value, `${o.kind}/${o.metadata?.name}`).to.equal(awaited.has(o.kind) ? "true" : undefined);
    }
    expect(r.objects.filter((o) => awaited.has(o.kind))).to.have.length(7);
  });

  it("83: every Kubernetes object is a child of the component and uses the provider given to it", async () => {
    const r = await renderArgs({ customer: "t1", ...K8S_RWX });
    const kube = r.regs.filter((x) => x.custom && x.type.startsWith("kubernetes:") && !x.type.startsWith("pulumi:providers:"));
    expect(kube).to.have.length(18);
    for (const x of kube) {
      expect(x.urn, x.name).to.contain("mindroom:instance:MindroomInstance$kubernetes:");
      expect(x.provider, x.name).to.match(/pulumi:providers:kubernetes::test-provider::/);
    }
    const component = r.regs.find((x) => x.type === "mindroom:instance:MindroomInstance");
    expect(component?.custom).to.equal(false);
  });

  it("Deviation 9: PVCs follow retainData (default true); the tenant Secret is always retained; worker-auth ignores data", async () => {
    const kept = await childOptions({ customer: "t1", ...K8S_RWX });
    expect(kept.get("kubernetes:core/v1:PersistentVolumeClaim::tenant-mindroom-storage")?.retainOnDelete).to.equal(true);
    expect(kept.get("kubernetes:core/v1:PersistentVolumeClaim::tenant-synapse-storage")?.retainOnDelete).to.equal(true);
    expect(kept.get("kubernetes:core/v1:Secret::tenant-api-keys")?.retainOnDelete).to.equal(true);
    expect(kept.get("kubernetes:core/v1:Secret::tenant-worker-auth")?.ignoreChanges).to.deep.equal(["data", "stringData"]);
    expect(kept.get("kubernetes:apps/v1:Deployment::tenant-mindroom")?.retainOnDelete).to.equal(undefined);
    const deleted = await childOptions({ customer: "t1", retainData: false });
    expect(deleted.get("kubernetes:core/v1:PersistentVolumeClaim::tenant-mindroom-storage")?.retainOnDelete).to.equal(false);
    expect(deleted.get("kubernetes:core/v1:Secret::tenant-api-keys")?.retainOnDelete).to.equal(true);
  });

  it("secret args are wrapped as secrets even when given as plain strings", async () => {
    let stringData: pulumi.Output<unknown> | undefined;
    await recordProgram(() => {
      new MindroomInstance("tenant", { customer: "t1", openaiKey: "plain" }, {
        transformations: [(a) => {
          if (a.type === "kubernetes:core/v1:Secret") stringData = a.props.stringData;
          return undefined;
        }],
      });
    });
    expect(await pulumi.isSecret(stringData as pulumi.Output<unknown>)).to.equal(true);
  });

  it("the provider's own namespace never leaks into objects (explicit namespace everywhere)", async () => {
    const regs = await recordProgram(() => {
      const p = new k8s.Provider("p", { namespace: "default" });
      new MindroomInstance("tenant", { customer: "t1" }, { providers: [p] });
    });
    const namespaces = regs.filter((x) => x.type.startsWith("kubernetes:") && x.custom && !x.type.startsWith("pulumi:")).map((x) => (x.inputs.metadata as { namespace?: string }).namespace);
    expect(new Set(namespaces)).to.deep.equal(new Set(["mindroom-instances"]));
  });
});
