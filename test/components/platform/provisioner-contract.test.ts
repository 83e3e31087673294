/**
 * The provisioner workload against the real service: the rendered pod's env, files and ports are fed
 * to the service's own `loadConfig` (provisioner/config.ts) and host check, so a renamed variable, a
 * wrong file key or a port mismatch on either side fails here rather than in a crash-looping pod.
 */
import { expect } from "chai";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type ProvisionerConfig } from "../../../provisioner/config";
import { trustedHosts } from "../../../provisioner/http/middleware";
import { openApiDocument } from "../../../provisioner/http/openapi";
import { renderPlatform, type Loose, type Rendered } from "./render-platform";

const POD_IP = "10.42.0.7";

/**
 * Boots the service's configuration from a rendered platform: env values as the kubelet would set
 * them (pod IP from the downward API), and each projected secret file written where the env points.
 */
function bootConfig(r: Rendered, dir: string): ProvisionerConfig {
  const pod = r.get("Deployment", "mindroom-provisioner").spec.template.spec;
  const container = pod.containers[0];
  const mount = container.volumeMounts.find((m: Loose) => m.name === "secrets").mountPath as string;
  for (const source of pod.volumes.find((v: Loose) => v.name === "secrets").projected.sources) {
    const data = r.get("Secret", source.secret.name).stringData;
    for (const item of source.secret.items) writeFileSync(join(dir, item.path), String(data[item.key]));
  }
  const env: Record<string, string> = {};
  for (const e of container.env as Loose[]) {
    if (e.valueFrom) {
      expect(e.valueFrom, e.name).to.deep.equal({ fieldRef: { fieldPath: "status.podIP" } });
      env[e.name] = POD_IP;
    } else {
      env[e.name] = e.name.endsWith("_FILE") ? String(e.value).replace(mount, dir) : e.value;
    }
  }
  return loadConfig(env);
}

const SECRETS = {
  supabase: { url: "https://xyz.supabase.co", anonKey: "anon-public", serviceKey: "svc-key" },
  provisioner: {
    enabled: true,
    apiKey: "api-key",
    instanceCredentialsEncryptionSecret: "root-secret",
    pulumiConfigPassphrase: "passphrase",
    instanceStorageClassName: "hcloud-volumes",
    instanceImagePullSecretNames: ["regcred", "mirror"],
    instanceMindroomImage: "ghcr.io/mindroom-ai/mindroom:v9",
    trustedUpstreamAuth: {
      enabled: "true", userIdHeader: "X-User", emailHeader: "X-Email", emailToMatrixUserIdTemplate: "@{localpart}:example.org",
      authUrl: "https://auth.example.org/oauth2/auth", authSignin: "https://auth.example.org/oauth2/start", acknowledgeUnverifiedHeaders: "i-understand-anyone-can-set-these-headers",
    },
  },
  matrixOidc: { enabled: "true", clientSecret: "oidc-secret", privateKey: "pem" },
  apiKeys: { openrouterProvisioning: "or-mgmt" },
};

