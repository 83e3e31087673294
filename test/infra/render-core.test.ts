import { expect } from "chai";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { parse, parseAllDocuments } from "yaml";
import { recordProgram } from "../../infra/render/record";
import { kubeObjects, REDACTED, toYamlStream } from "../../infra/render/manifests";
import { validateKubeObjects } from "../support/kube-schema";

class Box extends pulumi.ComponentResource {
  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("test:index:Box", name, {}, opts);
    const pw = new random.RandomPassword("pw", { length: 12, special: false }, { parent: this });
    new k8s.core.v1.Secret("s", { metadata: { name: "s", namespace: "ns" }, stringData: { a: pw.result, b: "plain" } }, { parent: this });
    new k8s.core.v1.ConfigMap("cm", { metadata: { name: "cm", namespace: "ns" }, data: { flag: "no", mode: "0400", n: "30" } }, { parent: this });
    this.registerOutputs({});
  }
}

describe("renderer core", () => {
  it("records registrations with parent URNs and orders Secrets before ConfigMaps", async () => {
    const regs = await recordProgram(() => new Box("box"));
    const secret = regs.find((r) => r.type === "kubernetes:core/v1:Secret")!;
    expect(secret.urn).to.contain("test:index:Box$kubernetes:core/v1:Secret::s");
    const objects = kubeObjects(regs);
    expect(objects.map((o) => o.kind)).to.deep.equal(["Secret", "ConfigMap"]);
    validateKubeObjects(objects);
  });

  it("redacts every secret leaf by default and reveals them with showSecrets", async () => {
    const regs = await recordProgram(() => new Box("box"));
    const redacted = kubeObjects(regs).find((o) => o.kind === "Secret")!;
    expect(redacted.stringData).to.deep.equal({ a: REDACTED, b: REDACTED });
    const shown = kubeObjects(regs, true).find((o) => o.kind === "Secret")!;
    expect((shown.stringData as Record<string, string>).a).to.have.length(12);
    expect((shown.stringData as Record<string, string>).b).to.equal("plain");
  });

  it("quotes strings a YAML 1.1 reader would take as booleans or numbers", async () => {
    const yaml = toYamlStream(kubeObjects(await recordProgram(() => new Box("box"))));
    const docs = parseAllDocuments(yaml);
    expect(docs).to.have.length(2);
    const cm = parse(docs[1].toString(), { version: "1.1" });
    expect(cm.data).to.deep.equal({ flag: "no", mode: "0400", n: "30" });
  });

  it("fails schema validation for a field Kubernetes does not have at that spot in a rendered object", async () => {
    const container = { name: "c", image: "busybox", securityContext: { runAsNonRoot: true, fsGroupChangePolicy: "OnRootMismatch" } };
    const regs = await recordProgram(() => {
      new k8s.apps.v1.Deployment("d", {
        metadata: { name: "d", namespace: "ns" },
        spec: { selector: { matchLabels: { app: "d" } }, template: { metadata: { labels: { app: "d" } }, spec: { containers: [container] } } },
      });
    });
    expect(() => validateKubeObjects(kubeObjects(regs))).to.throw(
      'apps/v1 Deployment ns/d: unknown field "spec.template.spec.containers[0].securityContext.fsGroupChangePolicy"',
    );
  });

  it("fails schema validation for a wrong field type", () => {
    expect(() => validateKubeObjects([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: 1 } } as never])).to.throw(/ConfigMap/);
    expect(() => validateKubeObjects([{ apiVersion: "v1", kind: "Nope", metadata: { name: "x" } }])).to.throw(/no Kubernetes schema/);
  });
});
