/**
 * Worker isolation on a real API server (issue 9 item 5): two tenants A and B in `kubernetes`
 * worker mode, rendered and applied as the tenant stack would, share `mindroom-instances`. With A's
 * worker-manager ServiceAccount token (what A's runtime holds), every attack the worker-manager Role
 * alone would allow is tried, and each is refused by A's ValidatingAdmissionPolicy with its own
 * message; the worker A's runtime really creates (its shape: mindroom's kubernetes worker backend,
 * from the `MINDROOM_KUBERNETES_WORKER_*` env the component sets) is admitted, patched, scaled and
 * deleted. A third tenant C gets everything but the policy: there the same attack is admitted,
 * which shows the Role alone would allow it and the policy is what stops it.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { apiRequest, type ApiResponse, type ApiTarget } from "./support/api";
import { applyAll, id, read, render, type Obj } from "./support/apply";
import { sharedCluster, type Cluster } from "./support/cluster";
import { prepare } from "./support/prepare";

const FIXTURES = join(__dirname, "../fixtures");
const NS = "mindroom-instances";
const ADMIN = "mindroom-engine-worker-isolation";
const NODE = "node-1";
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const SERVICES = `/api/v1/namespaces/${NS}/services`;

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Loose = any;

interface Tenant {
  customer: string;
  objects: Obj[];
  /** The `MINDROOM_KUBERNETES_WORKER_*` env of its MindRoom container, without the prefix. */
  env: Record<string, string>;
  ownerUid: string;
  api: ApiTarget;
}

/** A deep copy without shared sub-objects (the manifests reuse one labels map in three places). */
const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;
const workerId = (t: Tenant, key: string) => `${t.env.NAME_PREFIX}-${createHash("sha256").update(key).digest("hex").slice(0, 24)}`;

function workerLabels(t: Tenant, wid: string): Record<string, string> {
  const extra = JSON.parse(t.env.LABELS_JSON) as Record<string, string | number>;
  return {
    "mindroom.ai/component": "worker",
    "app.kubernetes.io/managed-by": "mindroom",
    "app.kubernetes.io/name": "mindroom-worker",
    ...Object.fromEntries(Object.entries(extra).map(([k, v]) => [k, String(v)])),
    "mindroom.ai/worker-id": wid,
  };
}

const ownerRefs = (t: Tenant) => [
  { apiVersion: "apps/v1", kind: "Deployment", name: t.env.OWNER_DEPLOYMENT_NAME, uid: t.ownerUid, controller: false, blockOwnerDeletion: false },
];

/** The Deployment mindroom's kubernetes worker backend (`_deployment_manifest`) builds from that env. */
function workerDeployment(t: Tenant, key: string): Loose {
  return clone(runtimeDeployment(t, key));
}

