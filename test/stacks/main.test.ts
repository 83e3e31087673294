import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { containsSecret, kubeObjects } from "../../infra/render/manifests";
import { recordProgram, type Registration } from "../../infra/render/record";
import { parseStackConfig, rawStackConfig, type StackConfig } from "../../stacks/config";
import { mainProgram, type MainSecrets } from "../../stacks/main/program";
import { placeholderProblems } from "../../stacks/main/placeholders";
import { readStackSecrets, type ConfigSource } from "../../stacks/main/secrets";
import { clusterState } from "../fixtures/cluster/mocks";

const root = join(__dirname, "..", "..");
/** Stands in for the real checksum of install.sh (any 64 hex digits but the stack files' zeros). */
const INSTALLER_SHA256 = "ab".repeat(32);

/** The `mindroom:*` keys of a stack file, as Pulumi hands them to the program. */
function stackFile(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return rawStackConfig(Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));
}

/** A stack file as an operator leaves it after step 5 of docs/cluster.md: placeholders replaced. */
function filled(stack: string): Record<string, unknown> {
  const raw = structuredClone(stackFile(stack)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
  if (raw.cluster) raw.cluster.adminCidrs.kubeApi = ["5.9.10.11/32"];
  if (raw.cluster) raw.cluster.k3sInstallerSha256 = INSTALLER_SHA256;
  if (raw.platform?.supabase) raw.platform.supabase.url = "https://abcdefgh.supabase.co";
  return raw;
}

const secrets = (): MainSecrets => ({
  hcloudToken: pulumi.secret("hc-token"),
  platform: [
    { path: ["supabase", "serviceKey"], value: pulumi.secret("sb-service-key") },
    { path: ["provisioner", "pulumiConfigPassphrase"], value: pulumi.secret("passphrase") },
  ],
});

const run = (config: StackConfig, s: MainSecrets = secrets()) => recordProgram(() => mainProgram(config, s), { state: clusterState });
const types = (regs: Registration[]) => new Set(regs.map((r) => r.type));

function configError(raw: Record<string, unknown>): string {
  try {
    parseStackConfig(raw);
  } catch (err) {
    return (err as Error).message;
  }
  return "";
}

const minimal = { cluster: { adminCidrs: { kubeApi: ["192.0.2.10/32"] }, k3sInstallerSha256: INSTALLER_SHA256 }, clusterServices: { acmeEmail: "ops@example.com" } };

describe("root stack config", () => {
  it("staging and production stack files parse", () => {
    const staging = parseStackConfig(stackFile("staging"));
    expect(staging.mode).to.equal("hetzner");
    expect(staging.cluster!.controlPlane.serverType).to.equal("cpx31");
    const production = parseStackConfig(stackFile("production"));
    expect(production.storage.reclaimPolicy).to.equal("Retain");
    expect(production.cluster!.deleteProtection).to.equal(true);
  });

  it("production follows the deployment guide: hcloud-volumes for tenants, autoscaling off", () => {
    const p = parseStackConfig(stackFile("production")).platform as { provisioner: Record<string, unknown>; autoscaling: Record<string, unknown> };
    expect(p.provisioner.instanceStorageClassName).to.equal("hcloud-volumes");
    expect(p.autoscaling.enabled).to.equal(false);
  });

  it("stack files hold no plaintext secret values", () => {
    for (const stack of ["staging", "production", "local"]) {
      const text = readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8");
      expect(text).not.to.match(/^\s*mindroom:(supabaseServiceKey|stripeSecretKey|provisionerApiKey|pulumiConfigPassphrase)\s*:/m);
      expect(text).not.to.match(/^\s*hcloud:token\s*:/m);
      expect(text).to.contain("pulumi config set --secret");
    }
  });

  const invalid: [string, Record<string, unknown>, string | RegExp][] = [
    ["an unknown key", { ...minimal, clustr: {} }, /^mindroom:clustr: unknown config key; known keys: mode, cluster,/],
    ["a bad admin CIDR", { ...minimal, cluster: { ...minimal.cluster, adminCidrs: { kubeApi: ["office"] } } }, "mindroom:cluster.adminCidrs.kubeApi[0]: must be a CIDR such as 203.0.113.7/32 or 2001:db8::/64"],
    ["an admin CIDR wider than /16", { ...minimal, cluster: { ...minimal.cluster, adminCidrs: { kubeApi: ["0.0.0.0/1"] } } }, /^mindroom:cluster\.adminCidrs\.kubeApi\[0\]: 0\.0\.0\.0\/1 is wider than \/16 \(IPv4\), .*acknowledgeWideCidrs/],
    ["a cluster that is no map (the shared strict map's wording)", { ...minimal, cluster: "mindroom-k8s" }, "mindroom:cluster: expected a map, got string"],
    ["cluster.adminCidrs missing", { ...minimal, cluster: { k3sInstallerSha256: INSTALLER_SHA256 } }, /^mindroom:cluster\.adminCidrs: required; add it to the stack file/],
    ["hetzner mode without a cluster", { clusterServices: { acmeEmail: "ops@example.com" } }, /^mindroom:cluster: required in hetzner mode/],
    ["a bad mode", { ...minimal, mode: "aws" }, 'mindroom:mode: must be "hetzner" or "local"'],
    ["a bad reclaim policy", { ...minimal, storage: { reclaimPolicy: "Keep" } }, "mindroom:storage.reclaimPolicy: must be Delete or Retain"],
    ["a missing ACME e-mail", { cluster: minimal.cluster, clusterServices: {} }, /^mindroom:clusterServices\.acmeEmail: /],
    [
      "autoscaling without metrics-server",
      { ...minimal, clusterServices: { acmeEmail: "ops@example.com", metricsServer: { enabled: false } }, platform: { autoscaling: { enabled: "true" } } },
      "mindroom:platform.autoscaling.enabled: needs clusterServices.metricsServer.enabled: true (HPAs read metrics-server); enable it or set autoscaling.enabled to false",
    ],
    ["a plaintext secret in platform values", { ...minimal, platform: { stripe: { secretKey: "sk_live_x" } } }, "mindroom:platform.stripe.secretKey: is a secret: remove it and run `pulumi config set --secret stripeSecretKey <value>`"],
  ];
  for (const [what, raw, message] of invalid) {
    it(`rejects ${what} with one line naming the key`, () => {
      const error = configError(raw);
      if (typeof message === "string") expect(error).to.equal(message);
      else expect(error).to.match(message);
      expect(error).not.to.contain("\n");
    });
  }

  it("reports every wrong key at once, one line each naming the key and the fix", () => {
    const lines = configError({
      mode: "hetzner",
      clustr: {},
      cluster: { adminCidrs: { kubeApi: ["office", "0.0.0.0/0"] }, deleteProtection: "yes", k3sInstallerSha256: "abc" },
      storage: { reclaimPolicy: "Keep" },
      clusterServices: { acmeEmail: "ops@example.com", metricsServer: { enabled: false } },
      platform: { autoscaling: { enabled: true }, supabase: { serviceKey: "eyJhbGciOi" } },
    }).split("\n");
    expect(lines).to.deep.equal([
      lines.find((l) => l.startsWith("mindroom:cluster.k3sInstallerSha256: must be 64 hex digits (a SHA-256); set the SHA-256 of k3s's install.sh at the k3sVersion tag: curl -sfL https://raw.githubusercontent.com/k3s-io/k3s/"))!,
      "mindroom:cluster.adminCidrs.kubeApi[0]: must be a CIDR such as 203.0.113.7/32 or 2001:db8::/64",
      "mindroom:cluster.adminCidrs.kubeApi: must not contain 0.0.0.0/0 or ::/0, which opens the Kubernetes API to the whole internet (upstream's hazard); list the operators' and the CI runner's addresses, e.g. 203.0.113.7/32",
      "mindroom:cluster.deleteProtection: must be a boolean",
      "mindroom:storage.reclaimPolicy: must be Delete or Retain",
      lines.find((l) => l.startsWith("mindroom:clustr: unknown config key; known keys: mode, cluster,"))!,
    ]);
  });

  it("reports the cross-key rules together once the keys themselves are valid", () => {
    const lines = configError({
      ...minimal,
      clusterServices: { acmeEmail: "ops@example.com", metricsServer: { enabled: false } },
      platform: { autoscaling: { enabled: true }, supabase: { serviceKey: "eyJhbGciOi" }, apiKeys: { openai: "sk-x" } },
    }).split("\n");
    expect(lines).to.deep.equal([
      "mindroom:platform.autoscaling.enabled: needs clusterServices.metricsServer.enabled: true (HPAs read metrics-server); enable it or set autoscaling.enabled to false",
      "mindroom:platform.supabase.serviceKey: is a secret: remove it and run `pulumi config set --secret supabaseServiceKey <value>`",
      "mindroom:platform.apiKeys.openai: is a secret: remove it and run `pulumi config set --secret openaiApiKey <value>`",
    ]);
  });

  it("names a missing required key as required", () => {
    expect(configError({ cluster: minimal.cluster })).to.equal("mindroom:clusterServices: required; add it to the stack file (Pulumi.staging.yaml shows every key)");
  });

  it("accepts autoscaling when metrics-server is on, and ignores secret keys in the plain map", () => {
    expect(configError({ ...minimal, platform: { autoscaling: { enabled: true } }, supabaseServiceKey: "x" })).to.equal("");
  });
});

describe("root program (mock runtime)", () => {
  it("hetzner mode builds the cluster, hcloud-volumes, mindroom-instances, cluster services and the platform", async () => {
    const regs = await run(parseStackConfig(filled("staging")));
    const t = types(regs);
    for (const type of ["mindroom:cluster:K3sCluster", "mindroom:hetzner:HcloudVolumes", "mindroom:cluster-services:ClusterServices", "pulumi:providers:kubernetes"]) expect(t, type).to.include(type);
    expect([...t].some((x) => x.startsWith("mindroom:platform:"))).to.equal(true);
    const ns = kubeObjects(regs).filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name);
    expect(ns).to.include.members(["mindroom-instances", "mindroom-staging", "ingress-nginx", "cert-manager"]);
    // Tenants and the platform: Pod Security baseline enforced at the cluster's minor, restricted warned and audited.
    const labels = (name: string) => kubeObjects(regs).find((o) => o.kind === "Namespace" && o.metadata?.name === name)!.metadata!.labels;
    for (const name of ["mindroom-instances", "mindroom-staging"]) {
      expect(labels(name), name).to.deep.equal({
        "pod-security.kubernetes.io/enforce": "baseline",
        "pod-security.kubernetes.io/enforce-version": "v1.31",
        "pod-security.kubernetes.io/warn": "restricted",
        "pod-security.kubernetes.io/audit": "restricted",
      });
    }
    // Every Kubernetes object goes through the cluster's provider, never the ambient kubeconfig.
    for (const r of regs.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) expect(r.provider, r.name).to.match(/pulumi:providers:kubernetes::k8s::/);
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(containsSecret(provider.inputs.kubeconfig)).to.equal(true);
  });

  it("hands platform secrets from encrypted config to the platform only as secrets", async () => {
    const regs = await run(parseStackConfig(filled("staging")));
    const platformSecret = regs.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as { name: string }).name === "platform-secrets")!;
    expect(containsSecret(platformSecret.inputs.stringData ?? platformSecret.inputs.data)).to.equal(true);
    expect(JSON.stringify(kubeObjects(regs, false))).not.to.contain("sb-service-key");
    expect(JSON.stringify(kubeObjects(regs, true))).to.contain("sb-service-key");
  });

  it("exports the kubeconfig as a secret and the capacity figures", async () => {
    let outputs: Record<string, unknown> = {};
    await recordProgram(() => (outputs = mainProgram(parseStackConfig(filled("staging")), secrets())), { state: clusterState });
    expect(await pulumi.isSecret(outputs.kubeconfig as pulumi.Output<string>)).to.equal(true);
    const capacity = outputs.capacity as { nodes: { type: string; maxSmall: { tenants: number } }[]; fits: boolean };
    expect(capacity.nodes[0].type).to.equal("cpx31");
    expect(capacity.fits).to.equal(true);
  });

  it("exposes ingress through the Hetzner LB (PROXY protocol) once workers and the LB are on, else on host ports", async () => {
    const proxyProtocol = async (raw: Record<string, unknown>) => {
      const regs = await run(parseStackConfig(raw));
      const ingress = regs.find((r) => r.type === "kubernetes:helm.sh/v3:Release" && r.inputs.chart === "ingress-nginx")!;
      return [(ingress.inputs.values as { controller: { config: Record<string, string> } }).controller.config["use-proxy-protocol"], regs.filter((r) => r.type === "hcloud:index/loadBalancer:LoadBalancer").length];
    };
    expect(await proxyProtocol(filled("production"))).to.deep.equal(["false", 0]);
    const grown = filled("production") as { cluster: Record<string, unknown> };
    grown.cluster.agentPools = [{ name: "workers", serverType: "cx43", count: 2 }];
    grown.cluster.loadBalancer = { enabled: true };
    expect(await proxyProtocol(grown)).to.deep.equal(["true", 1]);
  });

  it("local mode creates nothing on Hetzner and targets the configured context", async () => {
    const config = parseStackConfig(stackFile("local"));
    const regs = await run(config, { platform: secrets().platform });
    expect([...types(regs)].filter((t) => t.startsWith("hcloud:") || t.startsWith("mindroom:cluster:") || t.startsWith("mindroom:hetzner:"))).to.deep.equal([]);
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.inputs.context).to.equal("kind-mindroom");
    expect(kubeObjects(regs).some((o) => o.kind === "ClusterIssuer")).to.equal(false);
    expect(kubeObjects(regs).find((o) => o.kind === "Namespace" && o.metadata?.name === "mindroom-instances")).to.not.equal(undefined);
  });

  it("mindroom-instances is protected and retained on delete in both modes (a destroy or rename of the root stack must not delete every tenant)", async () => {
    for (const config of [parseStackConfig(filled("staging")), parseStackConfig(stackFile("local"))]) {
      const opts = new Map<string, pulumi.ResourceOptions>();
      // A stack transformation sees every resource's options; it needs the root Stack resource.
      await recordProgram(() =>
        pulumi.runtime.runInPulumiStack(async () => {
          pulumi.runtime.registerStackTransformation((a) => {
            if (a.type === "kubernetes:core/v1:Namespace") opts.set(a.name, a.opts);
            return undefined;
          });
          return mainProgram(config, secrets());
        }), { state: clusterState });
      expect(opts.size, "the transformation saw the add-ons' and the platform's namespaces too").to.be.greaterThan(2);
      expect(opts.get("mindroom-instances"), config.mode).to.include({ protect: true, retainOnDelete: true });
      // Only the tenants' namespace: the platform's and the add-ons' stay deletable with their stack.
      for (const [name, o] of opts) if (name !== "mindroom-instances") expect(o.protect, name).to.not.equal(true);
    }
  });

  it("local mode exports no kubeconfig key (the engine warns on every run about an undefined output)", async () => {
    let outputs: Record<string, unknown> = {};
    await recordProgram(() => (outputs = mainProgram(parseStackConfig(stackFile("local")), { platform: secrets().platform })), { state: clusterState });
    expect(Object.keys(outputs)).to.not.include("kubeconfig");
    expect(Object.keys(outputs)).to.include("instancesNamespace");
  });

  it("providerAwait: the provider waits for platform objects by default; false marks every one skipAwait", async () => {
    const skip = (regs: Registration[]) => kubeObjects(regs).filter((o) => o.kind === "Deployment").map((o) => o.metadata?.annotations?.["pulumi.com/skipAwait"]);
    const waiting = await run(parseStackConfig(stackFile("local")), { platform: secrets().platform });
    expect(skip(waiting).length).to.be.greaterThan(1);
    expect(skip(waiting).filter((a) => a !== undefined)).to.deep.equal([]);
    const skipping = await run(parseStackConfig({ ...stackFile("local"), providerAwait: false }), { platform: secrets().platform });
    expect(new Set(skip(skipping))).to.deep.equal(new Set(["true"]));
    expect(configError({ ...stackFile("local"), providerAwait: "no" })).to.match(/providerAwait: must be true or false/);
  });

  it("local mode: kubeconfig contents reach the provider as a secret, so state holds them encrypted", async () => {
    const raw = filled("local") as { local: Record<string, string> };
    raw.local.kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: LocalT0ken}}]\n";
    const regs = await run(parseStackConfig(raw), { platform: secrets().platform });
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(containsSecret(provider.inputs.kubeconfig)).to.equal(true);
    expect((provider.inputs.kubeconfig as { value: unknown }).value).to.equal(raw.local.kubeconfig);
  });

  it("hetzner mode without an hcloud token fails with the command that fixes it", async () => {
    let error: Error | undefined;
    await recordProgram(() => {
      try {
        mainProgram(parseStackConfig(filled("staging")), { platform: [] });
      } catch (err) {
        error = err as Error;
      }
    });
    expect(error?.message).to.equal("hcloud:token: not set; run `pulumi config set --secret hcloud:token <read/write API token>`");
  });
});

