import { expect } from "chai";
import type { KubeObject } from "../../infra/render/manifests";
import { validateKubeObject, validateKubeObjects } from "./kube-schema";

/** A Deployment touching maps, quantities, IntOrString ports and nested container structs. */
function deployment() {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "ns", labels: { "app.kubernetes.io/name": "web" }, annotations: { "example.com/note": "x" } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { "app.kubernetes.io/name": "web" } },
      template: {
        metadata: { labels: { "app.kubernetes.io/name": "web" }, annotations: { "checksum/config": "abc" } },
        spec: {
          securityContext: { fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch" },
          containers: [
            {
              name: "web",
              image: "nginx:1",
              ports: [{ name: "http", containerPort: 8080 }],
              resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { cpu: 1, memory: "1Gi" } },
              readinessProbe: { httpGet: { path: "/", port: "http" }, periodSeconds: 5 },
              securityContext: { runAsNonRoot: true, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "data", mountPath: "/data", readOnly: true }],
            },
          ],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data", readOnly: true } }],
        },
      },
    },
  };
}

describe("kube-schema strict field validation", () => {
  it("accepts a valid Deployment with labels, annotations, quantities and named ports", () => {
    expect(() => validateKubeObject(deployment())).not.to.throw();
  });

  it("accepts any keys in additionalProperties maps (ConfigMap data, Service selector)", () => {
    const objects: KubeObject[] = [
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "ns" }, data: { "config.yaml": "a: 1", "x.y-z": "" } },
      { apiVersion: "v1", kind: "Service", metadata: { name: "svc", namespace: "ns" }, spec: { selector: { "app.kubernetes.io/name": "web" }, ports: [{ port: 80, targetPort: "http" }] } },
    ];
    expect(() => validateKubeObjects(objects)).not.to.throw();
  });

  it("treats a definition without declared properties (RawExtension) as a leaf", () => {
    const revision: KubeObject = { apiVersion: "apps/v1", kind: "ControllerRevision", metadata: { name: "r", namespace: "ns" }, revision: 1, data: { any: { shape: [1] } } };
    expect(() => validateKubeObject(revision)).not.to.throw();
  });

  it("rejects an unknown top-level field with the object's identity and the field path", () => {
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cm", namespace: "ns" }, datas: { a: "b" } };
    expect(() => validateKubeObject(cm)).to.throw('v1 ConfigMap ns/cm: unknown field "datas"');
  });

  it("rejects a pod-level field placed inside a container securityContext", () => {
    const bad = deployment();
    Object.assign(bad.spec.template.spec.containers[0].securityContext, { fsGroupChangePolicy: "OnRootMismatch" });
    expect(() => validateKubeObject(bad)).to.throw(
      'apps/v1 Deployment ns/web: unknown field "spec.template.spec.containers[0].securityContext.fsGroupChangePolicy"',
    );
  });

  it("lists every misspelt or misplaced field, at any depth", () => {
    const bad = deployment();
    Object.assign(bad.spec.template.spec.containers[0].readinessProbe, { periodSecond: 5 });
    Object.assign(bad.spec.template.spec.volumes[0], { readOnly: true });
    Object.assign(bad.metadata, { label: { a: "b" } });
    let message = "";
    try {
      validateKubeObject(bad);
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).to.contain('unknown field "spec.template.spec.containers[0].readinessProbe.periodSecond"');
    expect(message).to.contain('unknown field "spec.template.spec.volumes[0].readOnly"');
    expect(message).to.contain('unknown field "metadata.label"');
  });

  it("still reports type errors, and fails kinds without a schema unless allowed as a CRD", () => {
    const wrongType = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x" }, data: { a: 1 } } as never;
    expect(() => validateKubeObject(wrongType)).to.throw(/ConfigMap .*must be string/);
    const issuer: KubeObject = { apiVersion: "cert-manager.io/v1", kind: "ClusterIssuer", metadata: { name: "le" }, spec: { acme: {} } };
    expect(() => validateKubeObject(issuer)).to.throw(/no Kubernetes schema/);
    expect(() => validateKubeObject(issuer, ["cert-manager.io/v1/ClusterIssuer"])).not.to.throw();
  });
});
