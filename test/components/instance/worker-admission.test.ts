/**
 * The rendered worker admission policy (components/instance/worker-admission.ts): which objects,
 * their names, whom they match, the tenant values each rule compares against, and the values it
 * needs. That the API server enforces the rules (every attack refused, the runtime's own worker
 * admitted) is test/engine/worker-isolation.test.ts. Every render here is also schema-checked
 * (kubernetes-models, strict fields) by the helpers.
 */
import { expect } from "chai";
import type * as pulumi from "@pulumi/pulumi";
import { recordProgram } from "../../../infra/render/record";
import { MindroomInstance, type MindroomInstanceArgs } from "../../../components/instance";
import { parseInstanceValues } from "../../../components/instance/values";
import { K8S_RWX, mindroomEnv, renderValues, type Obj, type Rendered } from "./helpers";

type Validation = { expression: string; message: string; reason: string };
const policy = (r: Rendered, c: string) => r.get("ValidatingAdmissionPolicy", `mindroom-worker-manager-${c}`);
const rules = (r: Rendered, c: string) => policy(r, c).spec.validations as Validation[];
/** The one rule whose message matches. */
const rule = (r: Rendered, c: string, message: RegExp): Validation => {
  const found = rules(r, c).filter((v) => message.test(v.message));
  expect(found, `one rule matching ${message}`).to.have.length(1);
  return found[0];
};