describe("provisioner workload ↔ provisioner/config.ts", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "platform-contract-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("every secret reaches the service through its *_FILE variable", async () => {
    const config = bootConfig(await renderPlatform(SECRETS, true), dir);
    expect(config).to.include({
      apiKey: "api-key",
      credentialsEncryptionSecret: "root-secret",
      supabaseServiceKey: "svc-key",
      matrixOidcClientSecret: "oidc-secret",
      openrouterProvisioningApiKey: "or-mgmt",
      pulumiConfigPassphrase: "passphrase",
    });
  });

  it("tenant settings, Supabase and environment arrive under the names the service reads", async () => {
    const config = bootConfig(await renderPlatform({ ...SECRETS, environment: "production", domain: "example.org" }, true), dir);
    expect(config).to.include({
      platformDomain: "example.org",
      baseDomain: "example.org",
      storageClassName: "hcloud-volumes",
      imagePullSecretNames: "regcred,mirror",
      mindroomImage: "ghcr.io/mindroom-ai/mindroom:v9",
      matrixOidcEnabled: "true",
      matrixOidcIssuer: "https://api.example.org/matrix-oidc",
      matrixOidcClientId: "mindroom-synapse",
      supabaseUrl: "https://xyz.supabase.co",
      supabaseAnonKey: "anon-public",
      environment: "production",
      mindroomEnvironment: "production",
      podIp: POD_IP,
    });
    expect(config.trustedUpstream).to.include({
      enabled: "true",
      userIdHeader: "X-User",
      emailHeader: "X-Email",
      emailToMatrixUserIdTemplate: "@{localpart}:example.org",
      requireJwt: "false",
      jwtEmailClaim: "email",
      // Project settings: provisioner env only (not the upstream ConfigMap), forwarded to every tenant.
      authUrl: "https://auth.example.org/oauth2/auth",
      authSignin: "https://auth.example.org/oauth2/start",
      acknowledgeUnverifiedHeaders: "i-understand-anyone-can-set-these-headers",
    });
  });

  it("port, data directory and state backend match the container, its volume and the PVC", async () => {
    const r = await renderPlatform(SECRETS, true);
    const config = bootConfig(r, dir);
    const pod = r.get("Deployment", "mindroom-provisioner").spec.template.spec;
    const c = pod.containers[0];
    expect(config.port).to.equal(c.ports.find((p: Loose) => p.name === "http").containerPort);
    const dataMount = c.volumeMounts.find((m: Loose) => m.name === "data").mountPath;
    expect(config.dataDir).to.equal(dataMount);
    expect(config.pulumiBackendUrl).to.equal(`file://${dataMount}/state`);
    expect(config.pulumiHome.startsWith(`${dataMount}/`)).to.equal(true);
    expect(config.workDir.startsWith(`${dataMount}/`)).to.equal(true);
    expect(pod.volumes.find((v: Loose) => v.name === "data").persistentVolumeClaim.claimName).to.equal("mindroom-provisioner-data");
  });

  it("during a move the previous tenant-stacks passphrase reaches the service as PULUMI_PREVIOUS_CONFIG_PASSPHRASE_FILE (docs/rekey.md); a generated passphrase boots it too", async () => {
    const moving = bootConfig(await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "tenant-new", previousPulumiConfigPassphrase: "tenant-old" } }, true), dir);
    expect(moving).to.include({ pulumiConfigPassphrase: "tenant-new", pulumiPreviousConfigPassphrase: "tenant-old" });
    const generated = bootConfig(await renderPlatform({ provisioner: { enabled: true } }, true), dir);
    expect(generated.pulumiConfigPassphrase).to.match(/^[A-Za-z0-9]{48}$/);
    expect(generated.pulumiPreviousConfigPassphrase).to.equal("");
  });

  it("with supabase.url empty the service still boots, with the mirror off", async () => {
    const config = bootConfig(await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } }, true), dir);
    expect(config.supabaseUrl).to.equal("");
    expect(config.apiKey).to.equal("");
  });

  it("a remote backend URL reaches the service verbatim", async () => {
    const config = bootConfig(await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "p", backendUrl: "s3://state/mindroom" } }, true), dir);
    expect(config.pulumiBackendUrl).to.equal("s3://state/mindroom");
  });

  it("probes, the Ingress and Prometheus reach routes the service serves, with Host headers it trusts", async () => {
    const r = await renderPlatform({ ...SECRETS, monitoring: { enabled: true } }, true);
    const config = bootConfig(r, dir);
    const trusted = trustedHosts({ platformDomain: config.platformDomain, environment: config.mindroomEnvironment, podIp: config.podIp });
    const served = Object.keys((openApiDocument() as { paths: Record<string, unknown> }).paths);
    const c = r.get("Deployment", "mindroom-provisioner").spec.template.spec.containers[0];
    for (const probe of [c.startupProbe, c.livenessProbe, c.readinessProbe]) expect(served).to.include(probe.httpGet.path);
    expect(served).to.include(r.get("ServiceMonitor", "mindroom-provisioner").spec.endpoints[0].path);
    expect(served.some((p) => p.startsWith("/system/"))).to.equal(true);
    // Kubelet probes and Prometheus scrapes send the pod IP; in-cluster callers the Service name; the Ingress api.{domain}.
    for (const host of [`${POD_IP}:8080`, "mindroom-provisioner.mindroom-staging.svc:8080", "mindroom-provisioner:8080", "api.mindroom.chat"]) {
      expect(trusted(host), host).to.equal(true);
    }
  });
});
