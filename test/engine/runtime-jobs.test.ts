/**
 * Agent Vault's Jobs through the real CLI, engine and kubernetes provider (the runtime project,
 * values from test/fixtures/runtime/egress-vault-values.yaml): how the component maps Helm's Job and
 * hook semantics (docs/runtime.md, "Jobs and ordering"). A second `up` with the same values changes
 * nothing; a changed grant replaces only the grants Job (its replacement trigger; its ConfigMap is
 * updated in place); a changed bootstrap setting replaces only the bootstrap Job. Replaced means a
 * new object (new uid) under the same name, the old one deleted first. Pods never run here, so the
 * stack sets `providerAwait: false` (docs/engine.md).
 */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { apiRequest, type ApiTarget } from "./support/api";
import { sharedCluster } from "./support/cluster";
import { cliProject, ROOT, type CliProject } from "./support/pulumi-cli";

const NS = "engine-runtime-jobs";
const FIXTURE = join(ROOT, "test/fixtures/runtime/egress-vault-values.yaml");
const AV = "values.workers.kubernetes.agentVault";

describe("engine: runtime project, Agent Vault Jobs replaced on changed inputs", () => {
  let project: CliProject;
  let target: ApiTarget;

  const uid = async (kind: string, name: string): Promise<string> => {
    const path = kind === "Job" ? `/apis/batch/v1/namespaces/${NS}/jobs/${name}` : `/api/v1/namespaces/${NS}/configmaps/${name}`;
    const res = await apiRequest(target, "GET", path);
    expect(res.status, `${kind} ${name}`).to.equal(200);
    return res.body.metadata.uid as string;
  };
  const uids = async () => ({
    bootstrap: await uid("Job", "agent-vault-bootstrap"),
    grants: await uid("Job", "agent-vault-access-grants"),
    grantsConfig: await uid("ConfigMap", "agent-vault-access-grants"),
  });

  before(async () => {
    const cluster = await sharedCluster();
    target = { server: cluster.server, token: cluster.token, ca: cluster.ca };
    await apiRequest(target, "POST", "/api/v1/namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    project = cliProject({
      files: { "Pulumi.yaml": "stacks/runtime/Pulumi.yaml" },
      links: { "index.ts": "stacks/runtime/index.ts", ...Object.fromEntries(["node_modules", "package.json", "tsconfig.json"].map((l) => [l, l])) },
      stack: "jobs",
      stackConfig: {
        "mindroom-runtime:kubeconfig": cluster.kubeconfigPath,
        "mindroom-runtime:providerAwait": false,
        "mindroom-runtime:namespace": NS,
        "mindroom-runtime:values": parse(readFileSync(FIXTURE, "utf8")),
      },
    });
    await project.ok(["stack", "init", "jobs"]);
  });

  after(async () => {
    if (project) await project.run(["destroy", "--yes", "--skip-preview"]);
    project?.remove();
    if (target) await apiRequest(target, "DELETE", `/api/v1/namespaces/${NS}`);
  });

  it("up creates both Jobs; an unchanged up changes nothing; a grant change replaces the grants Job only; a bootstrap change the bootstrap Job only", async () => {
    await project.ok(["up", "--yes", "--skip-preview"]);
    const first = await uids();

    const again = await project.ok(["preview", "--expect-no-changes"]);
    expect(again.code).to.equal(0);

    await project.ok(["config", "set", "--path", `${AV}.accessGrants.grants[0].agent`, "other-agent"]);
    const grantsUp = await project.ok(["up", "--yes", "--skip-preview"]);
    expect(grantsUp.stdout).to.match(/1 replaced/);
    const second = await uids();
    expect(second.grants, "grants Job replaced").to.not.equal(first.grants);
    expect(second.bootstrap, "bootstrap Job kept").to.equal(first.bootstrap);
    expect(second.grantsConfig, "grants ConfigMap updated in place").to.equal(first.grantsConfig);
    const cm = await apiRequest(target, "GET", `/api/v1/namespaces/${NS}/configmaps/agent-vault-access-grants`);
    expect(cm.body.data["access-grants.yaml"]).to.contain('agent: "other-agent"');

    await project.ok(["config", "set", "--path", `${AV}.bootstrap.allowedDomains`, "example.org"]);
    const bootstrapUp = await project.ok(["up", "--yes", "--skip-preview"]);
    expect(bootstrapUp.stdout).to.match(/1 replaced/);
    const third = await uids();
    expect(third.bootstrap, "bootstrap Job replaced").to.not.equal(second.bootstrap);
    expect(third.grants, "grants Job kept").to.equal(second.grants);
    const job = await apiRequest(target, "GET", `/apis/batch/v1/namespaces/${NS}/jobs/agent-vault-bootstrap`);
    expect(job.body.spec.template.spec.initContainers[0].env).to.deep.include({ name: "AGENT_VAULT_ALLOWED_DOMAINS", value: "example.org" });
  });
});
