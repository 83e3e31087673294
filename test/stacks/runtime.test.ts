/** stacks/runtime.ts under the mock runtime, with stack config set as `pulumi config set` would. */
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, kubeObjects } from "../../infra/render/manifests";
import { recordProgram } from "../../infra/render/record";
import { ValuesError } from "../../infra/values/errors";
import { runtimeStack, RUNTIME_PROJECT, type RuntimeStackOutputs } from "../../stacks/runtime";
import { validateKubeObjects } from "../support/kube-schema";

const EXAMPLE = "stacks/runtime/Pulumi.example.yaml";
/** The deployment guide's "Typical production values" for a runtime-only release, copied verbatim. */
const GUIDE_VALUES = "test/fixtures/runtime/production-values.yaml";

/** Sets stack config the way the CLI hands it to a program: JSON strings, secret keys listed. */
function setConfig(config: Record<string, unknown>, secretKeys: string[] = []): void {
  const flat = Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === "string" ? v : JSON.stringify(v)]));
  pulumi.runtime.setAllConfig(flat, secretKeys);
}

async function up(config: Record<string, unknown>, secretKeys: string[] = []) {
  setConfig(config, secretKeys);
  let outputs: RuntimeStackOutputs | undefined;
  let error: unknown;
  const regs = await recordProgram(
    () => {
      try {
        outputs = runtimeStack();
      } catch (err) {
        error = err;
      }
    },
    { project: RUNTIME_PROJECT, stack: "example" },
  );
  return { regs, outputs, error, objects: kubeObjects(regs, true) };
}