describe("root stack secrets and placeholders", () => {
  const source = (secret: Record<string, string>, plain: Record<string, string> = {}): ConfigSource => ({
    get: (key) => secret[key] ?? plain[key],
    isSecret: (key) => key in secret,
  });
  const credentials = { "hcloud:token": "hc", "mindroom:provisionerApiKey": "api", "mindroom:tenantStacksPassphrase": "tenant-pass" };
  const readError = (config: StackConfig, src: ConfigSource, env: NodeJS.ProcessEnv = {}) => {
    try {
      readStackSecrets(config, src, env);
    } catch (err) {
      return (err as Error).message;
    }
    return "";
  };

  it("hands every secret key to the program as a Pulumi secret at its values path", async () => {
    const read = readStackSecrets(parseStackConfig(filled("staging")), source({ ...credentials, "mindroom:stripeSecretKey": "sk_live" }), {});
    expect(await pulumi.isSecret(read.hcloudToken!)).to.equal(true);
    const stripe = read.platform.find((p) => p.path.join(".") === "stripe.secretKey")!;
    expect(await pulumi.isSecret(stripe.value)).to.equal(true);
    expect(read.platform.map((p) => p.path.join("."))).to.have.members(["provisioner.apiKey", "provisioner.pulumiConfigPassphrase", "stripe.secretKey"]);
  });

  it("refuses a secret stored in plain text, and names every missing credential, one line each", () => {
    const lines = readError(parseStackConfig(filled("production")), source({ "mindroom:provisionerApiKey": "api" }, { "mindroom:stripeSecretKey": "sk_live" })).split("\n");
    expect(lines).to.deep.equal([
      "mindroom:stripeSecretKey: stored in plain text in the stack file; remove it (pulumi config rm stripeSecretKey) and set it encrypted: pulumi config set --secret stripeSecretKey <value>",
      "hcloud:token: not set; run `pulumi config set --secret hcloud:token <read/write API token>` (or export HCLOUD_TOKEN)",
    ]);
  });

  describe("the tenant stacks' own passphrase (docs/rekey.md)", () => {
    const config = () => parseStackConfig(filled("production"));
    const { "mindroom:tenantStacksPassphrase": _given, ...withoutTenant } = credentials;

    it("unset: not required (the platform generates it once); given: handed to the platform as the provisioner's passphrase", async () => {
      expect(readError(config(), source(withoutTenant))).to.equal("");
      expect(readStackSecrets(config(), source(withoutTenant), {}).platform.map((p) => p.path.join("."))).not.to.include("provisioner.pulumiConfigPassphrase");
      const read = readStackSecrets(config(), source({ ...credentials, "mindroom:previousTenantStacksPassphrase": "root-pass" }), {});
      const at = (path: string) => read.platform.find((p) => p.path.join(".") === path)!.value;
      expect(await pulumi.isSecret(at("provisioner.pulumiConfigPassphrase"))).to.equal(true);
      expect(await pulumi.isSecret(at("provisioner.previousPulumiConfigPassphrase"))).to.equal(true);
    });

    it("refuses this stack's own passphrase, from PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE, before anything registers", () => {
      const line = /^mindroom:tenantStacksPassphrase: equals this stack's own passphrase \(PULUMI_CONFIG_PASSPHRASE\), which would hand the internet-facing provisioner the root stacks' secrets; set another: pulumi config set --secret tenantStacksPassphrase/;
      expect(readError(config(), source(credentials), { PULUMI_CONFIG_PASSPHRASE: "tenant-pass" })).to.match(line);
      const dir = mkdtempSync(join(tmpdir(), "root-passphrase-"));
      try {
        writeFileSync(join(dir, "passphrase"), "tenant-pass\n");
        expect(readError(config(), source(credentials), { PULUMI_CONFIG_PASSPHRASE_FILE: join(dir, "passphrase") })).to.match(line);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      expect(readError(config(), source(credentials), { PULUMI_CONFIG_PASSPHRASE: "root-pass" })).to.equal("");
      // The message never echoes either passphrase.
      expect(readError(config(), source(credentials), { PULUMI_CONFIG_PASSPHRASE: "tenant-pass" })).not.to.include("tenant-pass");
    });

    it("a previous passphrase needs an explicit new one, and must differ from it; blanks around the value are refused", () => {
      expect(readError(config(), source({ ...withoutTenant, "mindroom:previousTenantStacksPassphrase": "root-pass" }))).to.match(/^mindroom:tenantStacksPassphrase: required while previousTenantStacksPassphrase is set/);
      expect(readError(config(), source({ ...credentials, "mindroom:previousTenantStacksPassphrase": "tenant-pass" }))).to.match(/^mindroom:previousTenantStacksPassphrase: equals tenantStacksPassphrase, so there is nothing to move/);
      expect(readError(config(), source({ ...credentials, "mindroom:tenantStacksPassphrase": "tenant-pass\n" }))).to.match(/^mindroom:tenantStacksPassphrase: has leading or trailing blanks or a line break/);
    });

    it("the retired pulumiConfigPassphrase is one line saying how to move (before any cloud call)", () => {
      const lines = configError({ ...filled("production"), pulumiConfigPassphrase: "v1:ciphertext" }).split("\n");
      expect(lines).to.deep.equal([
        'mindroom:pulumiConfigPassphrase: replaced by tenantStacksPassphrase: the tenant stacks get a passphrase of their own, never this stack\'s (docs/rekey.md); keep the old value for the move and drop the key: pulumi config set --secret previousTenantStacksPassphrase "$(pulumi config get pulumiConfigPassphrase)" && pulumi config set --secret tenantStacksPassphrase "$(openssl rand -hex 32)" && pulumi config rm pulumiConfigPassphrase',
      ]);
    });
  });

  it("refuses a plaintext hcloud:token once, and accepts HCLOUD_TOKEN from the environment instead", () => {
    const { "hcloud:token": _token, ...rest } = credentials;
    const config = parseStackConfig(filled("staging"));
    expect(readError(config, source(rest, { "hcloud:token": "hc" }))).to.match(/^hcloud:token: stored in plain text in the stack file; .*$/);
    expect(readError(config, source(rest), { HCLOUD_TOKEN: "from-env" })).to.equal("");
  });

  it("refuses kubeconfig contents stored in plain text without echoing them; a path, or encrypted contents, are fine", () => {
    const withKubeconfig = (kubeconfig: string) => {
      const raw = filled("local") as { local: Record<string, string> };
      raw.local.kubeconfig = kubeconfig;
      return parseStackConfig(raw);
    };
    const contents = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: LocalT0ken}}]\n";
    const message = readError(withKubeconfig(contents), source(credentials));
    expect(message).to.match(/^mindroom:local\.kubeconfig: holds kubeconfig contents \(cluster credentials\) in plain text in the stack file; .*pulumi config set --secret --path local\.kubeconfig/);
    expect(message).to.not.contain("LocalT0ken");
    expect(readError(withKubeconfig(JSON.stringify({ apiVersion: "v1", token: "LocalT0ken" })), source(credentials))).to.match(/^mindroom:local\.kubeconfig: holds kubeconfig contents/);
    expect(readError(withKubeconfig("/home/dev/.kube/kind.yaml"), source(credentials))).to.equal("");
    expect(readError(withKubeconfig(contents), source({ ...credentials, "mindroom:local": "{}" }))).to.equal("");
  });

  it("needs no provisioner credential when the provisioner is off, and no hcloud token in local mode", () => {
    const raw = filled("local") as { platform: { provisioner: { enabled: boolean } } };
    raw.platform.provisioner.enabled = false;
    expect(readError(parseStackConfig(raw), source({}))).to.equal("");
  });

  it("an update refuses the stack files' placeholders before creating anything", async () => {
    let error: Error | undefined;
    const regs = await recordProgram(() => {
      try {
        mainProgram(parseStackConfig(stackFile("staging")), secrets());
      } catch (err) {
        error = err as Error;
      }
    });
    expect(regs).to.have.length(0);
    expect(error?.message.split("\n")).to.deep.equal([
      "mindroom:cluster.adminCidrs.kubeApi[0]: 192.0.2.10/32 is a documentation placeholder; put your own address there (curl -4 ifconfig.me), e.g. <your IP>/32",
      "mindroom:cluster.k3sInstallerSha256: the zeros are a placeholder; set the SHA-256 of https://raw.githubusercontent.com/k3s-io/k3s/v1.31.13%2Bk3s1/install.sh (curl -sfL <url> | sha256sum), or every node refuses to install k3s",
      "mindroom:platform.supabase.url: https://YOUR-PROJECT.supabase.co is a placeholder; set your Supabase project's URL (Supabase dashboard → Project Settings → API)",
    ]);
    expect(placeholderProblems(parseStackConfig(filled("production")))).to.deep.equal([]);
  });

  it("production runs the provisioner with its state on hcloud-volumes and keeps tenant volumes (Retain)", async () => {
    const regs = await run(parseStackConfig(filled("production")));
    const objects = kubeObjects(regs);
    const deployment = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "mindroom-provisioner") as { spec: { template: { spec: { containers: { image: string }[] } } } } | undefined;
    expect(deployment, "provisioner Deployment").to.not.equal(undefined);
    const container = deployment!.spec.template.spec.containers[0];
    expect(container.image).to.equal("ghcr.io/mindroom-ai/mindroom-provisioner:latest");
    const platformConfig = objects.find((o) => o.kind === "ConfigMap" && o.metadata?.name === "platform-config") as { data: Record<string, string> } | undefined;
    expect(platformConfig?.data.INSTANCE_STORAGE_CLASS_NAME, "tenants' storage class").to.equal("hcloud-volumes");
    const claim = objects.find((o) => o.kind === "PersistentVolumeClaim" && o.metadata?.name === "mindroom-provisioner-data") as { spec: { storageClassName: string } } | undefined;
    expect(claim?.spec.storageClassName).to.equal("hcloud-volumes");
    const storageClass = objects.find((o) => o.kind === "StorageClass") as unknown as { reclaimPolicy: string; metadata: { annotations: Record<string, string> } };
    expect(storageClass.reclaimPolicy).to.equal("Retain");
    expect(storageClass.metadata.annotations["storageclass.kubernetes.io/is-default-class"]).to.equal("true");
  });
});