function runtimeDeployment(t: Tenant, key: string): Loose {
  const wid = workerId(t, key);
  const labels = workerLabels(t, wid);
  const root = `${t.env.STORAGE_MOUNT_PATH}/${t.env.STORAGE_SUBPATH_PREFIX}/${wid}`;
  const port = Number(t.env.PORT);
  const probe = (period: number, failures: number) => ({ httpGet: { path: "/healthz", port: "api" }, periodSeconds: period, failureThreshold: failures });
  const fromAuthSecret = (name: string, k: string) => ({ name, valueFrom: { secretKeyRef: { name: t.env.AUTH_SECRET_NAME, key: k } } });
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: wid, namespace: NS, labels, ownerReferences: ownerRefs(t),
      annotations: { "mindroom.ai/worker-key": key, "mindroom.ai/worker-status": "starting", "mindroom.ai/template-hash": "0".repeat(64) },
    },
    spec: {
      replicas: 1,
      selector: { matchLabels: labels },
      template: {
        metadata: { labels, annotations: { "mindroom.ai/worker-key": key, "mindroom.ai/runner-token-hash": "1".repeat(64) } },
        spec: {
          serviceAccountName: t.env.SERVICE_ACCOUNT_NAME,
          automountServiceAccountToken: false,
          enableServiceLinks: t.env.ENABLE_SERVICE_LINKS === "true",
          securityContext: { runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" } },
          containers: [{
            name: "sandbox-runner",
            image: t.env.IMAGE,
            imagePullPolicy: t.env.IMAGE_PULL_POLICY,
            command: ["/app/run-sandbox-runner.sh"],
            ports: [{ containerPort: port, name: "api" }],
            env: [
              { name: "MINDROOM_SANDBOX_RUNNER_MODE", value: "true" },
              { name: "MINDROOM_SANDBOX_RUNNER_PORT", value: String(port) },
              { name: "MINDROOM_CONFIG_PATH", value: t.env.CONFIG_PATH },
              { name: "MINDROOM_STORAGE_PATH", value: root },
              { name: "HOME", value: root },
              fromAuthSecret("MINDROOM_SANDBOX_PROXY_TOKEN", wid),
              fromAuthSecret("MINDROOM_CREDENTIALS_ENCRYPTION_KEY", `${wid}.credentials-encryption-key`),
            ],
            volumeMounts: [
              { name: "worker-storage", mountPath: `${t.env.STORAGE_MOUNT_PATH}/agents/general`, subPath: "agents/general" },
              { name: "worker-storage", mountPath: root, subPath: `${t.env.STORAGE_SUBPATH_PREFIX}/${wid}` },
              { name: "worker-config", mountPath: t.env.CONFIG_PATH, subPath: t.env.CONFIG_KEY, readOnly: true },
            ],
            readinessProbe: probe(5, 6),
            startupProbe: probe(5, 60),
            livenessProbe: probe(10, 6),
            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { cpu: "500m", memory: "1Gi" } },
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
          }],
          volumes: [
            { name: "worker-storage", persistentVolumeClaim: { claimName: t.env.STORAGE_PVC_NAME } },
            { name: "worker-config", configMap: { name: t.env.CONFIG_MAP_NAME } },
          ],
          ...(t.env.NODE_NAME ? { nodeName: t.env.NODE_NAME } : {}),
        },
      },
    },
  };
}

/** The Service that backend builds (`_service_manifest`). */
function workerService(t: Tenant, key: string): Loose {
  return clone(runtimeService(t, key));
}

function runtimeService(t: Tenant, key: string): Loose {
  const wid = workerId(t, key);
  const labels = workerLabels(t, wid);
  const port = Number(t.env.PORT);
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: wid, namespace: NS, labels, ownerReferences: ownerRefs(t) },
    spec: { selector: labels, ports: [{ name: "api", port, targetPort: port }] },
  };
}

const denied = (res: ApiResponse) => `HTTP ${res.status}: ${res.body?.message ?? res.text}`;

