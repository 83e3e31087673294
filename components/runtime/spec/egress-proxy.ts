/**
 * Worker egress through a proxy (upstream `_helpers.tpl` egressProxy*, networkpolicy.yaml): the
 * proxy env injected into dedicated workers and the worker NetworkPolicy's egress rules (DNS, the
 * proxy, the chart's Agent Vault API), so the proxy is the workers' only way out.
 *
 * The chart-managed proxy (`approvedEgress`) and the Agent Vault server are other features
 * (spec/approved-egress.ts, spec/agent-vault.ts); the worker policy needs only their Service
 * names, ports and pod labels, computed here as upstream's helpers do (importing those modules
 * would make a cycle through spec/workers.ts).
 */
import type { RuntimeNames } from "../names";
import { dnsTrunc } from "../names";
import type { RuntimeValues } from "../schema";
import { agentVaultServerName } from "../schema-agent-vault";

type Selector = Record<string, unknown>;

/** Where workers send their traffic. */
export interface ProxyTarget {
  /** `scheme://service.namespace.svc.cluster.local:port` */
  url: string;
  port: number;
  namespaceSelector: Selector;
  podSelector: Selector;
}

const namespaceIs = (namespace: string): Selector => ({ matchLabels: { "kubernetes.io/metadata.name": namespace } });

/** Upstream `egressProxyUrl`, `egressProxyNamespace`, `egressProxyServicePort`, `egressProxyPodSelector`. */
export function proxyTarget(v: RuntimeValues, n: RuntimeNames): ProxyTarget | undefined {
  const approved = v.approvedEgress;
  if (approved.enabled) {
    // The chart-managed proxy runs in the release namespace under `{fullname}-egress-proxy`, plain http
    // (the name and labels of approvedEgressNames).
    const name = approved.service.name || dnsTrunc(`${n.fullname}-egress-proxy`);
    const port = approved.service.proxyPort;
    return {
      url: `http://${name}.${n.namespace}.svc.cluster.local:${port}`,
      port,
      namespaceSelector: namespaceIs(n.namespace),
      podSelector: { matchLabels: { "app.kubernetes.io/name": name, "app.kubernetes.io/instance": n.release, "app.kubernetes.io/component": "approved-egress-proxy" } },
    };
  }
  const e = v.egressProxy;
  if (!e.enabled) return undefined;
  const namespace = e.service.namespace || n.namespace;
  const np = e.networkPolicy;
  return {
    url: `${e.service.scheme}://${e.service.name}.${namespace}.svc.cluster.local:${e.service.port}`,
    port: e.service.port,
    // NetworkPolicy peers select pods, not Services: the proxy pods by label, in their namespace.
    namespaceSelector: Object.keys(np.proxyNamespaceSelector).length > 0 ? np.proxyNamespaceSelector : namespaceIs(namespace),
    podSelector: np.proxyPodSelector,
  };
}

/** Env the runtime passes to every worker (merged under `workers.kubernetes.extraEnv`, which wins). */
export function workerProxyEnv(v: RuntimeValues, n: RuntimeNames): Record<string, string> {
  const target = proxyTarget(v, n);
  if (!target || !v.egressProxy.injectWorkerProxyEnv) return {};
  const env: Record<string, string> = {};
  // Both spellings: tools read either (curl only the lower-case http_proxy).
  for (const name of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]) env[name] = target.url;
  if (v.egressProxy.noProxy.length > 0) {
    const noProxy = v.egressProxy.noProxy.join(",");
    env.NO_PROXY = noProxy;
    env.no_proxy = noProxy;
  }
  return env;
}

/**
 * Egress rules of the worker NetworkPolicy, or undefined while it stays ingress-only (no proxy, or
 * `egressProxy.networkPolicy.create: false`). Rule order as upstream: DNS, proxy, Agent Vault API, extra.
 */
export function workerEgressRules(v: RuntimeValues, n: RuntimeNames): Record<string, unknown>[] | undefined {
  const target = proxyTarget(v, n);
  const np = v.egressProxy.networkPolicy;
  if (!target || !np.create) return undefined;

  const dns = np.dns;
  const dnsPeers: Record<string, unknown>[] = [];
  if (dns.namespaceSelector !== undefined || dns.podSelector !== undefined) {
    dnsPeers.push({ namespaceSelector: dns.namespaceSelector, podSelector: dns.podSelector });
  }
  for (const ipBlock of dns.ipBlocks) dnsPeers.push({ ipBlock });
  const rules: Record<string, unknown>[] = [
    { to: dnsPeers, ports: [{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }] },
    { to: [{ namespaceSelector: target.namespaceSelector, podSelector: target.podSelector }], ports: [{ protocol: "TCP", port: target.port }] },
  ];

  // Workers mint their vault token at the chart's Agent Vault API (only its API port, never its proxy port).
  const vault = v.workers.kubernetes.agentVault;
  if (vault.enabled && vault.server.enabled) {
    // The selector labels of agentVaultNames.
    const server = agentVaultServerName(vault);
    rules.push({
      to: [
        {
          namespaceSelector: namespaceIs(n.namespace),
          podSelector: { matchLabels: { "app.kubernetes.io/name": server, "app.kubernetes.io/instance": n.release, "app.kubernetes.io/component": "agent-vault" } },
        },
      ],
      ports: [{ protocol: "TCP", port: vault.server.apiPort }],
    });
  }
  rules.push(...np.extraEgress);
  return rules;
}