describe("MindroomInstance: worker admission policy (kubernetes worker mode, issue 9 item 5)", () => {
  let r: Rendered;
  before(async () => {
    r = await renderValues({ customer: 42, workerBackend: "kubernetes", controlPlaneNodeName: "node-a", imagePullSecrets: [{ name: "ghcr" }] });
  });

  it("static_runner mode renders neither the policy nor its binding", async () => {
    const s = await renderValues({ customer: "t1" });
    expect(s.objects.filter((o) => o.kind.startsWith("ValidatingAdmissionPolicy"))).to.deep.equal([]);
  });

  it("one policy and one binding, cluster-scoped, named after the customer, labelled app=mindroom customer={c}", () => {
    const p = policy(r, "42");
    const b = r.get("ValidatingAdmissionPolicyBinding", "mindroom-worker-manager-42");
    for (const o of [p, b]) {
      expect(o.apiVersion).to.equal("admissionregistration.k8s.io/v1");
      expect(o.metadata).to.deep.equal({ name: "mindroom-worker-manager-42", labels: { app: "mindroom", customer: "42" } });
    }
    expect(b.spec).to.deep.equal({ policyName: "mindroom-worker-manager-42", validationActions: ["Deny"] });
    expect(p.spec.failurePolicy).to.equal("Fail");
  });

  it("matches only this tenant's worker-manager ServiceAccount, on create, update and delete of Deployments and Services", () => {
    const p = policy(r, "42");
    expect(p.spec.matchConditions).to.deep.equal([
      { name: "worker-manager", expression: 'request.userInfo.username == "system:serviceaccount:mindroom-instances:mindroom-worker-manager-42"' },
    ]);
    expect(p.spec.matchConstraints.resourceRules).to.deep.equal([
      { apiGroups: ["apps"], apiVersions: ["*"], resources: ["deployments"], operations: ["CREATE", "UPDATE", "DELETE"] },
      { apiGroups: [""], apiVersions: ["*"], resources: ["services"], operations: ["CREATE", "UPDATE", "DELETE"] },
    ]);
    // Exactly what the worker-manager Role lets it write (its other grants are gets and its own Secret by name).
    const role = r.get("Role", "mindroom-worker-manager-42").rules as { resources: string[]; verbs: string[] }[];
    const writes = role.filter((x) => x.verbs.some((v) => ["create", "patch", "update", "delete"].includes(v)) && !("resourceNames" in x));
    expect(writes.flatMap((x) => x.resources).sort()).to.deep.equal(["deployments", "services"]);
  });

  it("every rule is a Forbidden with a one-line message naming the worker manager", () => {
    const all = rules(r, "42");
    expect(all.length).to.be.greaterThan(10);
    for (const v of all) {
      expect(v.reason).to.equal("Forbidden");
      expect(v.message).to.match(/^mindroom-worker-manager-42[: ]/);
      expect(v.message).to.not.contain("\n");
    }
  });

  it("changes and deletes need the existing object to be this tenant's worker (oldObject)", () => {
    const v = rule(r, "42", /may change or delete only its own workers/);
    expect(v.expression).to.contain('oldObject.metadata.labels["customer"] == "42"');
    expect(v.expression).to.contain('oldObject.metadata.labels["mindroom.ai/component"] == "worker"');
    expect(v.expression).to.match(/^!variables\.isUpdateOrDelete \|\|/);
  });

  it("names: {prefix}-{24 hex}, the prefix per tenant by default (same worker key, different tenants: different names)", async () => {
    expect(rule(r, "42", /worker names must be/).expression).to.contain('matches("^mindroom-worker-42-[0-9a-f]{24}$")');
    expect(mindroomEnv(r, "42").MINDROOM_KUBERNETES_WORKER_NAME_PREFIX).to.equal("mindroom-worker-42");
    const given = await renderValues({ customer: "t1", ...K8S_RWX, kubernetesWorkerNamePrefix: "wk-t1" });
    expect(mindroomEnv(given, "t1").MINDROOM_KUBERNETES_WORKER_NAME_PREFIX).to.equal("wk-t1");
    expect(rule(given, "t1", /worker names must be wk-t1-/).expression).to.contain('"^wk-t1-[0-9a-f]{24}$"');
  });

  it("labels, selectors and owners: customer={c} everywhere, owned only by mindroom-{c} without blocking", () => {
    expect(rule(r, "42", /worker objects must carry/).expression).to.contain('object.metadata.labels["customer"] == "42"');
    const d = rule(r, "42", /worker Deployments run at most 1 replica/).expression;
    expect(d).to.contain('object.spec.selector.matchLabels["customer"] == "42"');
    expect(d).to.contain('object.spec.template.metadata.labels["customer"] == "42"');
    expect(rule(r, "42", /worker Services must be ClusterIP/).expression).to.contain('object.spec.selector["customer"] == "42"');
    const o = rule(r, "42", /may be owned only by Deployment mindroom-42/).expression;
    expect(o).to.contain('o.name == "mindroom-42"');
    expect(o).to.contain("o.blockOwnerDeletion");
  });

  it("volumes and references: only the tenant's own PVC, ConfigMap, worker-auth Secret and pull secrets", () => {
    const v = rule(r, "42", /worker volumes may only be/).expression;
    expect(v).to.contain('v.persistentVolumeClaim.claimName == "mindroom-storage-42"');
    expect(v).to.contain('v.configMap.name == "mindroom-config-42"');
    expect(v).to.contain('v.secret.secretName == "mindroom-worker-auth-42"');
    // An allow-list: any other volume source (hostPath, projected, csi, nfs, ephemeral, …) fails it.
    expect(v.match(/has\(v\.(\w+)\)/g)).to.deep.equal(["has(v.emptyDir)", "has(v.persistentVolumeClaim)", "has(v.configMap)", "has(v.secret)"]);
    const e = rule(r, "42", /worker env may reference only/).expression;
    for (const ref of ["secretKeyRef", "configMapKeyRef", "secretRef", "configMapRef"]) expect(e, ref).to.contain(ref);
    expect(e).to.contain('p.name in ["ghcr"]');
    expect(e).to.contain("variables.pod.initContainers");
  });

  it("identity: the configured worker ServiceAccount (default `default`), never with a token", async () => {
    expect(rule(r, "42", /run as ServiceAccount default with automountServiceAccountToken: false/).expression).to.contain("variables.pod.automountServiceAccountToken == false");
    const named = await renderValues({ customer: "t1", ...K8S_RWX, kubernetesWorkerServiceAccountName: "workers-t1" });
    expect(rule(named, "t1", /run as ServiceAccount workers-t1/).expression).to.contain('variables.pod.serviceAccountName : "default") == "workers-t1"');
  });

  it("host and node: no host namespaces, nodeName only the configured pin (none without one)", async () => {
    const h = rule(r, "42", /must not use the host's network, PID or IPC namespace/);
    for (const f of ["hostNetwork", "hostPID", "hostIPC", "nodeSelector", "affinity", "tolerations", "priorityClassName", "runtimeClassName"]) expect(h.expression, f).to.contain(`variables.pod.${f}`);
    expect(h.expression).to.contain('variables.pod.nodeName == "node-a"');
    const rwx = await renderValues({ customer: "t1", ...K8S_RWX });
    const none = rule(rwx, "t1", /nor choose their node \(no nodeName;/).expression;
    expect(none).to.contain("!has(variables.pod.nodeName)");
    expect(none).to.not.contain("variables.pod.nodeName ==");
  });

  it("privilege: container and pod security contexts, host ports, resource limits", () => {
    const c = rule(r, "42", /worker containers must set allowPrivilegeEscalation: false/).expression;
    for (const f of ["allowPrivilegeEscalation == false", "privileged", "capabilities.add", "runAsUser == 0", "seLinuxOptions", "procMount", '"Unconfined"', "hostPort", "hostProcess"]) expect(c, f).to.contain(f);
    const p = rule(r, "42", /worker pods must set runAsNonRoot: true/).expression;
    for (const f of ["runAsNonRoot == true", "sysctls", "container.apparmor.security.beta.kubernetes.io/"]) expect(p, f).to.contain(f);
    expect(rule(r, "42", /CPU and memory limits/).expression).to.contain('"memory" in c.resources.limits');
  });

  it("tenant values are CEL string literals: quotes and backslashes are escaped", async () => {
    const odd = await renderValues({ customer: "t1", workerBackend: "kubernetes", controlPlaneNodeName: 'n"1\\x' });
    expect(rule(odd, "t1", /nor choose their node/).expression).to.contain('variables.pod.nodeName == "n\\"1\\\\x"');
  });

  it("the worker-manager RoleBinding depends on the policy and its binding (granted after them, removed before them)", async () => {
    const seen = new Map<string, pulumi.CustomResourceOptions>();
    await recordProgram(() => {
      const args: MindroomInstanceArgs = { customer: "t1", ...K8S_RWX };
      new MindroomInstance("tenant", args, {
        transformations: [(a) => {
          seen.set(`${a.type}::${a.name}`, a.opts as pulumi.CustomResourceOptions);
          return undefined;
        }],
      });
    });
    const deps = (seen.get("kubernetes:rbac.authorization.k8s.io/v1:RoleBinding::tenant-worker-manager")?.dependsOn ?? []) as pulumi.Resource[];
    const names = deps.map((d) => (d as unknown as { __name: string }).__name);
    expect(names).to.deep.equal(["tenant-worker-admission", "tenant-worker-admission"]);
    const types = deps.map((d) => (d as unknown as { __pulumiType: string }).__pulumiType);
    expect(types).to.deep.equal([
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicy",
      "kubernetes:admissionregistration.k8s.io/v1:ValidatingAdmissionPolicyBinding",
    ]);
  });

  it("kubernetesWorkerNamePrefix in kubernetes mode: a DNS label of at most 38 characters, else one line naming it", () => {
    const k8s = (extra: Record<string, unknown>) => () => parseInstanceValues({ customer: "t1", ...K8S_RWX, ...extra });
    expect(k8s({ kubernetesWorkerNamePrefix: "a".repeat(38) })).to.not.throw();
    expect(k8s({ kubernetesWorkerNamePrefix: "a".repeat(39) })).to.throw(/^kubernetesWorkerNamePrefix: "a{39}" cannot prefix worker names .*at most 38 characters/);
    expect(k8s({ kubernetesWorkerNamePrefix: "Workers_" })).to.throw(/^kubernetesWorkerNamePrefix: "Workers_"/);
    // The default prefix mindroom-worker-{c} is too long for a customer id over 22 characters: the message says what to set.
    const long = "c".repeat(23);
    expect(() => parseInstanceValues({ customer: long, ...K8S_RWX })).to.throw(new RegExp(`^kubernetesWorkerNamePrefix: "mindroom-worker-${long}"`));
    expect(() => parseInstanceValues({ customer: long, ...K8S_RWX, kubernetesWorkerNamePrefix: "w-c23" })).to.not.throw();
    // Static mode does not use the prefix, so it is not checked there (as upstream).
    expect(() => parseInstanceValues({ customer: "t1", kubernetesWorkerNamePrefix: "Workers_" })).to.not.throw();
  });

  it("each rendered object passes the Kubernetes schema (kubernetes-models, strict fields)", () => {
    // renderValues validated every object; this states it for the two new kinds.
    const kinds = r.objects.map((o: Obj) => o.kind);
    expect(kinds).to.include.members(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);
  });
});
