/**
 * `TenantKube.podLogs` against a fake Kubernetes API server: the Deployment's selector finds the
 * pods, the newest running one is read, the log query carries container/tailLines/sinceSeconds/
 * follow, the bytes stream through, and an abort or a consumer's destroy ends the upstream request.
 */
import { expect } from "chai";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import type { V1Pod } from "@kubernetes/client-node";
import { createTenantKube, KubeApiError, newestPod, notReadable, selectorString } from "../../../provisioner/kube";
import { PodNotFound, type TenantKube } from "../../../provisioner/ports";

const NS = "/api/v1/namespaces/mindroom-instances";
const DEPLOY = "/apis/apps/v1/namespaces/mindroom-instances/deployments";

interface Pod {
  name: string;
  created: string;
  phase?: string;
  containers?: string[];
  status?: Record<string, unknown>[];
  terminating?: boolean;
}

const pod = (p: Pod) => ({
  metadata: { name: p.name, namespace: "mindroom-instances", creationTimestamp: p.created, ...(p.terminating ? { deletionTimestamp: p.created } : {}) },
  spec: { initContainers: [{ name: "wait-for-synapse", image: "x" }], containers: (p.containers ?? ["mindroom"]).map((name) => ({ name, image: "x" })) },
  status: { phase: p.phase ?? "Running", containerStatuses: p.status ?? (p.containers ?? ["mindroom"]).map((name) => ({ name, state: { running: {} } })) },
});

/** As the client hands pods over (timestamps deserialized to Date objects). */
const v1 = (p: Pod) => {
  const o = pod(p);
  return { ...o, metadata: { ...o.metadata, creationTimestamp: new Date(p.created), deletionTimestamp: p.terminating ? new Date(p.created) : undefined } } as V1Pod;
};

const deployment = (name: string, selector: object) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name }, spec: { selector, template: {} } });

/** Read a stream to its end (or error). */
async function drain(stream: Readable): Promise<string> {
  let out = "";
  for await (const chunk of stream) out += String(chunk);
  return out;
}

const until = async (cond: () => boolean, what: string) => {
  const deadline = Date.now() + 3000;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
};

