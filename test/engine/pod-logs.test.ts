/**
 * Tenant logs on a real API server, as the platform's provisioner ServiceAccount (its token, bound
 * to the rendered Role `platform-backend`): it may list pods and get `pods/log` in
 * mindroom-instances, and nowhere else, and may not exec into a pod.
 *
 * No kubelet runs here, so the API server could not serve a log's bytes by itself: a stand-in
 * kubelet (HTTPS on 127.0.0.1, behind a Node object that points at it) answers
 * `/containerLogs/...`, and the API server proxies to it exactly as it would to a real node. The
 * pods are created by the admin from the rendered tenant Deployment's template (no controller
 * manager), their status set by hand. So RBAC, the API server's log proxy, the adapter's pod
 * choice and query, and the route's streaming are real; what the kubelet would read from a
 * container runtime is not.
 */
import { expect } from "chai";
import * as k8s from "@kubernetes/client-node";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { createTenantKube } from "../../provisioner/kube";
import { PodNotFound, type TenantKube } from "../../provisioner/ports";
import { AUTH, startHarness } from "../provisioner/http/harness";
import { apiRequest } from "./support/api";
import { apply, applyAll, removeAll, render, statusOf, type Obj } from "./support/apply";
import { sharedCluster, type Cluster } from "./support/cluster";
import { prepare } from "./support/prepare";

const FIXTURES = join(__dirname, "../fixtures");
const TENANTS = "mindroom-instances";
const CONTROL_NS = "engine-logs-control";
const NODE = "engine-logs-node";
const ADMIN = "mindroom-engine-logs-admin";
const CUSTOMER = 9401;

interface KubeletCall {
  path: string;
  query: URLSearchParams;
  res: ServerResponse;
  closed: boolean;
}

