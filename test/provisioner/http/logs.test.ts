/**
 * `GET /system/instances/{id}/logs` over real HTTP with the fake kube port: container → Deployment,
 * query validation (422 naming the field), 404/503/401, the newest running pod in `X-Pod`, and
 * `follow=true` streaming that ends the upstream stream when the client goes away.
 */
import { expect } from "chai";
import { AUTH, call, startHarness, type Harness } from "./harness";

const LOG = "line 1\nline 2\nline 3\n";

describe("provisioner HTTP: GET /system/instances/{id}/logs", () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  /** Tenant 7 with one running pod per Deployment. */
  const tenant = (id = "7", mindroom = LOG, synapse = "synapse says hi\n") => {
    h.kube.deployments.set(`mindroom-${id}`, { replicas: 1, rolledOut: true });
    h.kube.deployments.set(`synapse-${id}`, { replicas: 1, rolledOut: true });
    return {
      mindroom: h.kube.addPod(`mindroom-${id}`, { logs: { "wait-for-synapse": "waiting\n", mindroom } }),
      synapse: h.kube.addPod(`synapse-${id}`, { logs: { synapse } }),
    };
  };

  const until = async (cond: () => boolean, what: string) => {
    const deadline = Date.now() + 3000;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };

  it("answers the mindroom container's log as text/plain by default, with tail 200 and the pod in X-Pod", async () => {
    const pods = tenant();
    const res = await call(h, "GET", "/system/instances/7/logs");
    expect(res.status).to.equal(200);
    expect(res.body).to.equal(LOG);
    expect(res.headers.get("content-type")).to.equal("text/plain; charset=utf-8");
    expect(res.headers.get("x-pod")).to.equal(pods.mindroom);
    expect(res.headers.get("x-container")).to.equal("mindroom");
    expect(res.headers.get("cache-control")).to.equal("no-store");
    expect(h.kube.logRequests).to.have.length(1);
    expect(h.kube.logRequests[0]).to.include({ deployment: "mindroom-7", container: "mindroom", tailLines: 200, sinceSeconds: undefined, follow: false, pod: pods.mindroom });
  });

  it("maps each container to its Deployment and passes tail and since through", async () => {
    const pods = tenant();
    const synapse = await call(h, "GET", "/system/instances/7/logs?container=synapse&tail=1&since=2h");
    expect(synapse.status).to.equal(200);
    expect(synapse.body).to.equal("synapse says hi\n");
    expect(synapse.headers.get("x-pod")).to.equal(pods.synapse);
    expect(h.kube.logRequests.at(-1)).to.include({ deployment: "synapse-7", container: "synapse", tailLines: 1, sinceSeconds: 7200 });
    const tail = await call(h, "GET", "/system/instances/7/logs?tail=2&since=30s");
    expect(tail.body).to.equal("line 2\nline 3\n");
    expect(h.kube.logRequests.at(-1)).to.include({ tailLines: 2, sinceSeconds: 30 });
    await call(h, "GET", "/system/instances/7/logs?since=1h30m&tail=10000");
    expect(h.kube.logRequests.at(-1)).to.include({ tailLines: 10000, sinceSeconds: 5400 });
    const init = await call(h, "GET", "/system/instances/7/logs?container=wait-for-synapse");
    expect(init.body).to.equal("waiting\n");
    expect(h.kube.logRequests.at(-1)).to.include({ deployment: "mindroom-7", container: "wait-for-synapse" });
  });

  it("several pods (rolling update): the newest running one, or the one named by ?pod=", async () => {
    tenant("8", "old pod\n");
    const starting = h.kube.addPod("mindroom-8", { logs: { mindroom: "" }, running: false });
    const old = [...h.kube.pods].find(([, p]) => p.deployment === "mindroom-8" && p.running)![0];
    expect((await call(h, "GET", "/system/instances/8/logs")).headers.get("x-pod")).to.equal(old);
    const fresh = h.kube.addPod("mindroom-8", { logs: { mindroom: "new pod\n" } });
    const res = await call(h, "GET", "/system/instances/8/logs");
    expect(res.headers.get("x-pod")).to.equal(fresh);
    expect(res.body).to.equal("new pod\n");
    const named = await call(h, "GET", `/system/instances/8/logs?pod=${old}`);
    expect(named.headers.get("x-pod")).to.equal(old);
    expect(named.body).to.equal("old pod\n");
    expect((await call(h, "GET", `/system/instances/8/logs?pod=${starting}`)).status).to.equal(200);
  });

  it("422 for bad tail, since, container, follow or pod, naming the field, before Kubernetes is asked", async () => {
    tenant();
    const cases: [string, string, RegExp][] = [
      ["tail=0", "tail", /at least 1/],
      ["tail=10001", "tail", /at most 10000/],
      ["tail=abc", "tail", /whole number/],
      ["tail=-5", "tail", /whole number/],
      ["since=5x", "since", /30s, 10m, 2h/],
      ["since=0s", "since", /duration/],
      ["since=", "since", /duration/],
      ["container=nginx", "container", /mindroom, sandbox-runner, wait-for-synapse, synapse/],
      ["container=mindroom&container=synapse", "container", /one of/],
      ["follow=maybe", "follow", /true or false/],
      ["pod=Not_A_Pod", "pod", /pod name/],
    ];
    for (const [query, field, msg] of cases) {
      const res = await call(h, "GET", `/system/instances/7/logs?${query}`);
      expect(res.status, query).to.equal(422);
      const detail = res.body.detail as { loc: string[]; msg: string; type: string }[];
      expect(detail, query).to.have.length(1);
      expect(detail[0].loc, query).to.deep.equal(["query", field]);
      expect(detail[0].msg, query).to.match(msg);
      expect(detail[0].type, query).to.be.a("string");
    }
    const badId = await call(h, "GET", "/system/instances/abc/logs");
    expect(badId.status).to.equal(422);
    expect((badId.body.detail as { loc: string[] }[])[0].loc).to.deep.equal(["path", "instance_id"]);
    expect(h.kube.logRequests).to.have.length(0);
  });

  it("404 with {detail} for an unknown instance, a stopped one (no pod), an absent container or a pod of another Deployment", async () => {
    const unknown = await call(h, "GET", "/system/instances/9/logs");
    expect(unknown.status).to.equal(404);
    expect(unknown.body).to.deep.equal({ detail: "Instance 9 has no log to show: deployment/mindroom-9 not found" });
    const pods = tenant();
    await h.kube.scale("mindroom-7", 0);
    const stopped = await call(h, "GET", "/system/instances/7/logs");
    expect(stopped.status).to.equal(404);
    expect(stopped.body.detail).to.equal("Instance 7 has no log to show: deployment/mindroom-7 has no pod");
    await h.kube.scale("mindroom-7", 1);
    const runner = await call(h, "GET", "/system/instances/7/logs?container=sandbox-runner");
    expect(runner.status).to.equal(404);
    expect(runner.body.detail).to.match(/has no container sandbox-runner/);
    const foreign = await call(h, "GET", `/system/instances/7/logs?pod=${pods.synapse}`);
    expect(foreign.status).to.equal(404);
    expect(foreign.body.detail).to.include(`pod ${pods.synapse} is not a pod of deployment/mindroom-7`);
  });

  it("500 with a one-line detail when Kubernetes fails", async () => {
    tenant();
    h.kube.failOn.set("podLogs:mindroom-7", new Error("listing pods of deployment/mindroom-7 failed: HTTP 403: forbidden\nsecond line"));
    const res = await call(h, "GET", "/system/instances/7/logs");
    expect(res.status).to.equal(500);
    expect(res.body).to.deep.equal({ detail: "Failed to read the logs of instance 7: listing pods of deployment/mindroom-7 failed: HTTP 403: forbidden" });
  });

  it("401 without the bearer, before Kubernetes is asked", async () => {
    tenant();
    const res = await call(h, "GET", "/system/instances/7/logs", { headers: { Authorization: "" } });
    expect(res.status).to.equal(401);
    expect(res.body).to.deep.equal({ detail: "Unauthorized" });
    expect(h.kube.calls.filter((c) => c.startsWith("podLogs"))).to.deep.equal([]);
  });

  it("503 without Kubernetes credentials, like start/stop", async () => {
    await h.close();
    const reason = "Kubernetes API unavailable: no Kubernetes credentials found; set KUBECONFIG or run in the cluster";
    h = await startHarness({ deps: { kubeUnavailable: reason } });
    const res = await call(h, "GET", "/system/instances/7/logs");
    expect(res.status).to.equal(503);
    expect(res.body).to.deep.equal({ detail: `Instance logs are not available in this environment: ${reason}` });
  });

  it("follow=true streams new lines as they come and stops the upstream stream when the client disconnects", async () => {
    const pods = tenant();
    const client = new AbortController();
    const res = await fetch(`${h.url}/system/instances/7/logs?follow=true&tail=1`, { headers: AUTH, signal: client.signal });
    expect(res.status).to.equal(200);
    expect(res.headers.get("x-pod")).to.equal(pods.mindroom);
    expect(res.headers.get("x-accel-buffering")).to.equal("no");
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let seen = "";
    const readUntil = async (text: string) => {
      while (!seen.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended before ${JSON.stringify(text)}; got ${JSON.stringify(seen)}`);
        seen += decoder.decode(value, { stream: true });
      }
    };
    await readUntil("line 3\n");
    expect(seen).to.equal("line 3\n");
    const upstream = h.kube.following(pods.mindroom, "mindroom")!;
    expect(upstream).to.include({ follow: true, tailLines: 1, aborted: false });
    upstream.stream.write("line 4\n");
    await readUntil("line 4\n");
    upstream.stream.write("sk-secret-in-a-log-line-0123456789\n");
    await readUntil("sk-secret");
    client.abort();
    await until(() => upstream.aborted, "the upstream log stream to be aborted");
    expect(upstream.stream.destroyed || upstream.stream.writableEnded).to.equal(true);
    // Log lines (which may carry secrets) never reach the provisioner's own log.
    expect(h.kube.logRequests).to.have.length(1);
    expect(h.log.text()).to.not.include("sk-secret");
    expect(h.log.text()).to.not.include("line 4");
  });

  it("follow=true ends the response when the pod's log ends", async () => {
    const pods = tenant();
    const pending = call(h, "GET", "/system/instances/7/logs?follow=true");
    await until(() => h.kube.following(pods.mindroom, "mindroom") !== undefined, "the follow request");
    const upstream = h.kube.following(pods.mindroom, "mindroom")!;
    upstream.stream.end("bye\n");
    const res = await pending;
    expect(res.status).to.equal(200);
    expect(res.body).to.equal(`${LOG}bye\n`);
    expect(upstream.aborted).to.equal(false);
  });

  it("a broken upstream stream cuts the connection (no clean end) and logs one line without log content", async () => {
    const pods = tenant();
    const res = await fetch(`${h.url}/system/instances/7/logs?follow=true`, { headers: AUTH });
    const reader = res.body!.getReader();
    await reader.read();
    const upstream = h.kube.following(pods.mindroom, "mindroom")!;
    upstream.stream.destroy(new Error("reading the log of pod/x container mindroom failed: socket hang up"));
    let failed = false;
    try {
      for (;;) if ((await reader.read()).done) break;
    } catch {
      failed = true;
    }
    expect(failed, "the client sees an incomplete response").to.equal(true);
    await until(() => h.log.text().includes("broke"), "the warning");
    const warn = h.log.lines.find((l) => l.msg.includes("broke"))!;
    expect(warn.level).to.equal("warn");
    expect(warn.obj).to.deep.equal({ instance_id: "7", pod: pods.mindroom, container: "mindroom" });
    expect(h.log.text()).to.not.include("line 1");
  });

  it("is in the OpenAPI document with its query parameters and text/plain answer", async () => {
    type Op = { parameters: { name: string; in: string; schema: Record<string, unknown> }[]; responses: Record<string, { content?: Record<string, unknown> }> };
    const doc = (await (await fetch(`${h.url}/openapi.json`)).json()) as { paths: Record<string, { get: Op }> };
    const op = doc.paths["/system/instances/{instance_id}/logs"].get;
    expect(op.parameters.map((p) => `${p.in}:${p.name}`)).to.deep.equal(["path:instance_id", "query:container", "query:tail", "query:since", "query:follow", "query:pod"]);
    expect(op.parameters[1].schema.enum).to.deep.equal(["mindroom", "sandbox-runner", "wait-for-synapse", "synapse"]);
    expect(op.parameters[2].schema).to.include({ minimum: 1, maximum: 10000, default: 200 });
    expect(Object.keys(op.responses["200"].content!)).to.deep.equal(["text/plain"]);
    expect(op.responses).to.include.keys("401", "404", "422", "503");
  });

  it("tenants applied by the fake stacks come with one pod per Deployment; stop → 404, start → a new pod", async () => {
    h.kube.applyTenant("5", {});
    const logs = await call(h, "GET", "/system/instances/5/logs?container=synapse");
    expect(logs.status).to.equal(200);
    expect(logs.headers.get("x-pod")).to.match(/^synapse-5-/);
    await h.kube.scale("synapse-5", 0);
    expect((await call(h, "GET", "/system/instances/5/logs?container=synapse")).status).to.equal(404);
    await h.kube.scale("synapse-5", 1);
    const again = await call(h, "GET", "/system/instances/5/logs?container=synapse");
    expect(again.status).to.equal(200);
    expect(again.headers.get("x-pod")).to.not.equal(logs.headers.get("x-pod"));
    h.kube.destroyTenant("5");
    expect((await call(h, "GET", "/system/instances/5/logs")).status).to.equal(404);
  });
});