describe("provisioner/kube: podLogs against a fake Kubernetes API", () => {
  let server: Server;
  let kube: TenantKube;
  let seen: { path: string; query: URLSearchParams }[];
  let pods: Pod[];
  let selector: object;
  /** The log endpoint's behaviour for the current test. */
  let logHandler: (req: IncomingMessage, res: ServerResponse, query: URLSearchParams) => void;
  let logRequestClosed: boolean;

  before(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://x");
      seen.push({ path: url.pathname, query: url.searchParams });
      const json = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      if (url.pathname === `${DEPLOY}/mindroom-42`) return json(200, deployment("mindroom-42", selector));
      if (url.pathname.startsWith(`${DEPLOY}/`)) return json(404, { kind: "Status", message: "deployments.apps not found", reason: "NotFound", code: 404 });
      if (url.pathname === `${NS}/pods`) return json(200, { kind: "PodList", items: pods.map(pod) });
      if (/^\/api\/v1\/namespaces\/mindroom-instances\/pods\/[^/]+\/log$/.test(url.pathname)) {
        req.socket.once("close", () => (logRequestClosed = true));
        return logHandler(req, res, url.searchParams);
      }
      json(500, { message: "unexpected request" });
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const { port } = server.address() as AddressInfo;
    kube = createTenantKube({
      kubeconfig: [
        "apiVersion: v1",
        "kind: Config",
        `clusters: [{name: fake, cluster: {server: 'http://127.0.0.1:${port}', insecure-skip-tls-verify: true}}]`,
        "users: [{name: u, user: {token: test-token}}]",
        "contexts: [{name: c, context: {cluster: fake, user: u}}]",
        "current-context: c",
        "",
      ].join("\n"),
    });
  });
  after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    seen = [];
    selector = { matchLabels: { app: "mindroom", customer: "42" } };
    pods = [{ name: "mindroom-42-a", created: "2025-01-01T00:00:00Z" }];
    logRequestClosed = false;
    logHandler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("hello\nworld\n");
    };
  });

  it("lists the pods by the Deployment's selector and reads the newest running one with the query passed through", async () => {
    pods = [
      { name: "mindroom-42-old", created: "2025-01-01T00:00:00Z" },
      { name: "mindroom-42-new", created: "2025-01-02T00:00:00Z" },
      { name: "mindroom-42-newest-pending", created: "2025-01-03T00:00:00Z", phase: "Pending", status: [] },
    ];
    const { pod: name, stream } = await kube.podLogs("mindroom-42", { container: "mindroom", tailLines: 200, sinceSeconds: 600 });
    expect(name).to.equal("mindroom-42-new");
    expect(await drain(stream)).to.equal("hello\nworld\n");
    const list = seen.find((s) => s.path === `${NS}/pods`)!;
    expect(list.query.get("labelSelector")).to.equal("app=mindroom,customer=42");
    const log = seen.find((s) => s.path.endsWith("/log"))!;
    expect(log.path).to.equal(`${NS}/pods/mindroom-42-new/log`);
    expect(Object.fromEntries(log.query)).to.include({ container: "mindroom", tailLines: "200", sinceSeconds: "600", follow: "false" });
  });

  it("PodNotFound: no Deployment, no pod, a pod not of the Deployment, no such container, a container not started yet", async () => {
    const why = async (deploymentName: string, options: { container: string; pod?: string }) => {
      const err = await kube.podLogs(deploymentName, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, JSON.stringify(options)).to.be.instanceOf(PodNotFound);
      return (err as Error).message;
    };
    expect(await why("mindroom-9", { container: "mindroom" })).to.equal("deployment/mindroom-9 not found");
    expect(await why("mindroom-42", { container: "mindroom", pod: "synapse-42-x" })).to.equal("pod synapse-42-x is not a pod of deployment/mindroom-42");
    expect(await why("mindroom-42", { container: "sandbox-runner" })).to.equal("pod mindroom-42-a has no container sandbox-runner (it has wait-for-synapse, mindroom)");
    pods = [{ name: "mindroom-42-b", created: "2025-01-01T00:00:00Z", phase: "Pending", status: [{ name: "mindroom", state: { waiting: { reason: "ContainerCreating" } } }] }];
    expect(await why("mindroom-42", { container: "mindroom" })).to.equal("container mindroom of pod mindroom-42-b has not started yet (ContainerCreating)");
    expect(await why("mindroom-42", { container: "wait-for-synapse" })).to.equal("container wait-for-synapse of pod mindroom-42-b has not started yet (pod Pending)");
    pods = [];
    expect(await why("mindroom-42", { container: "mindroom" })).to.equal("deployment/mindroom-42 has no pod");
    expect(seen.some((s) => s.path.endsWith("/log"))).to.equal(false);
  });

  it("an API failure of the log request is a KubeApiError with its status", async () => {
    logHandler = (_req, res) => {
      res.writeHead(403, { "content-type": "application/json" });
      res.end(JSON.stringify({ kind: "Status", code: 403, message: "pods/log is forbidden" }));
    };
    const err = (await kube.podLogs("mindroom-42", { container: "mindroom" }).catch((e: unknown) => e)) as KubeApiError;
    expect(err).to.be.instanceOf(KubeApiError);
    expect(err.status).to.equal(403);
    expect(err.message).to.match(/^reading the log of pod\/mindroom-42-a container mindroom failed: HTTP 403/);
  });

  it("follow: chunks arrive as written; aborting the signal ends the stream quietly and closes the upstream request", async () => {
    let upstream!: ServerResponse;
    logHandler = (_req, res) => {
      upstream = res;
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
    };
    const abort = new AbortController();
    const { stream } = await kube.podLogs("mindroom-42", { container: "mindroom", follow: true, signal: abort.signal });
    expect(seen.find((s) => s.path.endsWith("/log"))!.query.get("follow")).to.equal("true");
    const chunks: string[] = [];
    stream.on("data", (c) => chunks.push(String(c)));
    const ended = new Promise<string>((resolve) => {
      stream.once("end", () => resolve("end"));
      stream.once("close", () => resolve("close"));
      stream.once("error", (e) => resolve(`error ${e.message}`));
    });
    await until(() => chunks.join("") === "first\n", "the first chunk");
    upstream.write("second\n");
    await until(() => chunks.join("") === "first\nsecond\n", "the second chunk");
    abort.abort();
    expect(await ended).to.not.match(/^error/);
    await until(() => logRequestClosed, "the upstream request to close");
  });

  it("follow: destroying the stream (the client went away) closes the upstream request too", async () => {
    logHandler = (_req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("first\n");
    };
    const { stream } = await kube.podLogs("mindroom-42", { container: "mindroom", follow: true });
    await new Promise((r) => stream.once("data", r));
    stream.destroy();
    await until(() => logRequestClosed, "the upstream request to close");
  });

  it("a connection that breaks mid-stream errors the stream with a KubeApiError (and does not crash the process)", async () => {
    logHandler = (req, res) => {
      res.writeHead(200, { "content-type": "text/plain" });
      res.write("partial\n", () => setTimeout(() => req.socket.destroy(), 20));
    };
    const { stream } = await kube.podLogs("mindroom-42", { container: "mindroom", follow: true });
    const err = await drain(stream).then(
      (text) => new Error(`ended cleanly with ${JSON.stringify(text)}`),
      (e: unknown) => e as Error,
    );
    expect(err).to.be.instanceOf(KubeApiError);
    expect(err.message).to.match(/^reading the log of pod\/mindroom-42-a container mindroom failed: /);
  });

  it("selectorString, newestPod and notReadable", () => {
    expect(
      selectorString({
        matchLabels: { app: "mindroom", customer: "42" },
        matchExpressions: [
          { key: "tier", operator: "In", values: ["a", "b"] },
          { key: "x", operator: "NotIn", values: ["c"] },
          { key: "y", operator: "Exists" },
          { key: "z", operator: "DoesNotExist" },
        ],
      }),
    ).to.equal("app=mindroom,customer=42,tier in (a,b),x notin (c),y,!z");
    expect(selectorString(undefined)).to.equal("");
    const running = v1({ name: "r", created: "2025-01-01T00:00:00Z" });
    const terminating = v1({ name: "t", created: "2025-01-03T00:00:00Z", terminating: true });
    const pending = v1({ name: "p", created: "2025-01-02T00:00:00Z", phase: "Pending", status: [] });
    expect(newestPod([running, terminating, pending])?.metadata?.name).to.equal("r");
    expect(newestPod([pending, terminating])?.metadata?.name).to.equal("t");
    expect(newestPod([])).to.equal(undefined);
    // A crash-looping container (waiting, with a terminated predecessor) shows the last run's log, as the kubelet does.
    const crashing = v1({ name: "c", created: "2025-01-01T00:00:00Z", status: [{ name: "mindroom", state: { waiting: { reason: "CrashLoopBackOff" } }, lastState: { terminated: { exitCode: 1 } } }] });
    expect(notReadable(crashing, "mindroom")).to.equal(undefined);
    expect(notReadable(running, "mindroom")).to.equal(undefined);
  });

  it("an empty selector is refused rather than reading another tenant's pod", async () => {
    selector = {};
    const err = (await kube.podLogs("mindroom-42", { container: "mindroom" }).catch((e: unknown) => e)) as Error;
    expect(err).to.be.instanceOf(KubeApiError);
    expect(err.message).to.equal("deployment/mindroom-42 has an empty selector");
    expect(seen.some((s) => s.path === `${NS}/pods`)).to.equal(false);
  });
});
