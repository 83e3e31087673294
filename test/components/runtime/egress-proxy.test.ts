/**
 * `egressProxy` (docs/runtime.md "External egress proxy" checklist, E1–E7): proxy env injected into
 * dedicated workers, the worker NetworkPolicy's egress rules (DNS, the proxy, extra), and the checks.
 */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { renderSqlite, runtime, find, envValue, envNames, type Obj } from "./helpers";
import { errorOf, refusedBeforeRegistering, valid } from "./feature-helpers";

const PROXY = { matchLabels: { app: "squid" } };
const ON = { workers: { backend: "kubernetes" }, egressProxy: { enabled: true, networkPolicy: { proxyPodSelector: PROXY } } };
const URL = "http://mindroom-egress-proxy.mindroom.svc.cluster.local:3128";
const DNS_RULE = {
  to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } }, podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }],
  ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }],
};

function workerEnv(r: Awaited<ReturnType<typeof renderSqlite>>): Record<string, string> | undefined {
  const json = envValue(runtime(r).mindroom, "MINDROOM_KUBERNETES_WORKER_ENV_JSON");
  return json === undefined ? undefined : (JSON.parse(json) as Record<string, string>);
}
const policy = (r: Awaited<ReturnType<typeof renderSqlite>>, ns = "mindroom"): Obj => {
  const np = find(r.objects, "NetworkPolicy", "mindroom-runtime-workers");
  expect(np.metadata?.namespace).to.equal(ns);
  return np;
};