const until = async (cond: () => boolean, what: string, ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe("engine: tenant logs (provisioner ServiceAccount, pods/log through the API server)", () => {
  let cluster: Cluster;
  let admin: k8s.KubeConfig;
  let dir: string;
  let kubelet: Server;
  let kubeletCalls: KubeletCall[];
  let token: string;
  let platformObjects: Obj[] | undefined;
  let provisionerKubeconfig: string;
  let kube: TenantKube;
  const pods = { old: "mindroom-9401-aaaaa", current: "mindroom-9401-bbbbb", pending: "mindroom-9401-ccccc", control: "other-app-ddddd" };

  before(async function () {
    this.timeout(180_000);
    cluster = await sharedCluster();
    admin = cluster.kubeConfig();
    dir = mkdtempSync(join(tmpdir(), "engine-logs-"));

    // The stand-in kubelet: a self-signed HTTPS server (the test API server verifies no kubelet CA).
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"), "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
    ], { stdio: "ignore" });
    kubeletCalls = [];
    kubelet = createServer({ key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) }, (req, res) => {
      const url = new URL(req.url ?? "/", "https://x");
      const call: KubeletCall = { path: url.pathname, query: url.searchParams, res, closed: false };
      kubeletCalls.push(call);
      res.once("close", () => (call.closed = true));
      const [, kind, , pod, container] = url.pathname.split("/");
      if (kind !== "containerLogs") return void res.writeHead(404).end();
      res.writeHead(200, { "Content-Type": "text/plain" });
      const lines = Array.from({ length: 10 }, (_, i) => `${pod}/${container} line ${i + 1}\n`);
      const tail = Number(url.searchParams.get("tailLines") ?? lines.length);
      res.write(lines.slice(-tail).join(""));
      if (url.searchParams.get("follow") !== "true") res.end();
    });
    await new Promise<void>((r) => kubelet.listen(0, "127.0.0.1", r));
    const kubeletPort = (kubelet.address() as AddressInfo).port;

    const tenantValues = join(dir, "tenant.yaml");
    writeFileSync(tenantValues, JSON.stringify({ customer: CUSTOMER, instanceSecrets: { create: true, name: `mindroom-api-keys-${CUSTOMER}` } }));
    const [platform, tenant] = await Promise.all([render("platform", [join(FIXTURES, "platform/production.yaml")]), render("instance", [join(FIXTURES, "instance/tenant.yaml"), tenantValues])]);
    platformObjects = platform;
    await prepare(admin, [...platform, ...tenant, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: CONTROL_NS } }]);
    expect(await applyAll(admin, platform, ADMIN), "platform objects the API server rejected").to.deep.equal([]);
    const provisioner = platform.find((o) => o.kind === "Deployment" && o.metadata.name === "mindroom-provisioner")!;
    token = await cluster.serviceAccountToken(provisioner.metadata.namespace!, provisioner.spec.template.spec.serviceAccountName as string);
    provisionerKubeconfig = JSON.stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "engine", cluster: { server: cluster.server, "certificate-authority-data": Buffer.from(cluster.ca).toString("base64") } }],
      users: [{ name: "provisioner", user: { token } }],
      contexts: [{ name: "engine", context: { cluster: "engine", user: "provisioner" } }],
      "current-context": "engine",
    });
    kube = createTenantKube({ kubeconfig: provisionerKubeconfig });

    // A Node that sends the API server's log requests to the stand-in kubelet.
    const core = admin.makeApiClient(k8s.CoreV1Api);
    await apply(admin, { apiVersion: "v1", kind: "Node", metadata: { name: NODE } }, ADMIN);
    await core.patchNodeStatus(
      { name: NODE, body: { status: { addresses: [{ type: "InternalIP", address: "127.0.0.1" }], daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } } } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );

    // The rendered tenant Deployments, and pods made from their templates as a ReplicaSet would.
    const deployments = tenant.filter((o) => o.kind === "Deployment");
    expect(deployments.map((d) => d.metadata.name).sort()).to.deep.equal([`mindroom-${CUSTOMER}`, `synapse-${CUSTOMER}`]);
    for (const ns of [TENANTS, CONTROL_NS]) await apply(admin, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: ns } }, ADMIN);
    expect(await applyAll(admin, deployments, ADMIN)).to.deep.equal([]);
    const mindroom = deployments.find((d) => d.metadata.name === `mindroom-${CUSTOMER}`)!;
    const synapse = deployments.find((d) => d.metadata.name === `synapse-${CUSTOMER}`)!;
    const running = (spec: Obj["spec"]) => ({
      phase: "Running",
      initContainerStatuses: (spec.initContainers ?? []).map((c: { name: string; image: string }) => ({ name: c.name, image: c.image, imageID: "", ready: true, restartCount: 0, state: { terminated: { exitCode: 0, reason: "Completed" } } })),
      containerStatuses: spec.containers.map((c: { name: string; image: string }) => ({ name: c.name, image: c.image, imageID: "", ready: true, restartCount: 0, state: { running: { startedAt: new Date().toISOString() } } })),
    });
    const podOf = async (d: Obj, name: string, namespace: string, status: "running" | "pending", labels = d.spec.template.metadata.labels) => {
      const spec = { ...d.spec.template.spec, nodeName: NODE };
      const body = { apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels }, spec };
      await core.createNamespacedPod({ namespace, body: body as k8s.V1Pod });
      const podStatus = status === "running" ? running(spec) : { phase: "Pending", containerStatuses: spec.containers.map((c: { name: string; image: string }) => ({ name: c.name, image: c.image, imageID: "", ready: false, restartCount: 0, state: { waiting: { reason: "ContainerCreating" } } })) };
      await core.patchNamespacedPodStatus({ name, namespace, body: { status: podStatus } }, k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch));
    };
    // Rolling update: an old running pod, a newer running one, and the newest still starting.
    // creationTimestamp has one-second resolution: wait so "newer" is visible to the API.
    await podOf(mindroom, pods.old, TENANTS, "running");
    await new Promise((r) => setTimeout(r, 1100));
    await podOf(mindroom, pods.current, TENANTS, "running");
    await new Promise((r) => setTimeout(r, 1100));
    await podOf(mindroom, pods.pending, TENANTS, "pending");
    await podOf(synapse, `synapse-${CUSTOMER}-eeeee`, TENANTS, "running");
    await podOf(synapse, pods.control, CONTROL_NS, "running", { app: "other" });
  });
  after(async () => {
    // The shared control plane outlives this file: no pods or Node of ours stay behind (no kubelet confirms a graceful delete).
    const core = admin.makeApiClient(k8s.CoreV1Api);
    for (const [namespace, name] of [...[pods.old, pods.current, pods.pending, `synapse-${CUSTOMER}-eeeee`].map((n) => [TENANTS, n]), [CONTROL_NS, pods.control]]) {
      await core.deleteNamespacedPod({ namespace, name, gracePeriodSeconds: 0 }).catch(() => undefined);
    }
    await core.deleteNode({ name: NODE }).catch(() => undefined);
    // The platform's RBAC in mindroom-instances: the root project's own platform writes the same names.
    if (platformObjects) await removeAll(admin, platformObjects.filter((o) => o.metadata.namespace === TENANTS));
    kubelet?.closeAllConnections();
    await new Promise((r) => kubelet?.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    kubeletCalls = [];
  });

  it("SelfSubjectAccessReview as the provisioner: list pods and get pods/log in mindroom-instances only; never pods/exec", async () => {
    const review = async (verb: string, resource: string, namespace: string, subresource?: string) => {
      const [group, plural] = resource.includes(".") ? [resource.split(".").slice(1).join("."), resource.split(".")[0]] : ["", resource];
      const res = await apiRequest({ server: cluster.server, ca: cluster.ca, token }, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", {
        apiVersion: "authorization.k8s.io/v1",
        kind: "SelfSubjectAccessReview",
        spec: { resourceAttributes: { namespace, verb, group, resource: plural, ...(subresource ? { subresource } : {}) } },
      });
      expect(res.status, res.text).to.equal(201);
      return res.body.status.allowed === true;
    };
    const table: [string, string, string, string | undefined, boolean][] = [
      ["list", "pods", TENANTS, undefined, true],
      ["get", "pods", TENANTS, undefined, true],
      ["get", "pods", TENANTS, "log", true],
      ["get", "deployments.apps", TENANTS, undefined, true],
      ["create", "pods", TENANTS, "exec", false],
      ["get", "pods", TENANTS, "exec", false],
      ["create", "pods", TENANTS, "attach", false],
      ["create", "pods", TENANTS, "portforward", false],
      ["create", "pods", TENANTS, undefined, false],
      ["delete", "pods", TENANTS, undefined, false],
      ["list", "pods", CONTROL_NS, undefined, false],
      ["get", "pods", CONTROL_NS, "log", false],
      ["get", "pods", "kube-system", "log", false],
      ["get", "pods", "mindroom-production", "log", false],
    ];
    const got = [];
    for (const [verb, resource, ns, sub] of table) got.push(await review(verb, resource, ns, sub));
    expect(got.map((allowed, i) => `${table[i][0]} ${table[i][1]}${table[i][3] ? `/${table[i][3]}` : ""} in ${table[i][2]}: ${allowed}`)).to.deep.equal(
      table.map(([verb, resource, ns, sub, allowed]) => `${verb} ${resource}${sub ? `/${sub}` : ""} in ${ns}: ${allowed}`),
    );
  });

  it("the adapter with the provisioner's token: the newest running pod's log, bytes proxied from the node, query passed to the kubelet", async () => {
    const { pod, stream } = await kube.podLogs(`mindroom-${CUSTOMER}`, { container: "mindroom", tailLines: 3, sinceSeconds: 600 });
    expect(pod).to.equal(pods.current);
    let text = "";
    for await (const chunk of stream) text += String(chunk);
    expect(text).to.equal([8, 9, 10].map((i) => `${pods.current}/mindroom line ${i}\n`).join(""));
    expect(kubeletCalls).to.have.length(1);
    expect(kubeletCalls[0].path).to.equal(`/containerLogs/${TENANTS}/${pods.current}/mindroom`);
    expect(kubeletCalls[0].query.get("tailLines")).to.equal("3");
    expect(kubeletCalls[0].query.get("sinceSeconds")).to.equal("600");
    const init = await kube.podLogs(`mindroom-${CUSTOMER}`, { container: "wait-for-synapse", pod: pods.old });
    expect(init.pod).to.equal(pods.old);
    init.stream.resume();
    await new Promise((r) => init.stream.once("end", r));
    expect(kubeletCalls[1].path).to.equal(`/containerLogs/${TENANTS}/${pods.old}/wait-for-synapse`);
    const err = await kube.podLogs(`mindroom-${CUSTOMER}`, { container: "mindroom", pod: pods.pending }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(PodNotFound);
    expect((err as Error).message).to.equal(`container mindroom of pod ${pods.pending} has not started yet (ContainerCreating)`);
  });

  it("GET /system/instances/{id}/logs?follow=true over the app with the real adapter: streams, and the kubelet's request ends when the client disconnects", async () => {
    const h = await startHarness({ deps: { kube } });
    try {
      const client = new AbortController();
      const res = await fetch(`${h.url}/system/instances/${CUSTOMER}/logs?container=synapse&tail=2&follow=true`, { headers: AUTH, signal: client.signal });
      expect(res.status).to.equal(200);
      expect(res.headers.get("x-pod")).to.equal(`synapse-${CUSTOMER}-eeeee`);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let seen = "";
      const readUntil = async (needle: string) => {
        while (!seen.includes(needle)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`ended before ${needle}: ${seen}`);
          seen += decoder.decode(value, { stream: true });
        }
      };
      await readUntil("line 10\n");
      expect(seen).to.equal(`synapse-${CUSTOMER}-eeeee/synapse line 9\nsynapse-${CUSTOMER}-eeeee/synapse line 10\n`);
      await until(() => kubeletCalls.length === 1, "the kubelet call");
      const upstream = kubeletCalls[0];
      expect(upstream.query.get("follow")).to.equal("true");
      upstream.res.write("a new line\n");
      await readUntil("a new line\n");
      client.abort();
      await until(() => upstream.closed, "the API server to close the kubelet request");
    } finally {
      await h.close();
    }
  });

  it("negative controls: the provisioner's token gets 403 for another namespace's pod log and pod list, and for pods/exec", async () => {
    const provisioner = new k8s.KubeConfig();
    provisioner.loadFromString(provisionerKubeconfig);
    const refused = await new k8s.Log(provisioner).log(CONTROL_NS, pods.control, "synapse", new PassThrough()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(statusOf(refused)).to.equal(403);
    const list = await provisioner.makeApiClient(k8s.CoreV1Api).listNamespacedPod({ namespace: CONTROL_NS }).catch((e: unknown) => e);
    expect(statusOf(list)).to.equal(403);
    // The admin reads the same log, so the 403 is RBAC, not a broken setup.
    const ok = new PassThrough();
    await new k8s.Log(admin).log(CONTROL_NS, pods.control, "synapse", ok, { tailLines: 1 });
    let text = "";
    for await (const chunk of ok) text += String(chunk);
    expect(text).to.equal(`${pods.control}/synapse line 10\n`);
    const exec = await apiRequest({ server: cluster.server, ca: cluster.ca, token }, "POST", `/api/v1/namespaces/${TENANTS}/pods/${pods.current}/exec?container=mindroom&command=id&stdout=true`);
    expect(exec.status, exec.text).to.equal(403);
    expect(exec.body.message).to.match(/cannot create resource "pods\/exec"/);
    expect(kubeletCalls.filter((c) => c.path.startsWith("/exec"))).to.deep.equal([]);
  });
});
