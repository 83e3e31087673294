/** Every validation of platform.md §10 plus the project's own, valid and invalid; errors are one line naming the value. */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { recordProgram } from "../../../infra/render/record";
import { ValuesError } from "../../../infra/values/errors";
import { Platform } from "../../../components/platform/platform";
import { parsePlatformValues } from "../../../components/platform/values";

/** Parses `values` and returns the error message, or undefined when they are valid. */
function errorOf(values: Record<string, unknown>): string | undefined {
  try {
    parsePlatformValues(values);
    return undefined;
  } catch (err) {
    expect(err).to.be.instanceOf(ValuesError);
    const message = (err as Error).message;
    expect(message.split("\n"), "one-line error").to.have.length(1);
    return message;
  }
}

/** Enabled without strict mode needs the access layer and the acknowledgement (project rules, tested below). */
const ACCESS = { authUrl: "https://auth.example.org/oauth2/auth", acknowledgeUnverifiedHeaders: "i-understand-anyone-can-set-these-headers" };
const tua = (fields: Record<string, unknown>) => ({ provisioner: { trustedUpstreamAuth: { enabled: "true", userIdHeader: "X-User", ...ACCESS, ...fields } } });
const strict = { requireJwt: "true", jwtHeader: "X-Jwt", jwksUrl: "https://idp/jwks", jwtAudience: "aud", jwtIssuer: "https://idp" };