describe("engine: worker isolation in kubernetes worker mode (ValidatingAdmissionPolicy per tenant)", () => {
  let cluster: Cluster;
  let dir: string;
  let a: Tenant;
  let b: Tenant;
  let c: Tenant;
  let bWorker: Loose;
  let bService: Loose;

  const load = async (customer: number, withPolicy: boolean): Promise<Tenant> => {
    const file = join(dir, `tenant-${customer}.yaml`);
    writeFileSync(file, JSON.stringify({ customer, workerBackend: "kubernetes", controlPlaneNodeName: NODE }));
    const all = await render("instance", [join(FIXTURES, "instance/tenant.yaml"), file]);
    const objects = withPolicy ? all : all.filter((o) => !o.kind.startsWith("ValidatingAdmissionPolicy"));
    await prepare(cluster.kubeConfig(), objects);
    expect(await applyAll(cluster.kubeConfig(), objects, ADMIN), `tenant ${customer} objects the API server rejected`).to.deep.equal([]);
    const mindroom = objects.find((o) => o.kind === "Deployment" && o.metadata.name === `mindroom-${customer}`) as Obj;
    const env = Object.fromEntries(
      (mindroom.spec.template.spec.containers[0].env as { name: string; value?: string }[])
        .filter((e) => e.name.startsWith("MINDROOM_KUBERNETES_WORKER_"))
        .map((e) => [e.name.slice("MINDROOM_KUBERNETES_WORKER_".length), e.value ?? ""]),
    );
    const ownerUid = ((await read(cluster.kubeConfig(), mindroom)).metadata as unknown as { uid: string }).uid;
    const sa = mindroom.spec.template.spec.serviceAccountName as string;
    return { customer: String(customer), objects, env, ownerUid, api: { server: cluster.server, ca: cluster.ca, token: await cluster.serviceAccountToken(NS, sa) } };
  };

  const create = (t: Tenant, o: Loose, dryRun = false) =>
    apiRequest(t.api, "POST", `${o.kind === "Service" ? SERVICES : DEPLOYMENTS}${dryRun ? "?dryRun=All" : ""}`, o);
  const path = (o: Loose) => `${o.kind === "Service" ? SERVICES : DEPLOYMENTS}/${o.metadata.name}`;
  const patch = (t: Tenant, o: Loose, body: unknown) => apiRequest(t.api, "PATCH", path(o), body, "application/merge-patch+json");
  const remove = (t: Tenant, o: Loose) => apiRequest(t.api, "DELETE", path(o));
  const adminTarget = (): ApiTarget => ({ server: cluster.server, ca: cluster.ca, token: cluster.token });

  /** Refused by A's policy (HTTP 403, the policy named) with a message matching `rule`. */
  const expectRefused = (res: ApiResponse, rule: RegExp) => {
    expect(res.status, denied(res)).to.equal(403);
    expect(res.body.message, denied(res)).to.contain(`ValidatingAdmissionPolicy 'mindroom-worker-manager-${a.customer}'`);
    expect(res.body.message, denied(res)).to.match(rule);
    console.log(`      - refused: ${String(res.body.message).replace(/^.*denied request: /, "")}`);
  };

  before(async function () {
    this.timeout(300_000);
    cluster = await sharedCluster();
    dir = mkdtempSync(join(tmpdir(), "worker-isolation-"));
    a = await load(9301, true);
    b = await load(9302, true);
    c = await load(9303, false);
    // The policy reaches the admission plugin through an informer: wait until A's is enforced.
    const deadline = Date.now() + 60_000;
    const probe = workerDeployment(a, "probe");
    probe.spec.template.spec.hostNetwork = true;
    for (;;) {
      const res = await create(a, probe, true);
      if (res.status === 403 && String(res.body?.message).includes("ValidatingAdmissionPolicy")) break;
      if (Date.now() > deadline) throw new Error(`A's policy not enforced after 60 s: ${denied(res)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    for (;;) {
      const bad = workerDeployment(b, "probe");
      bad.metadata.name = "not-a-worker-name";
      const res = await create(b, bad, true);
      if (res.status === 403) break;
      if (Date.now() > deadline) throw new Error(`B's policy not enforced after 60 s: ${denied(res)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // B's own runtime starts one worker: the target of A's attacks on existing objects.
    bWorker = workerDeployment(b, "v1:shared:general");
    bService = workerService(b, "v1:shared:general");
    for (const o of [bWorker, bService]) {
      const res = await create(b, o);
      expect(res.status, `B creates its own ${o.kind}: ${denied(res)}`).to.equal(201);
    }
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it("renders one policy and binding per tenant, cluster-scoped, named after the customer", () => {
    for (const t of [a, b]) {
      const policy = t.objects.find((o) => o.kind === "ValidatingAdmissionPolicy") as Obj;
      const binding = t.objects.find((o) => o.kind === "ValidatingAdmissionPolicyBinding") as Obj;
      expect(policy.metadata).to.deep.include({ name: `mindroom-worker-manager-${t.customer}` });
      expect(policy.metadata.namespace).to.equal(undefined);
      expect(binding.spec).to.deep.equal({ policyName: policy.metadata.name, validationActions: ["Deny"] });
    }
  });

  it("positive control: A's runtime creates, patches, scales and deletes its own worker Deployment and Service (the runtime's shape)", async () => {
    const d = workerDeployment(a, "v1:shared:general");
    const s = workerService(a, "v1:shared:general");
    expect(d.metadata.name, "A's workers are named under A's own prefix").to.match(new RegExp(`^mindroom-worker-${a.customer}-[0-9a-f]{24}$`));
    expect(d.metadata.name, "same worker key, another tenant: another name").to.not.equal(bWorker.metadata.name);
    for (const o of [d, s]) {
      const res = await create(a, o);
      expect(res.status, `create ${o.kind}: ${denied(res)}`).to.equal(201);
    }
    // patch_deployment: annotations merged, then scale to 0 (idle) and back; apply_service: the full manifest again.
    let res = await patch(a, d, { metadata: { annotations: { "mindroom.ai/worker-status": "ready" } } });
    expect(res.status, denied(res)).to.equal(200);
    res = await patch(a, d, { spec: { replicas: 0 } });
    expect(res.status, denied(res)).to.equal(200);
    res = await patch(a, d, { spec: { replicas: 1 } });
    expect(res.status, denied(res)).to.equal(200);
    res = await patch(a, s, s);
    expect(res.status, denied(res)).to.equal(200);
    // _recreate_deployment: delete, then create again.
    for (const o of [d, s]) {
      res = await remove(a, o);
      expect(res.status, `delete ${o.kind}: ${denied(res)}`).to.equal(200);
    }
    res = await create(a, d);
    expect(res.status, denied(res)).to.equal(201);
  });

  it("control without the policy: tenant C's worker manager (same Role) may create B-labelled, privileged host pods mounting B's Secret and PVC, and delete B's worker", async () => {
    const attack = workerDeployment(c, "control");
    const pod = attack.spec.template.spec;
    pod.volumes.push({ name: "loot", secret: { secretName: b.env.AUTH_SECRET_NAME } }, { name: "host", hostPath: { path: "/" } });
    pod.volumes[0].persistentVolumeClaim.claimName = b.env.STORAGE_PVC_NAME;
    Object.assign(pod, { hostNetwork: true, hostPID: true, nodeName: "control-plane-1", serviceAccountName: `mindroom-worker-manager-${b.customer}`, automountServiceAccountToken: true });
    pod.containers[0].securityContext = { privileged: true };
    for (const l of [attack.metadata.labels, attack.spec.selector.matchLabels, attack.spec.template.metadata.labels]) l.customer = b.customer;
    let res = await create(c, attack);
    expect(res.status, `the Role alone admits it: ${denied(res)}`).to.equal(201);
    await apiRequest(adminTarget(), "DELETE", path(attack));
    // Deleting another tenant's worker: a throw-away one of B's, so the attacks below still have their target.
    const victim = workerDeployment(b, "control-victim");
    res = await create(b, victim);
    expect(res.status, denied(res)).to.equal(201);
    res = await remove(c, victim);
    expect(res.status, `the Role alone lets C delete B's worker: ${denied(res)}`).to.equal(200);
  });

  // Each attack is A's legitimate worker with one change; the refusal names the rule it breaks.
  const attacks: { name: string; rule: RegExp; change: (d: Loose) => void }[] = [
    {
      name: "mounts B's worker-auth Secret as a volume",
      rule: /worker volumes may only be/,
      change: (d) => d.spec.template.spec.volumes.push({ name: "loot", secret: { secretName: b.env.AUTH_SECRET_NAME } }),
    },
    {
      name: "mounts B's tenant Secret (mindroom-api-keys) as a volume",
      rule: /worker volumes may only be/,
      change: (d) => d.spec.template.spec.volumes.push({ name: "loot", secret: { secretName: `mindroom-api-keys-${b.customer}` } }),
    },
    {
      name: "reads B's worker token through an env secretKeyRef",
      rule: /worker env may reference only Secret/,
      change: (d) => d.spec.template.spec.containers[0].env.push({ name: "LOOT", valueFrom: { secretKeyRef: { name: b.env.AUTH_SECRET_NAME, key: bWorker.metadata.name } } }),
    },
    {
      name: "imports B's tenant Secret with envFrom",
      rule: /worker env may reference only Secret/,
      change: (d) => (d.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: `mindroom-api-keys-${b.customer}` } }]),
    },
    {
      name: "mounts B's storage PVC",
      rule: /worker volumes may only be/,
      change: (d) => (d.spec.template.spec.volumes[0].persistentVolumeClaim.claimName = b.env.STORAGE_PVC_NAME),
    },
    {
      name: "mounts B's Synapse ConfigMap (macaroon and form secrets)",
      rule: /worker volumes may only be/,
      change: (d) => (d.spec.template.spec.volumes[1].configMap.name = `synapse-config-${b.customer}`),
    },
    {
      name: "mounts a ServiceAccount token through a projected volume",
      rule: /worker volumes may only be/,
      change: (d) => d.spec.template.spec.volumes.push({ name: "token", projected: { sources: [{ serviceAccountToken: { path: "token" } }] } }),
    },
    {
      name: "runs as B's worker-manager ServiceAccount",
      rule: /run as ServiceAccount default with automountServiceAccountToken: false/,
      change: (d) => (d.spec.template.spec.serviceAccountName = `mindroom-worker-manager-${b.customer}`),
    },
    {
      name: "runs as A's own worker-manager ServiceAccount with its token mounted",
      rule: /run as ServiceAccount default with automountServiceAccountToken: false/,
      change: (d) => Object.assign(d.spec.template.spec, { serviceAccountName: `mindroom-worker-manager-${a.customer}`, automountServiceAccountToken: true }),
    },
    {
      name: "carries label customer=B (object, selector and pods)",
      rule: /worker objects must carry the labels customer=/,
      change: (d) => {
        for (const l of [d.metadata.labels, d.spec.selector.matchLabels, d.spec.template.metadata.labels]) l.customer = b.customer;
      },
    },
    {
      name: "labels only its pods customer=B (B's NetworkPolicy would admit them)",
      rule: /select and label their pods customer=/,
      change: (d) => {
        for (const l of [d.spec.selector.matchLabels, d.spec.template.metadata.labels]) l.customer = b.customer;
      },
    },
    {
      name: "takes a name outside A's prefix (B's main Deployment name)",
      rule: /worker names must be mindroom-worker-9301-<24 hex characters>/,
      change: (d) => (d.metadata.name = `mindroom-${b.customer}-x`),
    },
    {
      name: "runs a privileged container",
      rule: /worker containers must set allowPrivilegeEscalation: false and must not be privileged/,
      change: (d) => (d.spec.template.spec.containers[0].securityContext = { privileged: true, allowPrivilegeEscalation: true }),
    },
    {
      name: "adds CAP_SYS_ADMIN",
      rule: /must not be privileged, add capabilities/,
      change: (d) => (d.spec.template.spec.containers[0].securityContext.capabilities = { add: ["SYS_ADMIN"] }),
    },
    {
      name: "runs as root",
      rule: /worker pods must set runAsNonRoot: true/,
      change: (d) => Object.assign(d.spec.template.spec.securityContext, { runAsUser: 0, runAsNonRoot: false }),
    },
    {
      name: "mounts the node's root filesystem (hostPath /)",
      rule: /worker volumes may only be/,
      change: (d) => d.spec.template.spec.volumes.push({ name: "host", hostPath: { path: "/" } }),
    },
    {
      name: "joins the host network",
      rule: /must not use the host's network, PID or IPC namespace/,
      change: (d) => (d.spec.template.spec.hostNetwork = true),
    },
    {
      name: "joins the host PID namespace",
      rule: /must not use the host's network, PID or IPC namespace/,
      change: (d) => (d.spec.template.spec.hostPID = true),
    },
    {
      name: "binds a host port",
      rule: /use host ports/,
      change: (d) => (d.spec.template.spec.containers[0].ports[0].hostPort = 10250),
    },
    {
      name: "pins itself to the control-plane node (nodeName other than controlPlaneNodeName)",
      rule: /nor choose their node \(nodeName only node-1/,
      change: (d) => (d.spec.template.spec.nodeName = "control-plane-1"),
    },
    {
      name: "tolerates the control plane's taints and selects it",
      rule: /nor choose their node/,
      change: (d) => Object.assign(d.spec.template.spec, {
        nodeSelector: { "node-role.kubernetes.io/control-plane": "true" },
        tolerations: [{ operator: "Exists" }],
      }),
    },
    {
      name: "blocks B's deletion with an owner reference to B's Deployment",
      rule: /workers may be owned only by Deployment mindroom-9301/,
      change: (d) => (d.metadata.ownerReferences = [{ apiVersion: "apps/v1", kind: "Deployment", name: `mindroom-${b.customer}`, uid: b.ownerUid, blockOwnerDeletion: true }]),
    },
    {
      name: "scales to 50 replicas",
      rule: /at most 1 replica/,
      change: (d) => (d.spec.replicas = 50),
    },
    {
      name: "runs a container without limits",
      rule: /must set CPU and memory limits/,
      change: (d) => delete d.spec.template.spec.containers[0].resources.limits,
    },
  ];

  for (const attack of attacks) {
    it(`as A's worker manager: a Deployment that ${attack.name} is refused`, async () => {
      const d = workerDeployment(a, `attack:${attack.name}`);
      attack.change(d);
      expectRefused(await create(a, d), attack.rule);
    });
  }

  it("as A's worker manager: Services of B's shape (NodePort, externalIPs, selecting customer=B, customer=B) are refused", async () => {
    const nodePort = workerService(a, "svc-nodeport");
    nodePort.spec.type = "NodePort";
    expectRefused(await create(a, nodePort), /worker Services must be ClusterIP/);
    const external = workerService(a, "svc-external");
    external.spec.externalIPs = ["10.0.0.1"];
    expectRefused(await create(a, external), /worker Services must be ClusterIP/);
    const selectsB = workerService(a, "svc-selects-b");
    selectsB.spec.selector = { ...bService.spec.selector };
    expectRefused(await create(a, selectsB), /worker Services must be ClusterIP, without externalIPs, selecting customer=9301/);
    const labelledB = workerService(a, "svc-labelled-b");
    labelledB.metadata.labels.customer = b.customer;
    expectRefused(await create(a, labelledB), /worker objects must carry the labels customer=9301/);
  });

  it("as A's worker manager: patching B's worker Deployment (scale, pod spec) and Service is refused", async () => {
    expectRefused(await patch(a, bWorker, { spec: { replicas: 0 } }), /may change or delete only its own workers/);
    expectRefused(await patch(a, bWorker, { spec: { template: { spec: { containers: [{ name: "sandbox-runner", image: "attacker/image" }] } } } }), /may change or delete only its own workers/);
    expectRefused(await patch(a, bWorker, { metadata: { labels: { customer: a.customer } } }), /may change or delete only its own workers/);
    expectRefused(await patch(a, bService, { spec: { selector: { customer: a.customer } } }), /may change or delete only its own workers/);
  });

  it("as A's worker manager: deleting B's worker Deployment and Service is refused; both are still there", async () => {
    expectRefused(await remove(a, bWorker), /may change or delete only its own workers/);
    expectRefused(await remove(a, bService), /may change or delete only its own workers/);
    for (const o of [bWorker, bService]) {
      const live = await apiRequest(adminTarget(), "GET", path(o));
      expect(live.status, id(o as Obj)).to.equal(200);
      expect(live.body.spec.replicas ?? 1, id(o as Obj)).to.equal(1);
    }
  });

  it("as A's worker manager: A's own MindRoom Deployment and Service (not workers) cannot be patched or deleted either", async () => {
    const own = a.objects.find((o) => o.kind === "Deployment" && o.metadata.name === `mindroom-${a.customer}`) as Obj;
    expectRefused(await patch(a, own, { spec: { template: { spec: { hostNetwork: true } } } }), /may change or delete only its own workers/);
    expectRefused(await remove(a, own), /may change or delete only its own workers/);
    expectRefused(await remove(a, { kind: "Service", metadata: { name: `synapse-${a.customer}` } }), /may change or delete only its own workers/);
  });

  it("as A's worker manager: A's own worker cannot be turned into an attack by a patch", async () => {
    const d = workerDeployment(a, "v1:patched");
    let res = await create(a, d);
    expect(res.status, denied(res)).to.equal(201);
    res = await patch(a, d, { spec: { template: { spec: { volumes: [...d.spec.template.spec.volumes, { name: "loot", secret: { secretName: b.env.AUTH_SECRET_NAME } }] } } } });
    expectRefused(res, /worker volumes may only be/);
    res = await patch(a, d, { metadata: { labels: { customer: b.customer } } });
    expectRefused(res, /worker objects must carry the labels customer=9301/);
  });

  it("other subjects are not matched: the admin (and so the provisioner's stack) still manages the tenant's objects", async () => {
    const res = await apiRequest(adminTarget(), "PATCH", `${DEPLOYMENTS}/mindroom-${a.customer}`, { metadata: { annotations: { "engine-test": "ok" } } }, "application/merge-patch+json");
    expect(res.status, denied(res)).to.equal(200);
  });
});
