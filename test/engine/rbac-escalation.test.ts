/**
 * RBAC escalation on a real API server: the platform's provisioner ServiceAccount (rendered with
 * the provisioner on) may create a kubernetes-worker-mode tenant's worker Role and RoleBinding in
 * mindroom-instances. Kubernetes lets a subject create a Role only with permissions it holds
 * itself (or `escalate`), so this proves the platform's grants cover the tenant's. Two negative
 * controls show the check is enforced: no grants at all, and grants to create roles without
 * holding the worker's permissions.
 */
import { expect } from "chai";
import { KubernetesObjectApi, type KubeConfig } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apply, applyAll, id, read, reason, removeAll, render, statusOf, type Obj } from "./support/apply";
import { sharedCluster, type Cluster } from "./support/cluster";
import { prepare } from "./support/prepare";

const FIXTURES = join(__dirname, "../fixtures");
const TENANTS = "mindroom-instances";
const CONTROL_NS = "engine-rbac-control";
const ADMIN = "mindroom-engine-rbac-admin";
const AS_SA = "mindroom-engine-rbac-sa";

const find = (objects: Obj[], kind: string, pred: (o: Obj) => boolean = () => true): Obj => {
  const o = objects.find((x) => x.kind === kind && pred(x));
  expect(o, `${kind} among ${objects.map(id).join(", ")}`).to.not.equal(undefined);
  return o as Obj;
};

async function rejection(p: Promise<unknown>): Promise<{ status?: number; message: string }> {
  try {
    await p;
  } catch (err) {
    return { status: statusOf(err), message: reason(err) };
  }
  throw new Error("expected the API server to refuse");
}

describe("engine: RBAC escalation (provisioner creates a kubernetes-worker tenant's Role/RoleBinding)", () => {
  let cluster: Cluster;
  let admin: KubeConfig;
  let dir: string;
  let platform: Obj[];
  /** Tenant 9201 for the positive tests, 9202 for the negative controls, 9203 for uninstall. */
  let tenant: Obj[];
  let control: Obj[];
  let uninstall: Obj[];
  let provisioner: KubeConfig;

  const tenantValues = async (customer: number) => {
    const file = join(dir, `tenant-${customer}.yaml`);
    writeFileSync(file, JSON.stringify({ customer, workerBackend: "kubernetes", controlPlaneNodeName: "node-1" }));
    return render("instance", [join(FIXTURES, "instance/tenant.yaml"), file]);
  };

  before(async () => {
    cluster = await sharedCluster();
    admin = cluster.kubeConfig();
    dir = mkdtempSync(join(tmpdir(), "rbac-escalation-"));
    const platformValues = join(FIXTURES, "platform/production.yaml");
    [platform, tenant, control, uninstall] = await Promise.all([render("platform", [platformValues]), tenantValues(9201), tenantValues(9202), tenantValues(9203)]);
    await prepare(admin, [...platform, ...tenant]);
    expect(await applyAll(admin, platform, ADMIN), "platform objects the API server rejected").to.deep.equal([]);
    const deployment = find(platform, "Deployment", (o) => o.metadata.name === "mindroom-provisioner");
    const sa = deployment.spec.template.spec.serviceAccountName as string;
    expect(sa, "the provisioner Deployment names its ServiceAccount").to.be.a("string");
    provisioner = cluster.kubeConfig(await cluster.serviceAccountToken(deployment.metadata.namespace as string, sa));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    // The platform's RBAC in mindroom-instances: the root project's own platform writes the same names.
    if (platform) await removeAll(admin, platform.filter((o) => o.metadata.namespace === TENANTS));
  });

  it("with the provisioner's token: the worker Role and RoleBinding are created and read back", async () => {
    const role = find(tenant, "Role");
    const binding = find(tenant, "RoleBinding");
    expect(role.metadata.namespace).to.equal(TENANTS);
    expect(binding.roleRef.name).to.equal(role.metadata.name);
    for (const o of [role, binding]) {
      await apply(provisioner, o, AS_SA).catch((err) => expect.fail(`${id(o)} as the provisioner: ${reason(err)}`));
      const live = await read(admin, o);
      expect(live.metadata.labels).to.include(o.metadata.labels ?? {});
    }
    expect((await read(admin, role)).rules).to.deep.equal(role.rules);
  });

  it("with the provisioner's token: every other object of that tenant applies too", async () => {
    const rest = tenant.filter((o) => o.kind !== "Role" && o.kind !== "RoleBinding");
    expect(await applyAll(provisioner, rest, AS_SA), "objects refused to the provisioner").to.deep.equal([]);
  });

  it("with the provisioner's token: a whole tenant applies, then deletes (foreground, as the provider does) until gone", async () => {
    expect(await applyAll(provisioner, uninstall, AS_SA), "objects refused to the provisioner").to.deep.equal([]);
    const api = KubernetesObjectApi.makeApiClient(provisioner);
    for (const o of [...uninstall].reverse()) {
      await api.delete(o, undefined, undefined, undefined, undefined, "Foreground").catch((err) => expect.fail(`delete ${id(o)} as the provisioner: ${reason(err)}`));
    }
    for (const o of uninstall) expect(await rejection(read(admin, o)), id(o)).to.include({ status: 404 });
  });

  it("negative control: a ServiceAccount with no grants gets 403 for the worker Role", async () => {
    await prepare(admin, [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "x", namespace: CONTROL_NS } }]);
    await apply(admin, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "no-grants", namespace: CONTROL_NS } }, ADMIN);
    const kc = cluster.kubeConfig(await cluster.serviceAccountToken(CONTROL_NS, "no-grants"));
    const refused = await rejection(apply(kc, find(control, "Role"), AS_SA));
    expect(refused.status, refused.message).to.equal(403);
    expect(refused.message).to.match(/cannot patch resource "roles"/);
    console.log(`      - refused: ${refused.message}`);
  });

  it("negative control: a ServiceAccount that may create roles but lacks the worker's permissions gets 403 (escalation)", async () => {
    // Bound only to the platform's tenant-rbac Role: roles/rolebindings verbs, nothing the worker Role grants.
    const rbacOnly = find(platform, "Role", (o) => o.metadata.name === "platform-backend-tenant-rbac");
    const sa: Obj = { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "roles-only", namespace: CONTROL_NS } };
    const bind: Obj = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "RoleBinding",
      metadata: { name: "engine-roles-only", namespace: TENANTS },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: rbacOnly.metadata.name },
      subjects: [{ kind: "ServiceAccount", name: "roles-only", namespace: CONTROL_NS }],
    };
    await prepare(admin, [sa]);
    expect(await applyAll(admin, [sa, bind], ADMIN)).to.deep.equal([]);
    const kc = cluster.kubeConfig(await cluster.serviceAccountToken(CONTROL_NS, "roles-only"));
    const role = find(control, "Role");
    const refused = await rejection(apply(kc, role, AS_SA));
    expect(refused.status, refused.message).to.equal(403);
    expect(refused.message).to.match(/is attempting to grant RBAC permissions not currently held/);
    console.log(`      - refused: ${refused.message.slice(0, 200)}…`);
    const binding = find(control, "RoleBinding");
    await apply(admin, role, ADMIN); // the Role exists; binding it still needs its permissions (or `bind`)
    const refusedBinding = await rejection(apply(kc, binding, AS_SA));
    expect(refusedBinding.status, refusedBinding.message).to.equal(403);
  });
});