describe("platform validations", () => {
  it("defaults are valid", () => {
    expect(errorOf({})).to.equal(undefined);
  });

  it("environment must be a DNS label", () => {
    expect(errorOf({ environment: "Prod" })).to.match(/^environment: must be a DNS label/);
    expect(errorOf({ environment: "prod_1" })).to.match(/^environment:/);
    expect(errorOf({ environment: "x".repeat(55) })).to.match(/^environment: must be at most 54/);
    expect(errorOf({ environment: "prod-2" })).to.equal(undefined);
  });

  it("namespace must be mindroom-{environment}", () => {
    expect(errorOf({ environment: "production", namespace: "mindroom-staging" })).to.equal(
      "namespace: the platform lives in mindroom-production (mindroom-{environment}), not mindroom-staging; set environment to match or use namespace mindroom-production",
    );
    expect(errorOf({ environment: "production", namespace: "mindroom-production" })).to.equal(undefined);
  });

  it("1: an email-to-Matrix template requires emailHeader", () => {
    expect(errorOf(tua({ emailToMatrixUserIdTemplate: "@{localpart}:example.org" }))).to.match(/^provisioner\.trustedUpstreamAuth\.emailHeader: required when emailToMatrixUserIdTemplate is set/);
    expect(errorOf(tua({ emailToMatrixUserIdTemplate: "@{localpart}:example.org", emailHeader: "X-Email" }))).to.equal(undefined);
  });

  it("the template must contain exactly one {localpart}", () => {
    const withHeader = (t: string) => tua({ emailHeader: "X-Email", emailToMatrixUserIdTemplate: t });
    expect(errorOf(withHeader("@user:example.org"))).to.match(/^provisioner\.trustedUpstreamAuth\.emailToMatrixUserIdTemplate: must contain exactly one \{localpart\}/);
    expect(errorOf(withHeader("@{localpart}{localpart}:example.org"))).to.match(/exactly one \{localpart\}/);
    expect(errorOf(withHeader("@{localpart}:example.org"))).to.equal(undefined);
  });

  it("2: enabled requires userIdHeader; check 1 runs first", () => {
    expect(errorOf(tua({ userIdHeader: "" }))).to.match(/^provisioner\.trustedUpstreamAuth\.userIdHeader: required when trusted upstream auth is enabled/);
    expect(errorOf(tua({ userIdHeader: "", emailToMatrixUserIdTemplate: "@{localpart}:x" }))).to.match(/emailHeader/);
    expect(errorOf(tua({}))).to.equal(undefined);
    // "yes" is truthy, "no" is not.
    expect(errorOf({ provisioner: { trustedUpstreamAuth: { enabled: "yes" } } })).to.match(/userIdHeader/);
    expect(errorOf({ provisioner: { trustedUpstreamAuth: { enabled: "no", emailToMatrixUserIdTemplate: "bad" } } })).to.equal(undefined);
  });

  for (const [n, key] of [[3, "jwtHeader"], [4, "jwksUrl"], [5, "jwtAudience"], [6, "jwtIssuer"]] as const) {
    it(`${n}: strict mode requires ${key}`, () => {
      expect(errorOf(tua({ ...strict, [key]: "" }))).to.equal(
        `provisioner.trustedUpstreamAuth.${key}: required when requireJwt is true (strict mode); set it or turn requireJwt off`,
      );
      expect(errorOf(tua({ ...strict, requireJwt: "false", [key]: "" }))).to.equal(undefined);
    });
  }

  it("3-6: strict mode with all four JWT fields is valid", () => {
    expect(errorOf(tua(strict))).to.equal(undefined);
  });

  it("project: without requireJwt, acknowledgeUnverifiedHeaders (exact value) and authUrl are required; strict mode needs neither", () => {
    expect(errorOf(tua({ acknowledgeUnverifiedHeaders: "" }))).to.match(
      /^provisioner\.trustedUpstreamAuth\.acknowledgeUnverifiedHeaders: without requireJwt nothing verifies the identity headers; .*"i-understand-anyone-can-set-these-headers"/,
    );
    expect(errorOf(tua({ acknowledgeUnverifiedHeaders: "yes" }))).to.match(/acknowledgeUnverifiedHeaders/);
    expect(errorOf(tua({ authUrl: "" }))).to.match(/^provisioner\.trustedUpstreamAuth\.authUrl: required when trusted upstream auth runs without requireJwt/);
    expect(errorOf(tua({ authUrl: "not a url" }))).to.match(/^provisioner\.trustedUpstreamAuth\.authUrl: "not a url" is not a URL ingress-nginx accepts/);
    expect(errorOf(tua({ ...strict, authUrl: "", acknowledgeUnverifiedHeaders: "" }))).to.equal(undefined);
  });

  it("7: OIDC with create=true requires clientSecret", () => {
    expect(errorOf({ matrixOidc: { enabled: "true", privateKey: "k" } })).to.match(/^matrixOidc\.clientSecret: required when matrixOidc\.enabled is true/);
    expect(errorOf({ matrixOidc: { enabled: "true", privateKey: "k", clientSecret: "s" } })).to.equal(undefined);
  });

  it("8: OIDC with create=true requires privateKey", () => {
    expect(errorOf({ matrixOidc: { enabled: "on", clientSecret: "s" } })).to.match(/^matrixOidc\.privateKey: required when matrixOidc\.enabled is true/);
  });

  it("7-8: skipped with platformSecrets.create=false; a pulumi.Output counts as set", () => {
    expect(errorOf({ matrixOidc: { enabled: "true" }, platformSecrets: { create: false } })).to.equal(undefined);
    expect(errorOf({ matrixOidc: { enabled: "true", clientSecret: pulumi.output("s"), privateKey: pulumi.output("k") } })).to.equal(undefined);
    expect(errorOf({ matrixOidc: { enabled: "false" } })).to.equal(undefined);
  });

  it("platformSecrets.create=false accepts no secret value", () => {
    expect(errorOf({ platformSecrets: { create: false }, stripe: { secretKey: "sk" } })).to.match(/^stripe\.secretKey: platformSecrets\.create=false mounts the pre-created Secret/);
    expect(errorOf({ platformSecrets: { create: "false" }, apiKeys: { openai: pulumi.output("k") } })).to.match(/^apiKeys\.openai:/);
    expect(errorOf({ platformSecrets: { create: false }, provisioner: { enabled: true, pulumiConfigPassphrase: "p" } })).to.match(/^provisioner\.pulumiConfigPassphrase:/);
    expect(errorOf({ platformSecrets: { create: false }, provisioner: { enabled: true } })).to.equal(undefined);
  });

  it("the provisioner's tenant-stacks passphrase: generated when unset, required beside a previous one", () => {
    // Unset, the tenant stacks' passphrase is generated (test/components/platform/tenant-passphrase.test.ts); it is required only beside a previous one.
    expect(errorOf({ provisioner: { enabled: true } })).to.equal(undefined);
    expect(errorOf({ provisioner: { enabled: true, previousPulumiConfigPassphrase: "old" } })).to.match(/^provisioner\.pulumiConfigPassphrase: required while provisioner\.previousPulumiConfigPassphrase is set .*never the platform stack's/);
    expect(errorOf({ provisioner: { enabled: true, previousPulumiConfigPassphrase: pulumi.output("old") } })).to.match(/^provisioner\.pulumiConfigPassphrase: required while/);
    expect(errorOf({ platformSecrets: { create: false }, provisioner: { enabled: true, previousPulumiConfigPassphrase: "old" } })).to.match(/^provisioner\.previousPulumiConfigPassphrase: platformSecrets\.create=false/);
    expect(errorOf({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } })).to.equal(undefined);
    expect(errorOf({ provisioner: { enabled: true, pulumiConfigPassphrase: pulumi.output("p") } })).to.equal(undefined);
  });

  it("provisioner.backendUrl must not embed a password", () => {
    const on = (backendUrl: string) => ({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", backendUrl } });
    expect(errorOf(on("postgres://user:secret@db:5432/pulumi"))).to.match(/^provisioner\.backendUrl: must not embed a password/);
    expect(errorOf(on("s3://bucket/prefix?region=eu-central-1"))).to.equal(undefined);
    expect(errorOf(on("file:///data/state"))).to.equal(undefined);
  });

  it("a backendUrl with credentials is refused without echoing them, whatever else is wrong with it", () => {
    const on = (backendUrl: string) => ({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", backendUrl } });
    for (const url of ["postgresql://user:S3cretPw@db:5432/pulumi", "user:S3cretPw@db/pulumi", "postgres://db:5432/pulumi?sslmode=require&password=S3cretPw", "file://u:S3cretPw@/var/state"]) {
      const message = errorOf(on(url));
      expect(message, url).to.match(/^provisioner\.backendUrl: must not embed a password/);
      expect(message, url).to.not.contain("S3cretPw");
    }
  });

  it("provisioner.backendUrl must be a Pulumi backend, and file state must live on a durable data volume", () => {
    const on = (provisioner: Record<string, unknown>) => ({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", ...provisioner } });
    expect(errorOf(on({ backendUrl: "ftp://state" }))).to.match(/^provisioner\.backendUrl: ftp:\/\/state is not a Pulumi state backend URL; use s3:\/\//);
    expect(errorOf(on({ backendUrl: "bucket/state" }))).to.match(/^provisioner\.backendUrl: bucket\/state is not a Pulumi state backend URL/);
    expect(errorOf(on({ backendUrl: "file:///var/state" }))).to.match(/^provisioner\.backendUrl: file:\/\/\/var\/state is outside the data volume.*use file:\/\/\/data\/state/);
    expect(errorOf(on({ backendUrl: "file:///database" }))).to.match(/outside the data volume/);
    expect(errorOf(on({ storage: { enabled: false } }))).to.match(/^provisioner\.storage\.enabled: false puts the file backend's state .* on an emptyDir/);
    expect(errorOf(on({ backendUrl: "file:///data/state", storage: { enabled: "false" } }))).to.match(/^provisioner\.storage\.enabled:/);
    expect(errorOf(on({ backendUrl: "gs://bucket", storage: { enabled: false } }))).to.equal(undefined);
    expect(errorOf(on({ backendUrl: "https://api.pulumi.com" }))).to.equal(undefined);
  });

  it("provisioner.extraEnv cannot override what the component sets", () => {
    const on = (extraEnv: Record<string, string>) => ({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", extraEnv } });
    for (const name of ["PORT", "MINDROOM_DATA_DIR", "POD_IP", "PULUMI_BACKEND_URL", "SUPABASE_URL", "INSTANCE_STORAGE_CLASS_NAME"]) {
      expect(errorOf(on({ [name]: "x" })), name).to.equal(
        `provisioner.extraEnv.${name}: the component sets it from the platform values (see docs/platform.md); set the matching value there instead`,
      );
    }
    expect(errorOf(on({ PROVISIONER_CONCURRENCY: "1", LOG_LEVEL: "debug" }))).to.equal(undefined);
  });

  it("unknown keys are errors naming them, so a typo never silently changes nothing", () => {
    // The shared strict map's wording (infra/values/strict-map.ts): the closest known key, and where every key is listed.
    expect(errorOf({ provisioner: { enabeld: true } })).to.equal('provisioner: unknown key "enabeld"; did you mean "enabled"? (every key: docs/platform.md#values)');
    expect(errorOf({ provisioner: { zzzz: 1 } })).to.equal('provisioner: unknown key "zzzz"; remove it (every key: docs/platform.md#values)');
    expect(errorOf({ provisioner: "on" })).to.equal("provisioner: expected a map, got string");
    expect(errorOf({ monitoring: { enabeld: true } })).to.match(/^monitoring: unknown key "enabeld"/);
    expect(errorOf({ domian: "example.org" })).to.match(/^unknown key "domian"/);
  });

  it("HPA bounds: maxReplicas at least minReplicas", () => {
    expect(errorOf({ autoscaling: { frontend: { minReplicas: 3, maxReplicas: 2 } } })).to.match(/^autoscaling\.frontend\.maxReplicas: must be at least minReplicas/);
    expect(errorOf({ autoscaling: { enabled: true, backend: { minReplicas: 2, maxReplicas: 2 } } })).to.equal(undefined);
  });

  it("supabase.url is empty or an http(s) URL (the provisioner refuses to boot otherwise)", () => {
    expect(errorOf({ supabase: { url: "xyz.supabase.co" } })).to.match(/^supabase\.url: must be the project's http\(s\) URL, e\.g\. https:\/\/xyz\.supabase\.co, or empty/);
    expect(errorOf({ supabase: { url: "ftp://xyz.supabase.co" } })).to.match(/^supabase\.url:/);
    expect(errorOf({ supabase: { url: "https://xyz.supabase.co" } })).to.equal(undefined);
  });

  it("tenant image pull policies are Kubernetes pull policies or empty", () => {
    expect(errorOf({ provisioner: { instanceMindroomImagePullPolicy: "always" } })).to.match(/^provisioner\.instanceMindroomImagePullPolicy: must be Always, IfNotPresent, Never or empty/);
    expect(errorOf({ provisioner: { instanceSynapseImagePullPolicy: "Sometimes" } })).to.match(/^provisioner\.instanceSynapseImagePullPolicy:/);
    expect(errorOf({ provisioner: { instanceMindroomImagePullPolicy: "IfNotPresent", instanceSynapseImagePullPolicy: "" } })).to.equal(undefined);
  });

  it("provisioner.extraEnv cannot carry a secret setting", () => {
    const on = (extraEnv: Record<string, string>) => ({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", extraEnv } });
    expect(errorOf(on({ PULUMI_CONFIG_PASSPHRASE: "x" }))).to.match(/^provisioner\.extraEnv\.PULUMI_CONFIG_PASSPHRASE: secrets reach the provisioner as mounted files only/);
    expect(errorOf(on({ SUPABASE_SERVICE_KEY_FILE: "/tmp/x" }))).to.match(/^provisioner\.extraEnv\.SUPABASE_SERVICE_KEY_FILE:/);
    expect(errorOf(on({ PULUMI_PREVIOUS_CONFIG_PASSPHRASE: "x" }))).to.match(/^provisioner\.extraEnv\.PULUMI_PREVIOUS_CONFIG_PASSPHRASE: secrets reach the provisioner as mounted files only/);
    expect(errorOf(on({ PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE: "/tmp/x" }))).to.match(/^provisioner\.extraEnv\.PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE:/);
    expect(errorOf(on({ PROVISIONER_CONCURRENCY: "1" }))).to.equal(undefined);
  });

  it("type errors name the value", () => {
    expect(errorOf({ replicas: "two" })).to.match(/^replicas: must be a whole number/);
    expect(errorOf({ imagePullPolicy: "Sometimes" })).to.match(/^imagePullPolicy: must be Always, IfNotPresent or Never/);
    expect(errorOf({ autoscaling: { backend: { maxReplicas: 0 } } })).to.match(/^autoscaling\.backend\.maxReplicas: must be at least 1/);
    expect(errorOf({ supabase: { serviceKey: 42 } })).to.equal(
      "supabase.serviceKey: must be a string (quote it) or a Pulumi Output<string>; in the root stack set its secret config key (pulumi config set --secret <key>), or pass config.requireSecret(...)",
    );
    expect(errorOf({ provisioner: { storage: { size: "ten" } } })).to.match(/^provisioner\.storage\.size: must be a Kubernetes quantity/);
  });

  it("empty YAML values (null) mean \"\" as with Helm's default", () => {
    expect(errorOf({ supabase: { url: null, anonKey: null, serviceKey: null } })).to.equal(undefined);
  });

  it("the constructor validates hand-built args before anything registers", async () => {
    const args = parsePlatformValues({});
    const bad = { ...args, provisioner: { ...args.provisioner, trustedUpstreamAuth: { ...args.provisioner.trustedUpstreamAuth, enabled: "true" } } };
    let thrown: unknown;
    const regs = await recordProgram(() => {
      try {
        new Platform("platform", bad);
      } catch (err) {
        thrown = err;
      }
    });
    expect((thrown as Error).message).to.match(/userIdHeader/);
    expect(regs).to.deep.equal([]);
  });
});
