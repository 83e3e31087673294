/**
 * The two CLI-run projects through the real Pulumi CLI, our Node.js language host (tsx through
 * `nodeargs`) and the real kubernetes provider, against the test API server:
 * - the root project `mindroom` in `local` mode, from the repo's Pulumi.local.yaml with the
 *   add-ons whose charts need a download switched off: preview, up, a second preview with no
 *   changes, the generated tenant-stacks passphrase kept by a second up, this stack's own passphrase
 *   refused as the tenant stacks', a destroy refused by the protected mindroom-instances (by its
 *   preview; without one, after the rest), then unprotect and destroy, which leaves that Namespace;
 * - the runtime project `mindroom-runtime` from its example stack file: up, then destroy.
 * Pods never run here (no kubelet), so both stacks set `providerAwait: false` (docs/engine.md).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { apiRequest, type ApiTarget } from "./support/api";
import { sharedCluster, type Cluster } from "./support/cluster";
import { cliProject, ROOT, type CliProject } from "./support/pulumi-cli";

/** The passphrase the CLI runs these stacks with (support/pulumi-cli.ts). */
const ROOT_PASSPHRASE = "engine-test-passphrase";

const stackFile = (path: string) => (parse(readFileSync(join(ROOT, path), "utf8")) as { config: Record<string, unknown> }).config;

async function names(target: ApiTarget, path: string): Promise<string[]> {
  const res = await apiRequest(target, "GET", path);
  return ((res.body?.items ?? []) as { metadata: { name: string } }[]).map((i) => i.metadata.name).sort();
}

