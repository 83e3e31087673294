import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { containsSecret, kubeObjects } from "../../infra/render/manifests";
import { recordProgram, type Registration } from "../../infra/render/record";
import { parseStackConfig, rawStackConfig, type StackConfig } from "../../stacks/config";
import { mainProgram, type MainSecrets } from "../../stacks/main/program";
import { clusterState } from "../fixtures/cluster/mocks";

const root = join(__dirname, "..", "..");

/** The `mindroom:*` keys of a stack file, as Pulumi hands them to the program. */
function stackFile(stack: string): Record<string, unknown> {
  const doc = parse(readFileSync(join(root, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, unknown> };
  return rawStackConfig(Object.fromEntries(Object.entries(doc.config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)])));
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

const minimal = { cluster: { adminCidrs: { kubeApi: ["192.0.2.10/32"] } }, clusterServices: { acmeEmail: "ops@example.com" } };

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
    ["a bad admin CIDR", { ...minimal, cluster: { adminCidrs: { kubeApi: ["office"] } } }, "mindroom:cluster.adminCidrs.kubeApi[0]: must be a CIDR such as 203.0.113.7/32 or 2001:db8::/64"],
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

  it("accepts autoscaling when metrics-server is on, and ignores secret keys in the plain map", () => {
    expect(configError({ ...minimal, platform: { autoscaling: { enabled: true } }, supabaseServiceKey: "x" })).to.equal("");
  });
});

describe("root program (mock runtime)", () => {
  it("hetzner mode builds the cluster, hcloud-volumes, mindroom-instances, cluster services and the platform", async () => {
    const regs = await run(parseStackConfig(stackFile("staging")));
    const t = types(regs);
    for (const type of ["mindroom:cluster:K3sCluster", "mindroom:hetzner:HcloudVolumes", "mindroom:cluster-services:ClusterServices", "pulumi:providers:kubernetes"]) expect(t, type).to.include(type);
    expect([...t].some((x) => x.startsWith("mindroom:platform:"))).to.equal(true);
    const ns = kubeObjects(regs).filter((o) => o.kind === "Namespace").map((o) => o.metadata?.name);
    expect(ns).to.include.members(["mindroom-instances", "mindroom-staging", "ingress-nginx", "cert-manager"]);
    // Every Kubernetes object goes through the cluster's provider, never the ambient kubeconfig.
    for (const r of regs.filter((x) => x.custom && x.type.startsWith("kubernetes:"))) expect(r.provider, r.name).to.match(/pulumi:providers:kubernetes::k8s::/);
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(containsSecret(provider.inputs.kubeconfig)).to.equal(true);
  });

  it("hands platform secrets from encrypted config to the platform only as secrets", async () => {
    const regs = await run(parseStackConfig(stackFile("staging")));
    const platformSecret = regs.find((r) => r.type === "kubernetes:core/v1:Secret" && (r.inputs.metadata as { name: string }).name === "platform-secrets")!;
    expect(containsSecret(platformSecret.inputs.stringData ?? platformSecret.inputs.data)).to.equal(true);
    expect(JSON.stringify(kubeObjects(regs, false))).not.to.contain("sb-service-key");
    expect(JSON.stringify(kubeObjects(regs, true))).to.contain("sb-service-key");
  });

  it("exports the kubeconfig as a secret and the capacity figures", async () => {
    let outputs: Record<string, unknown> = {};
    await recordProgram(() => (outputs = mainProgram(parseStackConfig(stackFile("staging")), secrets())), { state: clusterState });
    expect(await pulumi.isSecret(outputs.kubeconfig as pulumi.Output<string>)).to.equal(true);
    const capacity = outputs.capacity as { nodes: { type: string; maxSmall: { tenants: number } }[]; fits: boolean };
    expect(capacity.nodes[0].type).to.equal("cpx31");
    expect(capacity.fits).to.equal(true);
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

  it("hetzner mode without an hcloud token fails with the command that fixes it", async () => {
    let error: Error | undefined;
    await recordProgram(() => {
      try {
        mainProgram(parseStackConfig(stackFile("staging")), { platform: [] });
      } catch (err) {
        error = err as Error;
      }
    });
    expect(error?.message).to.equal("hcloud:token: not set; run `pulumi config set --secret hcloud:token <read/write API token>`");
  });
});
