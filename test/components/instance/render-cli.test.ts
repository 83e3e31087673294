import { expect } from "chai";
import { execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { validateKubeObjects } from "../../support/kube-schema";
import type { KubeObject } from "../../../infra/render/manifests";
import { container, envOf } from "./helpers";

const ROOT = join(__dirname, "../../..");
const fixture = (name: string) => join(ROOT, "test/fixtures/instance", name);

/** `npm run --silent render -- …` runs exactly this (package.json). */
const RENDER = ["tools/run-ts.cjs", "components/render-cli.ts"];

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...RENDER, ...args], { cwd: ROOT }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
const render = (args: string[]) => cli(["instance", ...args]);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = KubeObject & Record<string, any>;
const docs = (stdout: string) => parseAllDocuments(stdout, { version: "1.1" }).map((d) => d.toJS() as Doc);
const find = (objects: Doc[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata?.name === name);
  if (!o) throw new Error(`no ${kind}/${name}`);
  return o;
};
const env = (d: Doc) => envOf(container(d as Parameters<typeof container>[0], "mindroom"));

describe("render instance (CLI)", function () {
  this.timeout(90_000);

  it("prints a schema-valid YAML stream of the 12 objects (the chart's 11 and synapse-secrets-{c}) with secrets REDACTED by default", async () => {
    const out = await render(["-f", fixture("tenant.yaml")]);
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stderr).to.equal("");
    const objects = docs(out.stdout);
    expect(objects).to.have.length(12);
    validateKubeObjects(objects);
    const secret = objects.find((o) => o.kind === "Secret")!;
    const keys = [
      "anthropic_key", "credentials_encryption_key", "deepseek_key", "google_key", "matrix_oidc_client_secret",
      "matrix_registration_shared_secret", "openai_key", "openrouter_key", "sandbox_proxy_token", "supabase_service_key",
    ];
    expect(secret.stringData).to.deep.equal(Object.fromEntries(keys.map((k) => [k, "REDACTED"])));
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

  it("an upstream tenant's `helm get values` file renders unchanged, with the chart's value types", async () => {
    const out = await render(["-f", fixture("upstream-helm-values.yaml"), "--show-secrets"]);
    expect(out.code, out.stderr).to.equal(0);
    const objects = docs(out.stdout);
    validateKubeObjects(objects);
    // instanceSecrets.create=false: the kubectl-applied Secret stays outside the stack; only the component's own Synapse Secret is rendered.
    expect(objects.filter((o) => o.kind === "Secret").map((o) => o.metadata?.name)).to.deep.equal(["synapse-secrets-42"]);
    expect(objects).to.have.length(11);
    const mindroom = find(objects, "Deployment", "mindroom-42");
    const synapse = find(objects, "Deployment", "synapse-42");
    for (const d of [mindroom, synapse]) {
      expect(d.spec.template.metadata.annotations["mindroom.ai/instance-secret-hash"]).to.equal("9b2c4e0f6a1d3b5c7e9f0a2b4c6d8e0f1a3b5c7d9e1f2a4b6c8d0e2f4a6b8c0d");
      expect(d.spec.template.metadata.labels.customer).to.equal("42");
    }
    expect(mindroom.spec.template.spec.volumes.find((v: Doc) => v.secret).secret.secretName).to.equal("mindroom-api-keys-42");
    expect(synapse.spec.template.spec.volumes.find((v: Doc) => v.projected).projected.sources[0].secret.name).to.equal("mindroom-api-keys-42");
    const e = env(mindroom);
    // Values the chart quotes stay strings: "None", "30", a numeric JWT audience.
    expect(e).to.include({
      ACCOUNT_ID: "None", CUSTOMER_ID: "42", MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "30",
      MINDROOM_TRUSTED_UPSTREAM_AUTH_ENABLED: "true", MINDROOM_TRUSTED_UPSTREAM_REQUIRE_JWT: "true",
      MINDROOM_TRUSTED_UPSTREAM_JWT_AUDIENCE: "1234567890", MINDROOM_TRUSTED_UPSTREAM_JWT_EMAIL_CLAIM: "email",
      SUPABASE_URL: "https://abc.supabase.co", MATRIX_SERVER_NAME: "42.staging.mindroom.chat",
    });
    const pod = mindroom.spec.template.spec;
    expect(pod.imagePullSecrets).to.deep.equal([{ name: "ghcr-pull" }]);
    expect(pod.containers.map((c: Doc) => [c.name, c.image, c.imagePullPolicy])).to.deep.equal([
      ["mindroom", "ghcr.io/mindroom-ai/mindroom:v1.2.3", "IfNotPresent"],
      ["sandbox-runner", "ghcr.io/mindroom-ai/mindroom:v1.2.3", "IfNotPresent"],
    ]);
    expect(pod.containers[1].resources).to.deep.equal({ requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" } });
    expect(synapse.spec.template.spec.containers[0]).to.include({ image: "matrixdotorg/synapse:v1.120.0", imagePullPolicy: "IfNotPresent" });
    expect(find(objects, "PersistentVolumeClaim", "synapse-storage-42").spec).to.deep.include({ storageClassName: "hcloud-volumes", resources: { requests: { storage: "25Gi" } } });
    const config = parse(find(objects, "ConfigMap", "mindroom-config-42").data["config.yaml"], { version: "1.1" });
    expect(config.authorization.global_users).to.deep.equal(["@owner:42.staging.mindroom.chat"]);
    expect(config.matrix_room_access).to.deep.include({ mode: "multi_user", reconcile_existing_rooms: true, publish_to_room_directory: false });
    const homeserver = parse(find(objects, "ConfigMap", "synapse-config-42").data["homeserver.yaml"], { version: "1.1" });
    expect(homeserver.oidc_providers[0]).to.include({ issuer: "https://api.staging.mindroom.chat/matrix-oidc", client_id: "mindroom-synapse" });
    expect(homeserver.auto_join_rooms).to.have.length(16).and.include("#lobby:42.staging.mindroom.chat");
  });

  it("redacts every secret leaf, including the Synapse macaroon/form secrets, which live in synapse-secrets-{c}, not in homeserver.yaml", async () => {
    const files = ["-f", fixture("upstream-helm-values.yaml"), "-f", fixture("upstream-secrets.yaml")];
    const [redacted, shown] = await Promise.all([render(files), render([...files, "--show-secrets"])]);
    expect(redacted.code, redacted.stderr).to.equal(0);
    const secretValues = [
      "sk-upstream-openai", "sk-upstream-anthropic", "upstream-google", "sk-or-upstream", "upstream-deepseek", "upstream-sandbox-token",
      "upstream-credentials-key", "upstream-service-role", "upstream-registration", "upstream-oidc-secret", "upstream-admin-password",
    ];
    for (const v of secretValues) expect(redacted.stdout, v).to.not.contain(v);
    const objects = docs(redacted.stdout);
    validateKubeObjects(objects);
    const secret = find(objects, "Secret", "mindroom-api-keys-42");
    expect(Object.keys(secret.stringData)).to.have.length(10);
    expect(new Set(Object.values(secret.stringData))).to.deep.equal(new Set(["REDACTED"]));
    expect(find(objects, "Secret", "synapse-secrets-42").stringData).to.deep.equal({ macaroon_secret_key: "REDACTED", form_secret: "REDACTED" });
    // homeserver.yaml holds no secret, so a render prints it in full; it names the files instead.
    const redactedHomeserver = parse(find(objects, "ConfigMap", "synapse-config-42").data["homeserver.yaml"], { version: "1.1" });
    expect(redactedHomeserver).to.include({ macaroon_secret_key_path: "/etc/mindroom-secrets/macaroon_secret_key", form_secret_path: "/etc/mindroom-secrets/form_secret" });
    // --show-secrets reveals them all, in the tenant Secret and (macaroon/form = matrix_admin_password) in synapse-secrets-{c}.
    expect(shown.code, shown.stderr).to.equal(0);
    for (const v of secretValues) expect(shown.stdout, v).to.contain(v);
    expect(find(docs(shown.stdout), "Secret", "synapse-secrets-42").stringData).to.deep.equal({ macaroon_secret_key: "upstream-admin-password", form_secret: "upstream-admin-password" });
  });

  it("is deterministic: two renders of the same values are byte-identical (generated secrets included)", async () => {
    const [a, b] = await Promise.all([render(["-f", fixture("tenant.yaml"), "--show-secrets"]), render(["-f", fixture("tenant.yaml"), "--show-secrets"])]);
    expect(a.code, a.stderr).to.equal(0);
    expect(a.stdout.length).to.be.greaterThan(1000);
    expect(b.stdout).to.equal(a.stdout);
  });

  it("quotes strings a YAML 1.1 reader (Kubernetes) would take as booleans or numbers", async () => {
    const out = await render(["-f", fixture("yaml11-words.yaml"), "--show-secrets"]);
    expect(out.code, out.stderr).to.equal(0);
    for (const line of ['nodeName: "no"', 'value: "0400"', 'storageClassName: "off"', 'value: "n"', 'value: "y"', 'value: "on"', 'value: "yes"', 'openai_key: "yes"', 'value: "no"']) {
      expect(out.stdout).to.contain(line);
    }
    const objects = docs(out.stdout);
    const e = env(find(objects, "Deployment", "mindroom-t1"));
    expect(e).to.include({ ACCOUNT_ID: "0400", MINDROOM_KUBERNETES_WORKER_NODE_NAME: "no", SUPABASE_ANON_KEY: "y", MINDROOM_KUBERNETES_WORKER_NAME_PREFIX: "on" });
    expect(find(objects, "Deployment", "mindroom-t1").spec.template.spec.nodeName).to.equal("no");
  });

  it("invalid values: exit 1, one line on stderr naming the value, nothing on stdout", async () => {
    const out = await render(["-f", fixture("invalid-oidc.yaml")]);
    expect(out.code).to.equal(1);
    expect(out.stdout).to.equal("");
    expect(out.stderr.trimEnd().split("\n")).to.have.length(1);
    expect(out.stderr).to.match(/matrixOidc\.issuer: required when matrixOidc\.enabled is true/);
  });

  it("piped into `head -1`: the first line, then a clean end (no EPIPE stack trace)", async () => {
    const cmd = `set -o pipefail 2>/dev/null; "${process.execPath}" ${RENDER.join(" ")} instance -f "${fixture("tenant.yaml")}" | head -1`;
    const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile("bash", ["-c", cmd], { cwd: ROOT }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    expect(out.stderr).to.equal("");
    expect(out.stdout).to.equal("---\n");
    expect(out.code).to.equal(0);
  });

  it("a reader that is gone before the output is written (EPIPE on every write): exit 0, nothing on stderr", async () => {
    const child = spawn(process.execPath, [...RENDER, "instance", "-f", fixture("tenant.yaml")], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    child.stdout.destroy(); // closes the read end now: the render's write finds no reader
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
    expect(stderr).to.equal("");
    expect(code).to.equal(0);
  });

  it("every other mistake also exits 1 with one line on stderr and nothing on stdout", async () => {
    const dir = mkdtempSync(join(tmpdir(), "render-cli-"));
    writeFileSync(join(dir, "broken.yaml"), "customer: [42\n");
    writeFileSync(join(dir, "list.yaml"), "- customer: 42\n");
    writeFileSync(join(dir, "unknown.yaml"), "customer: 42\nmindroom_imgae: x\n");
    const cases: [string[], RegExp][] = [
      [["instance", "-f", join(dir, "missing.yaml")], /^render: values file .*missing\.yaml: not found; check the -f path$/],
      [["instance", "-f", join(dir, "broken.yaml")], /^render: values file .*broken\.yaml: invalid YAML: /],
      [["instance", "-f", join(dir, "list.yaml")], /^render: values file .*list\.yaml: values must be a YAML map/],
      [["instance"], /^render: no values file; pass -f values\.yaml/],
      [["tenant", "-f", fixture("tenant.yaml")], /^render: unknown render target "tenant"; choose one of: instance, platform, runtime$/],
      [[], /^render: missing required argument 'target' \(render --help for usage\)$/],
      [["instance", "-f"], /^render: option '-f, --values <file>' argument missing/],
      [["instance", "-f", fixture("tenant.yaml"), "--show-secret"], /^render: unknown option '--show-secret'/],
      // The key list it points at spells keys as a values file does (docs/instance.md, values-keys.test.ts).
      [["instance", "-f", join(dir, "unknown.yaml")], /^render: unknown key "mindroom_imgae"; did you mean "mindroom_image"\? \(every key: docs\/instance\.md#values-keys\)$/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args)));
    results.forEach((out, i) => {
      const label = cases[i][0].join(" ") || "(no arguments)";
      expect(out.code, label).to.equal(1);
      expect(out.stdout, label).to.equal("");
      expect(out.stderr.trimEnd().split("\n"), label).to.have.length(1);
      expect(out.stderr.trimEnd(), label).to.match(cases[i][1]);
    });
  });
});