async function waitGone(target: ApiTarget, path: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await apiRequest(target, "GET", path)).status !== 404) {
    if (Date.now() > deadline) throw new Error(`${path} still exists ${timeoutMs / 1000} s after destroy`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe("engine: root project (local mode) through the CLI and the Node.js language host", () => {
  let cluster: Cluster;
  let project: CliProject;
  let target: ApiTarget;

  before(async () => {
    cluster = await sharedCluster();
    target = { server: cluster.server, token: cluster.token, ca: cluster.ca };
    const config = stackFile("Pulumi.local.yaml");
    delete config["mindroom:local"];
    config["mindroom:local"] = { kubeconfig: cluster.kubeconfigPath };
    const services = config["mindroom:clusterServices"] as Record<string, unknown>;
    services.ingressNginx = { enabled: false };
    config["mindroom:providerAwait"] = false;
    project = cliProject({
      files: { "Pulumi.yaml": "Pulumi.yaml" },
      links: Object.fromEntries(["stacks", "components", "infra", "node_modules", "package.json", "tsconfig.json"].map((l) => [l, l])),
      stack: "local",
      stackConfig: config,
    });
    await project.ok(["stack", "init", "local"]);
    // Secrets go in on stdin, never on argv.
    // No tenantStacksPassphrase: the platform generates the tenant stacks' own one (docs/rekey.md).
    await project.ok(["config", "set", "--secret", "provisionerApiKey"], "engine-test-provisioner-key");
  });

  after(async () => {
    project?.remove();
  });

  it("previews, applies, previews no changes, and destroys", async () => {
    const preview = await project.ok(["preview", "--diff"]);
    expect(preview.stdout).to.match(/kubernetes:core\/v1:Namespace/);
    expect(preview.stdout + preview.stderr).to.not.match(/Undefined value/);

    const up = await project.ok(["up", "--yes", "--skip-preview"]);
    expect(up.stdout).to.match(/Resources:\s+\+ \d+ created/);
    expect(await names(target, "/api/v1/namespaces")).to.include.members(["mindroom-instances", "mindroom-local", "ingress-nginx"]);
    expect(await names(target, "/apis/apps/v1/namespaces/mindroom-local/deployments")).to.include.members(["platform-backend", "platform-frontend"]);
    // The API server accepts the platform's NetworkPolicies (it validates them; no CNI here enforces them).
    expect(await names(target, "/apis/networking.k8s.io/v1/namespaces/mindroom-local/networkpolicies")).to.deep.equal([
      "mindroom-provisioner",
      "platform-allow-acme-http01-solver",
      "platform-allow-cluster-dns",
      "platform-backend",
      "platform-default-deny",
      "platform-frontend",
    ]);
    const outputs = JSON.parse((await project.ok(["stack", "output", "--json"])).stdout) as Record<string, unknown>;
    expect(outputs.instancesNamespace).to.equal("mindroom-instances");
    expect(JSON.stringify(outputs)).to.not.contain("engine-test-provisioner-key");

    await project.ok(["preview", "--expect-no-changes"]);

    // The tenant stacks' passphrase was generated, is not this stack's, and a later up keeps it (the Secret's state).
    const tenantPassphrase = async () => {
      const res = await apiRequest(target, "GET", "/api/v1/namespaces/mindroom-local/secrets/mindroom-provisioner-secrets");
      return Buffer.from(String(res.body?.data?.pulumi_config_passphrase ?? ""), "base64").toString("utf8");
    };
    const generated = await tenantPassphrase();
    expect(generated).to.match(/^[A-Za-z0-9]{48}$/);
    expect(generated).to.not.equal(ROOT_PASSPHRASE);
    await project.ok(["up", "--yes", "--skip-preview"]);
    expect(await tenantPassphrase(), "a second up draws a new value but keeps the stored one").to.equal(generated);
    // This stack's own passphrase as the tenant stacks' is refused before anything registers.
    await project.ok(["config", "set", "--secret", "tenantStacksPassphrase"], ROOT_PASSPHRASE);
    const refused = await project.run(["preview"]);
    expect(refused.code).to.not.equal(0);
    expect(refused.stdout + refused.stderr).to.contain("mindroom:tenantStacksPassphrase: equals this stack's own passphrase");
    await project.ok(["config", "rm", "tenantStacksPassphrase"]);

    // mindroom-instances is protected: a destroy is refused by its preview, before it deletes anything.
    const refusedDestroy = await project.run(["destroy", "--yes"]);
    expect(refusedDestroy.code).to.not.equal(0);
    expect(refusedDestroy.stdout + refusedDestroy.stderr).to.contain('"urn:pulumi:local::mindroom::kubernetes:core/v1:Namespace::mindroom-instances" cannot be deleted');
    expect(await names(target, "/api/v1/namespaces")).to.include.members(["mindroom-instances", "mindroom-local", "ingress-nginx"]);
    expect(await names(target, "/apis/apps/v1/namespaces/mindroom-local/deployments")).to.include.members(["platform-backend", "platform-frontend"]);
    // Without the preview the engine deletes the rest (platform, add-ons) and still refuses mindroom-instances.
    const unpreviewed = await project.run(["destroy", "--yes", "--skip-preview"]);
    expect(unpreviewed.code).to.not.equal(0);
    expect(unpreviewed.stdout + unpreviewed.stderr).to.contain("cannot be deleted");
    await waitGone(target, "/api/v1/namespaces/mindroom-local");
    expect(await names(target, "/api/v1/namespaces")).to.include("mindroom-instances");
    // Deleting it on purpose (docs/cluster.md, "Deleting mindroom-instances"): unprotect, destroy;
    // it leaves the state and stays in the cluster (retainOnDelete) until deleted by hand.
    await project.ok(["state", "unprotect", "urn:pulumi:local::mindroom::kubernetes:core/v1:Namespace::mindroom-instances", "--yes"]);
    await project.ok(["destroy", "--yes", "--skip-preview"]);
    const kept = await apiRequest(target, "GET", "/api/v1/namespaces/mindroom-instances");
    expect(kept.status).to.equal(200);
    expect(kept.body?.metadata?.deletionTimestamp, "not being deleted").to.equal(undefined);
    await apiRequest(target, "DELETE", "/api/v1/namespaces/mindroom-instances");
    await waitGone(target, "/api/v1/namespaces/mindroom-instances");
  });
});

describe("engine: runtime project through the CLI", () => {
  let cluster: Cluster;
  let project: CliProject;
  let target: ApiTarget;

  before(async () => {
    cluster = await sharedCluster();
    target = { server: cluster.server, token: cluster.token, ca: cluster.ca };
    // The runtime chart installs into an existing namespace, as `helm install -n mindroom` did.
    await apiRequest(target, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: "mindroom" } });
    const config = stackFile("stacks/runtime/Pulumi.example.yaml");
    config["mindroom-runtime:kubeconfig"] = cluster.kubeconfigPath;
    config["mindroom-runtime:providerAwait"] = false;
    project = cliProject({
      files: { "Pulumi.yaml": "stacks/runtime/Pulumi.yaml" },
      links: { "index.ts": "stacks/runtime/index.ts", ...Object.fromEntries(["node_modules", "package.json", "tsconfig.json"].map((l) => [l, l])) },
      stack: "engine",
      stackConfig: config,
    });
    await project.ok(["stack", "init", "engine"]);
  });

  after(async () => {
    project?.remove();
  });

  it("applies the example stack and destroys it", async () => {
    const up = await project.ok(["up", "--yes"]);
    expect(up.stdout).to.match(/Resources:\s+\+ \d+ created/);
    expect(await names(target, "/apis/apps/v1/namespaces/mindroom/deployments")).to.include("mindroom-runtime");
    await project.ok(["destroy", "--yes", "--skip-preview"]);
    expect(await names(target, "/apis/apps/v1/namespaces/mindroom/deployments")).to.not.include("mindroom-runtime");
  });
});