describe("runtime egressProxy", () => {
  it("E1 workers get HTTP(S)_PROXY, ALL_PROXY (both cases) and NO_PROXY through MINDROOM_KUBERNETES_WORKER_ENV_JSON", async () => {
    const r = await renderSqlite(ON);
    validateKubeObjects(r.objects);
    expect(workerEnv(r)).to.deep.equal({
      HTTP_PROXY: URL,
      HTTPS_PROXY: URL,
      ALL_PROXY: URL,
      http_proxy: URL,
      https_proxy: URL,
      all_proxy: URL,
      NO_PROXY: "localhost,127.0.0.1,::1",
      no_proxy: "localhost,127.0.0.1,::1",
    });
    // Go's toJson: keys sorted, compact.
    expect(envValue(runtime(r).mindroom, "MINDROOM_KUBERNETES_WORKER_ENV_JSON")).to.match(/^\{"ALL_PROXY":"http:\/\/.*","no_proxy":"localhost,127\.0\.0\.1,::1"\}$/);
    // The control plane itself is not proxied.
    expect(envNames(runtime(r).mindroom)).to.not.include("HTTP_PROXY");
  });

  it("E2 service name, namespace, port and scheme build the URL; extraEnv wins; injectWorkerProxyEnv:false and an empty noProxy leave env out", async () => {
    const custom = await renderSqlite({
      ...ON,
      egressProxy: { ...ON.egressProxy, service: { name: "squid", namespace: "egress", port: 8080, scheme: "https" }, noProxy: ["10.0.0.0/8", ".svc"] },
      workers: { backend: "kubernetes", kubernetes: { extraEnv: { HTTPS_PROXY: "http://other:1", EXTRA: "1" } } },
    });
    const env = workerEnv(custom)!;
    expect(env.HTTP_PROXY).to.equal("https://squid.egress.svc.cluster.local:8080");
    expect(env.HTTPS_PROXY).to.equal("http://other:1");
    expect(env.EXTRA).to.equal("1");
    expect(env.NO_PROXY).to.equal("10.0.0.0/8,.svc");
    const noInject = await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, injectWorkerProxyEnv: false } });
    expect(workerEnv(noInject)).to.equal(undefined);
    // The policy still confines workers: a proxy-aware client configured elsewhere must use it.
    expect(policy(noInject).spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    const noNoProxy = workerEnv(await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, noProxy: [] } }))!;
    expect(Object.keys(noNoProxy)).to.not.include("NO_PROXY");
    expect(Object.keys(noNoProxy)).to.have.length(6);
  });

  it("E3 the worker NetworkPolicy: Ingress+Egress; DNS to kube-dns, then only the proxy pods on the proxy port, then extraEgress", async () => {
    const extra = { to: [{ ipBlock: { cidr: "10.1.0.0/16" } }], ports: [{ protocol: "TCP", port: 443 }] };
    const r = await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, networkPolicy: { proxyPodSelector: PROXY, extraEgress: [extra] } } });
    validateKubeObjects(r.objects);
    const np = policy(r);
    expect(np.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(np.spec.ingress).to.have.length(1);
    expect(np.spec.egress).to.deep.equal([
      DNS_RULE,
      { to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } }, podSelector: PROXY }], ports: [{ protocol: "TCP", port: 3128 }] },
      extra,
    ]);
  });

  it("E4 proxy in another namespace or picked by proxyNamespaceSelector; DNS by ipBlocks or one selector; a separate worker namespace", async () => {
    const elsewhere = policy(await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, service: { namespace: "egress", port: 3129 } } }));
    expect(elsewhere.spec.egress[1]).to.deep.equal({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "egress" } }, podSelector: PROXY }],
      ports: [{ protocol: "TCP", port: 3129 }],
    });
    const bySelector = policy(await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, networkPolicy: { proxyPodSelector: PROXY, proxyNamespaceSelector: { matchLabels: { team: "net" } } } } }));
    expect(bySelector.spec.egress[1].to).to.deep.equal([{ namespaceSelector: { matchLabels: { team: "net" } }, podSelector: PROXY }]);

    const dns = { namespaceSelector: null, podSelector: null, ipBlocks: [{ cidr: "10.43.0.10/32" }] };
    const r = await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, networkPolicy: { proxyPodSelector: PROXY, dns } } });
    validateKubeObjects(r.objects);
    expect(policy(r).spec.egress[0].to).to.deep.equal([{ ipBlock: { cidr: "10.43.0.10/32" } }]);
    const podOnly = policy(await renderSqlite({ ...ON, egressProxy: { ...ON.egressProxy, networkPolicy: { proxyPodSelector: PROXY, dns: { namespaceSelector: null } } } }));
    expect(podOnly.spec.egress[0].to).to.deep.equal([{ podSelector: { matchLabels: { "k8s-app": "kube-dns" } } }]);

    const wns = await renderSqlite({ ...ON, workers: { backend: "kubernetes", kubernetes: { namespace: "mindroom-workers" } } });
    validateKubeObjects(wns.objects);
    const np = policy(wns, "mindroom-workers");
    // The proxy Service defaults to the release namespace, not the workers'.
    expect(np.spec.egress[1].to[0].namespaceSelector).to.deep.equal({ matchLabels: { "kubernetes.io/metadata.name": "mindroom" } });
    expect(workerEnv(wns)!.HTTP_PROXY).to.equal(URL);
  });

  it("E5 egressProxy.networkPolicy.create:false keeps the policy ingress-only; egressProxy off changes nothing", async () => {
    const envOnly = await renderSqlite({ workers: { backend: "kubernetes" }, egressProxy: { enabled: true, networkPolicy: { create: false } } });
    expect(policy(envOnly).spec.policyTypes).to.deep.equal(["Ingress"]);
    expect(policy(envOnly).spec.egress).to.equal(undefined);
    expect(workerEnv(envOnly)!.HTTP_PROXY).to.equal(URL);
    const off = await renderSqlite({ workers: { backend: "kubernetes" }, egressProxy: { enabled: false, networkPolicy: { proxyPodSelector: PROXY } } });
    expect(policy(off).spec.policyTypes).to.deep.equal(["Ingress"]);
    expect(workerEnv(off)).to.equal(undefined);
  });

  it("E6 with the chart's Agent Vault server, workers may also reach its API port (never its proxy port), after the proxy rule", async () => {
    const vault = {
      enabled: true,
      cliImage: `ghcr.io/example/agent-vault@sha256:${"1".repeat(64)}`,
      ownerEmail: "owner@example.com",
      server: { enabled: true, apiPort: 14400 },
    };
    const r = await renderSqlite({ ...ON, workers: { backend: "kubernetes", kubernetes: { agentVault: vault } } });
    validateKubeObjects(r.objects);
    const egress = policy(r).spec.egress as Obj[];
    expect(egress).to.have.length(3);
    expect(egress[2]).to.deep.equal({
      to: [
        {
          namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } },
          podSelector: { matchLabels: { "app.kubernetes.io/name": "agent-vault", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "agent-vault" } },
        },
      ],
      ports: [{ protocol: "TCP", port: 14400 }],
    });
    // The rule targets the server's own pods: its Deployment carries exactly those labels.
    const server = find(r.objects, "Deployment", "agent-vault");
    expect(server.spec.selector.matchLabels).to.deep.equal(egress[2].to[0].podSelector.matchLabels);
    // An external vault (server off) gets no rule: the operator adds an API-only one in extraEgress.
    const external = await renderSqlite({ ...ON, workers: { backend: "kubernetes", kubernetes: { agentVault: { ...vault, server: { enabled: false } } } } });
    expect(policy(external).spec.egress).to.have.length(2);
  });

  it("E7 every upstream check, in order, one line naming the value and the fix", async () => {
    const e = (egress: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ workers: { backend: "kubernetes" }, egressProxy: { enabled: true, ...egress }, ...more });
    const policyWith = (np: Record<string, unknown>) => e({ networkPolicy: { proxyPodSelector: PROXY, ...np } });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ egressProxy: { enabled: true } }, /^egressProxy\.enabled: needs workers\.backend=kubernetes .*got "static_runner"/],
      [e({ service: { name: "" }, networkPolicy: { proxyPodSelector: PROXY } }), /^egressProxy\.service\.name: is required with egressProxy\.enabled=true/],
      [e({ networkPolicy: { proxyPodSelector: PROXY } }, { workers: { backend: "kubernetes", kubernetes: { networkPolicy: { create: false } } } }), /^egressProxy\.networkPolicy\.create: needs workers\.kubernetes\.networkPolicy\.create=true/],
      [e({}), /^egressProxy\.networkPolicy\.proxyPodSelector: needs matchLabels or matchExpressions selecting the proxy pods/],
      [policyWith({ proxyPodSelector: { matchLabels: {} } }), /^egressProxy\.networkPolicy\.proxyPodSelector: needs matchLabels or matchExpressions/],
      [policyWith({ proxyPodSelector: null }), /^egressProxy\.networkPolicy\.proxyPodSelector: needs matchLabels/],
      [policyWith({ dns: { namespaceSelector: null, podSelector: null } }), /^egressProxy\.networkPolicy\.dns: needs namespaceSelector, podSelector or ipBlocks/],
      // Values a Service URL or a namespace cannot carry.
      [e({ service: { name: "Squid" } }), /^egressProxy\.service\.name: must be a Service name/],
      [e({ service: { namespace: "Egress" } }), /^egressProxy\.service\.namespace: must be a namespace name/],
      [e({ service: { port: 0 } }), /^egressProxy\.service\.port: must be a port number from 1 to 65535$/],
      [e({ service: { scheme: "" } }), /^egressProxy\.service\.scheme: must be a URL scheme such as http$/],
      [e({ noProxy: "localhost" }), /^egressProxy\.noProxy: must be a list of strings$/],
      [e({ networkPolicy: { dns: { namespaceSelector: "kube-system" } } }), /^egressProxy\.networkPolicy\.dns\.namespaceSelector: must be a label selector map/],
      [e({ proxy: {} }), /^egressProxy: unknown key "proxy"/],
    ];
    for (const [values, error] of cases) expect(errorOf(values), JSON.stringify(values)).to.match(error);

    valid(ON);
    valid(e({ networkPolicy: { create: false } }));
    valid(policyWith({ proxyPodSelector: { matchExpressions: [{ key: "app", operator: "In", values: ["squid"] }] } }));
    valid(policyWith({ dns: { namespaceSelector: null, podSelector: {} } }));
    valid(policyWith({ dns: { namespaceSelector: null, podSelector: null, ipBlocks: [{ cidr: "10.43.0.10/32" }] } }));
    // Off: nothing is checked, as upstream (a copy of values.yaml carries these defaults).
    valid({ egressProxy: { enabled: false, service: { name: "" } } });
    expect(await refusedBeforeRegistering({ egressProxy: { enabled: true } })).to.match(/^egressProxy\.enabled: needs workers\.backend=kubernetes/);
  });
});