describe("stacks/main.ts as the engine runs it (own process, mock runtime)", () => {
  const credentials = { "hcloud:token": "hc", "mindroom:provisionerApiKey": "api", "mindroom:tenantStacksPassphrase": "tenant-pass" };
  function entry(env: Record<string, string>): { result: Record<string, any>; stderr: string } { // eslint-disable-line @typescript-eslint/no-explicit-any
    const r = spawnSync(process.execPath, ["--import", "tsx", join(root, "test", "fixtures", "cluster", "main-entry.ts")], {
      cwd: root,
      encoding: "utf8",
      env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    });
    const last = r.stdout.trim().split("\n").pop() ?? "";
    expect(last, `${r.stdout}${r.stderr}`).to.match(/^\{/);
    return { result: JSON.parse(last), stderr: r.stderr };
  }

  for (const stack of ["staging", "production"]) {
    it(`a preview of ${stack} needs nothing but credentials, and warns about the placeholders`, function () {
      this.timeout(60_000);
      const { result, stderr } = entry({ STACK: stack, PREVIEW: "true", SECRETS: JSON.stringify(credentials) });
      expect(result.error, result.error).to.equal(undefined);
      expect(result.types).to.include.members(["mindroom:cluster:K3sCluster", "mindroom:hetzner:HcloudVolumes", "mindroom:cluster-services:ClusterServices", "mindroom:platform:Platform"]);
      expect(result.outputs).to.include.members(["kubeconfig", "ingressIpv4", "capacity", "platformUrls"]);
      expect(stderr).to.contain("mindroom:cluster.adminCidrs.kubeApi[0]: 192.0.2.10/32 is a documentation placeholder");
    });
  }

  it("an update with placeholders, or a plaintext secret, stops with one line per key and no resource", function () {
    this.timeout(60_000);
    const up = entry({ STACK: "staging", PREVIEW: "false", SECRETS: JSON.stringify(credentials) }).result;
    expect(up).to.include({ runError: true, registered: 0 });
    // The admin CIDR, the installer checksum and the Supabase URL.
    expect(up.error.split("\n")).to.have.length(3);
    const plain = entry({ STACK: "staging", PREVIEW: "true", SECRETS: JSON.stringify({ ...credentials, "hcloud:token": undefined }), PLAIN: JSON.stringify({ "hcloud:token": "hc" }) }).result;
    expect(plain).to.include({ runError: true, registered: 0 });
    expect(plain.error).to.match(/^hcloud:token: stored in plain text in the stack file; remove it \(pulumi config rm hcloud:token\)/);
  });

  it("a tenantStacksPassphrase equal to the passphrase the CLI runs the stack with stops the program before any resource, in a preview too", function () {
    this.timeout(60_000);
    const run = entry({ STACK: "production", PREVIEW: "true", SECRETS: JSON.stringify(credentials), PULUMI_CONFIG_PASSPHRASE: "tenant-pass" }).result;
    expect(run).to.include({ runError: true, registered: 0 });
    expect(run.error).to.match(/^mindroom:tenantStacksPassphrase: equals this stack's own passphrase/);
  });
});
