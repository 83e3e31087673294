import { expect } from "chai";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { validateKubeObjects } from "../../support/kube-schema";
import type { KubeObject } from "../../../infra/render/manifests";

const ROOT = join(__dirname, "../../..");
const fixture = (name: string) => join(ROOT, "test/fixtures/instance", name);

/** `npx tsx infra/render/cli.ts instance …`, exactly as `npm run --silent render -- instance …` runs it. */
function render(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile("npx", ["tsx", "infra/render/cli.ts", "instance", ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const docs = (stdout: string) => parseAllDocuments(stdout, { version: "1.1" }).map((d) => d.toJS() as KubeObject & Record<string, any>); // eslint-disable-line @typescript-eslint/no-explicit-any

describe("render instance (CLI)", function () {
  this.timeout(60_000);

  it("prints a schema-valid YAML stream of the 11 objects with secrets REDACTED by default", async () => {
    const out = await render(["-f", fixture("tenant.yaml")]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stderr).to.equal("");
    const objects = docs(out.stdout);
    expect(objects).to.have.length(11);
    validateKubeObjects(objects);
    const secret = objects.find((o) => o.kind === "Secret")!;
    expect(Object.values(secret.stringData as Record<string, string>)).to.satisfy((v: string[]) => v.every((x) => x === "REDACTED"));
    for (const value of ["sk-fixture-openai", "fixture-sandbox-token", "fixture-credentials-key", "fixture-registration-secret"]) {
      expect(out.stdout).to.not.contain(value);
    }
    expect(objects.filter((o) => o.kind === "Deployment").map((o) => o.metadata?.name)).to.deep.equal(["mindroom-42", "synapse-42"]);
    // YAML 1.1 readers must see strings: the customer label is "42", not the number 42.
    expect(objects.find((o) => o.kind === "Service")!.metadata!).to.have.nested.property("labels.customer", "42");
  });

  it("--show-secrets prints the secret values", async () => {
    const out = await render(["-f", fixture("tenant.yaml"), "--show-secrets"]);
    expect(out.code, out.stderr).to.equal(0);
    const secret = docs(out.stdout).find((o) => o.kind === "Secret")!;
    expect(secret.stringData).to.include({ openai_key: "sk-fixture-openai", sandbox_proxy_token: "fixture-sandbox-token", matrix_registration_shared_secret: "fixture-registration-secret" });
  });

  it("two -f files merge as helm -f does (later file wins, maps merge)", async () => {
    const out = await render(["-f", fixture("tenant.yaml"), "-f", fixture("pro.yaml")]);
    expect(out.code, out.stderr).to.equal(0);
    const objects = docs(out.stdout);
    const pvcs = objects.filter((o) => o.kind === "PersistentVolumeClaim");
    expect(pvcs.map((p) => p.metadata?.name)).to.deep.equal(["mindroom-storage-42", "synapse-storage-42"]);
    for (const p of pvcs) expect(p.spec.resources.requests.storage).to.equal("25Gi");
    const mindroom = objects.find((o) => o.kind === "Deployment" && o.metadata?.name === "mindroom-42")!;
    expect(mindroom.spec.template.spec.containers[0].resources.limits).to.deep.equal({ memory: "4Gi", cpu: "2000m" });
  });

  it("invalid values: exit 1, one line on stderr naming the value, nothing on stdout", async () => {
    const out = await render(["-f", fixture("invalid-oidc.yaml")]);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.equal("");
    expect(out.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(out.stderr).to.match(/matrixOidc\.issuer: required when matrixOidc\.enabled is true/);
  });
});
