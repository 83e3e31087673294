/**
 * The renderer CLI on approvedEgress and Agent Vault (test/fixtures/runtime/egress-vault-values.yaml),
 * alone and merged over features-values.yaml, which switches on the other five issue-11 features:
 * all seven at once render schema-valid objects, each feature's objects present.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateKubeObjects } from "../../support/kube-schema";
import type { KubeObject } from "../../../infra/render/manifests";

const ROOT = join(__dirname, "..", "..", "..");
const FIXTURES = "test/fixtures/runtime";

function cli(...args: string[]) {
  const run = spawnSync(process.execPath, ["--import", "tsx", "components/render-cli.ts", "runtime", ...args], { cwd: ROOT, encoding: "utf8", timeout: 60_000 });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

const OURS = [
  "ConfigMap/mindroom-runtime-egress-proxy-config",
  "ConfigMap/mindroom-runtime-egress-proxy-squid-config",
  "ServiceAccount/mindroom-runtime-egress-proxy",
  "Role/mindroom-runtime-egress-proxy",
  "RoleBinding/mindroom-runtime-egress-proxy",
  "PersistentVolumeClaim/mindroom-runtime-egress-proxy-data",
  "Deployment/mindroom-runtime-egress-proxy",
  "Service/mindroom-runtime-egress-proxy",
  "NetworkPolicy/mindroom-runtime-egress-proxy-ingress",
  "PersistentVolumeClaim/agent-vault-data",
  "Deployment/agent-vault",
  "Service/agent-vault",
  "ServiceAccount/agent-vault-bootstrap",
  "Role/agent-vault-bootstrap",
  "RoleBinding/agent-vault-bootstrap",
  "Job/agent-vault-bootstrap",
  "ConfigMap/agent-vault-access-grants",
  "Job/agent-vault-access-grants",
];

describe("render runtime (CLI): approvedEgress and Agent Vault", function () {
  this.timeout(120_000);

  for (const [title, files] of [
    ["egress-vault-values.yaml", ["egress-vault-values.yaml"]],
    ["features-values.yaml + egress-vault-values.yaml (all seven issue-11 features)", ["features-values.yaml", "egress-vault-values.yaml"]],
  ] as const) {
    it(`${title}: schema-valid objects, every approvedEgress and Agent Vault object among them`, () => {
      const run = cli(...files.flatMap((f) => ["-f", `${FIXTURES}/${f}`]));
      expect(run.stderr).to.equal("");
      expect(run.status).to.equal(0);
      const objects = parseAllDocuments(run.stdout, { version: "1.1" }).map((d) => d.toJS({ maxAliasCount: -1 }) as KubeObject);
      validateKubeObjects(objects);
      const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
      expect(names).to.include.members(OURS);
      // Helm's install order: Jobs come last.
      expect(names.slice(-2)).to.deep.equal(["Job/agent-vault-access-grants", "Job/agent-vault-bootstrap"]);
      const mindroom = (objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "mindroom-runtime") as Record<string, any>).spec.template.spec.containers[0]; // eslint-disable-line @typescript-eslint/no-explicit-any
      const env = new Map((mindroom.env as { name: string; value?: string }[]).map((e) => [e.name, e.value]));
      expect(env.get("MINDROOM_KUBERNETES_AGENT_VAULT_PROXY_URL")).to.equal("http://mindroom-runtime-egress-proxy.mindroom.svc.cluster.local:3128");
      expect(JSON.parse(env.get("MINDROOM_KUBERNETES_WORKER_ENV_JSON")!).HTTPS_PROXY).to.equal("http://mindroom-runtime-egress-proxy.mindroom.svc.cluster.local:3128");
      if (files.length === 2) {
        // The other five are there too: state PVC, content bundle init container, appservice token, a provider key.
        expect(names).to.include("PersistentVolumeClaim/mindroom-runtime-state");
        const runtime = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "mindroom-runtime") as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
        expect((runtime.spec.template.spec.initContainers as { name: string }[]).map((c) => c.name)).to.include("content-bundle-team-config");
        expect(env.has("MATRIX_APPSERVICE_TOKEN_FILE")).to.equal(true);
      }
    });
  }

  it("an invalid Agent Vault value: exit 1, one line naming it, nothing on stdout", () => {
    const dir = mkdtempSync(join(tmpdir(), "render-egress-vault-"));
    try {
      // Approved egress without its parent proxy, with the in-cluster vault as the workers' proxy: upstream's squid-first rule.
      writeFileSync(join(dir, "no-parent.yaml"), "approvedEgress:\n  parentProxy:\n    enabled: false\n");
      const run = cli("-f", `${FIXTURES}/egress-vault-values.yaml`, "-f", join(dir, "no-parent.yaml"));
      expect(run.status).to.equal(1);
      expect(run.stdout).to.equal("");
      expect(run.stderr).to.match(/^render: workers\.kubernetes\.agentVault\.proxyUrl: "http:\/\/agent-vault:14322" sends worker traffic straight to the in-cluster vault/);
      expect(run.stderr.trimEnd().split("\n")).to.have.length(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