describe("stacks/runtime: runtime-only stack program", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}, []));

  it("the example stack config (deployment guide's production values) deploys schema-valid objects", async () => {
    const example = parse(readFileSync(EXAMPLE, "utf8")).config as Record<string, unknown>;
    const { regs, outputs, error, objects } = await up(example);
    expect(error).to.equal(undefined);
    expect(outputs).to.deep.equal({
      fullname: "mindroom-runtime",
      namespace: "mindroom",
      workerNamespace: "mindroom",
      apiUrl: "http://mindroom-runtime.mindroom.svc:8765",
      storageClaimName: "mindroom-data",
    });
    validateKubeObjects(objects);
    const names = objects.map((o) => `${o.kind}/${o.metadata?.name}`);
    expect(names).to.include.members(["Deployment/mindroom-runtime", "Secret/mindroom-runtime-worker-auth", "Role/mindroom-runtime-worker-manager"]);
    expect(names).to.not.include("ConfigMap/mindroom-runtime-config");
    // No kubeconfig key: the default provider (ambient kubeconfig) is used.
    expect(regs.filter((r) => r.type === "pulumi:providers:kubernetes")).to.have.length(0);
  });

  it("the example stack config carries exactly the deployment guide's typical production values, in release mindroom-runtime/mindroom", () => {
    const example = parse(readFileSync(EXAMPLE, "utf8")).config as Record<string, unknown>;
    expect(example[`${RUNTIME_PROJECT}:values`]).to.deep.equal(parse(readFileSync(GUIDE_VALUES, "utf8")));
    expect(example[`${RUNTIME_PROJECT}:releaseName`]).to.equal("mindroom-runtime");
    expect(example[`${RUNTIME_PROJECT}:namespace`]).to.equal("mindroom");
    // Nothing secret in plain text: the guide's values reference existing Secrets only.
    expect(JSON.stringify(example)).to.not.match(/"value"|password|token"\s*:\s*"[^"]/i);
  });

  it("releaseName and namespace come from stack config", async () => {
    const { objects, outputs } = await up({ [`${RUNTIME_PROJECT}:releaseName`]: "edge", [`${RUNTIME_PROJECT}:namespace`]: "apps", [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" } } });
    expect(outputs?.fullname).to.equal("edge-mindroom-runtime");
    expect(objects.every((o) => o.metadata?.namespace === "apps")).to.equal(true);
  });

  it("a kubeconfig key makes an explicit, secret provider that every object uses", async () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\nclusters: []\n";
    const { regs } = await up({ [`${RUNTIME_PROJECT}:kubeconfig`]: kubeconfig, [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" } } }, [`${RUNTIME_PROJECT}:kubeconfig`]);
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes");
    expect(provider?.name).to.equal("kubeconfig");
    expect(containsSecret(provider!.inputs.kubeconfig)).to.equal(true);
    expect((provider!.inputs.kubeconfig as { value: unknown }).value).to.equal(kubeconfig);
    const k8sObjects = regs.filter((r) => r.custom && r.type.startsWith("kubernetes:"));
    expect(k8sObjects.length).to.be.greaterThan(0);
    for (const r of k8sObjects) expect(r.provider, r.name).to.contain("pulumi:providers:kubernetes::kubeconfig");
  });

  it("adoptExisting: an explicit provider that takes over existing objects (Helm migration), ambient kubeconfig", async () => {
    const { regs } = await up({ [`${RUNTIME_PROJECT}:adoptExisting`]: "true", [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" } } });
    const provider = regs.find((r) => r.type === "pulumi:providers:kubernetes")!;
    expect(provider.inputs.upsertExistingObjects).to.equal("true");
    expect(provider.inputs).to.not.have.property("kubeconfig");
    const bad = await up({ [`${RUNTIME_PROJECT}:adoptExisting`]: "\"yes\"" });
    expect((bad.error as Error).message).to.match(/^mindroom-runtime:adoptExisting: must be true or false/);
  });

  it("an inline secret set with --secret --path stays a Pulumi secret, only in its Kubernetes Secret", async () => {
    const values = { eventCache: { backend: "sqlite" }, workers: { sandbox: { proxyToken: { value: "tok-from-config" } } } };
    const { regs } = await up({ [`${RUNTIME_PROJECT}:values`]: values }, [`${RUNTIME_PROJECT}:values`]);
    const secret = regs.find((r) => r.name === "mindroom-runtime-sandbox-proxy")!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    expect(kubeObjects(regs, true).find((o) => o.kind === "Secret" && o.metadata?.name === "mindroom-runtime-sandbox-proxy")?.stringData).to.deep.equal({
      MINDROOM_SANDBOX_PROXY_TOKEN: "tok-from-config",
    });
    for (const r of regs.filter((x) => x !== secret)) expect(JSON.stringify(r.inputs), r.name).to.not.contain("tok-from-config");
  });

  it("an inline secret or kubeconfig contents stored in plain text stop the update, naming the key and the command, never the value", async () => {
    const token = { [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" }, workers: { sandbox: { proxyToken: { value: "PlainT0kenValue" } } } } };
    const plainToken = await up(token);
    expect(plainToken.error).to.be.instanceOf(ValuesError);
    expect((plainToken.error as Error).message).to.equal(
      "mindroom-runtime:values.workers.sandbox.proxyToken.value: stored in plain text in the stack file; set it encrypted: pulumi config set --secret --path 'values.workers.sandbox.proxyToken.value' <value>",
    );
    expect(plainToken.regs).to.have.length(0);
    const password = await up({ [`${RUNTIME_PROJECT}:values`]: { eventCache: { postgres: { auth: { password: "PlainPa55word" } } } } });
    expect((password.error as Error).message).to.match(/^mindroom-runtime:values\.eventCache\.postgres\.auth\.password: stored in plain text/);
    expect((password.error as Error).message).to.not.contain("PlainPa55word");

    const kubeconfig = "apiVersion: v1\nkind: Config\nusers: [{name: u, user: {token: PlainKubeT0ken}}]\n";
    const plainKube = await up({ [`${RUNTIME_PROJECT}:kubeconfig`]: kubeconfig, [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" } } });
    expect((plainKube.error as Error).message).to.match(/^mindroom-runtime:kubeconfig: holds kubeconfig contents \(cluster credentials\) in plain text in the stack file; .*pulumi config set --secret kubeconfig/);
    expect((plainKube.error as Error).message).to.not.contain("PlainKubeT0ken");
    expect(plainKube.regs).to.have.length(0);
    // A path is not a secret.
    const path = await up({ [`${RUNTIME_PROJECT}:kubeconfig`]: "/home/ops/.kube/prod.yaml", [`${RUNTIME_PROJECT}:values`]: { eventCache: { backend: "sqlite" } } });
    expect(path.error).to.equal(undefined);
  });

  it("invalid values fail with one line naming the config key, before any resource registers", async () => {
    const { regs, error } = await up({ [`${RUNTIME_PROJECT}:values`]: { config: { source: "file", path: "relative.yaml" } } });
    expect(error).to.be.instanceOf(ValuesError);
    expect((error as Error).message).to.match(/^mindroom-runtime:values\.config\.path: config\.source=file needs an absolute path/);
    expect(regs).to.have.length(0);
  });

  it("invalid stack settings fail the same way", async () => {
    const bad = await up({ [`${RUNTIME_PROJECT}:namespace`]: "Mind_Room" });
    expect((bad.error as Error).message).to.match(/^mindroom-runtime:namespace: must be a DNS label/);
    const notMap = await up({ [`${RUNTIME_PROJECT}:values`]: ["a"] });
    expect((notMap.error as Error).message).to.match(/^mindroom-runtime:values: must be a map of runtime chart values/);
    expect(bad.regs.length + notMap.regs.length).to.equal(0);
  });
});

describe("stacks/runtime: providerAwait", () => {
  afterEach(() => pulumi.runtime.setAllConfig({}, []));
  const skip = (objects: { metadata?: { annotations?: Record<string, string> } }[]) => objects.map((o) => o.metadata?.annotations?.["pulumi.com/skipAwait"]);

  it("default: the provider waits for every object; providerAwait false marks each one skipAwait and changes nothing else", async () => {
    const values = { "mindroom-runtime:values": {} };
    const waiting = await up(values);
    expect(waiting.error).to.equal(undefined);
    expect(skip(waiting.objects).filter((a) => a !== undefined)).to.deep.equal([]);
    const skipping = await up({ ...values, "mindroom-runtime:providerAwait": false });
    expect(skipping.objects.length).to.equal(waiting.objects.length);
    expect(new Set(skip(skipping.objects))).to.deep.equal(new Set(["true"]));
    const strip = (o: { metadata?: { annotations?: Record<string, string> } }) => {
      const { "pulumi.com/skipAwait": _, ...rest } = o.metadata?.annotations ?? {};
      return { ...o, metadata: { ...o.metadata, annotations: Object.keys(rest).length ? rest : undefined } };
    };
    const norm = (o: object) => JSON.parse(JSON.stringify(o));
    expect(skipping.objects.map((o) => norm(strip(o)))).to.deep.equal(waiting.objects.map((o) => norm({ ...o, metadata: { ...o.metadata, annotations: o.metadata?.annotations } })));
  });

  it("refuses a providerAwait that is not a boolean", async () => {
    const { error } = await up({ "mindroom-runtime:providerAwait": 1 });
    expect(String((error as Error)?.message)).to.match(/providerAwait: must be true or false/);
  });
});
