/**
 * `egressProxy` (upstream values.yaml, validate.yaml, `_helpers.tpl`): an existing HTTP proxy
 * Service for dedicated Kubernetes workers, the proxy env injected into them, and the worker
 * NetworkPolicy's egress rules that leave the proxy as their only way out. The checks run in
 * upstream's order. `approvedEgress` (the chart-managed proxy) shares these checks; it is read
 * here only as the flag that turns the same machinery on.
 */
import { z } from "zod";
import { EMPTY_OR_DNS_LABEL, nullableBool, nullableString, nullableStringList, port, rawList, rawMap } from "../../infra/values/fields";
import { obj } from "./values-map";

/**
 * A LabelSelector where upstream tests `kindIs "map"`: Helm drops a key set to `null`, so null
 * means "no selector" (undefined) while `{}` stays a selector that matches everything. Undefined
 * is accepted too, so parsed values validate again unchanged (the component re-validates its args).
 */
const selectorOrAbsent = z
  .record(z.string(), z.unknown(), { error: "must be a label selector map (matchLabels / matchExpressions)" })
  .nullish()
  .transform((v) => v ?? undefined);

export const egressProxySchema = obj({
  enabled: nullableBool,
  injectWorkerProxyEnv: nullableBool,
  service: obj({
    name: nullableString.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be a Service name (lower-case letters, digits and '-')")),
    namespace: nullableString.pipe(z.string().regex(EMPTY_OR_DNS_LABEL, "must be a namespace name (lower-case letters, digits and '-'), or empty for the release namespace")),
    port,
    scheme: nullableString.pipe(z.string().regex(/^[a-z][a-z0-9+.-]*$/, "must be a URL scheme such as http")),
  }),
  noProxy: nullableStringList,
  networkPolicy: obj({
    create: nullableBool,
    proxyPodSelector: rawMap,
    proxyNamespaceSelector: rawMap,
    dns: obj({ namespaceSelector: selectorOrAbsent, podSelector: selectorOrAbsent, ipBlocks: rawList }),
    extraEgress: rawList,
  }),
});

export type EgressProxyValues = z.output<typeof egressProxySchema>;
type Fail = (path: PropertyKey[], message: string) => void;

const nonEmpty = (v: unknown) => (Array.isArray(v) ? v.length > 0 : typeof v === "object" && v !== null ? Object.keys(v).length > 0 : Boolean(v));

/**
 * Upstream's egress checks. `approvedEgress` is whether the chart-managed proxy is on (it then
 * supplies the proxy's name and pods itself); `workerPolicy` is `workers.kubernetes.networkPolicy.create`.
 */
export function checkEgressProxy(e: EgressProxyValues, ctx: { backend: string; workerPolicy: boolean; approvedEgress: boolean }, fail: Fail): boolean {
  const proxyOn = e.enabled || ctx.approvedEgress;
  if (!proxyOn) return false;
  const policyOn = e.networkPolicy.create;
  const np = e.networkPolicy;
  const key = ctx.approvedEgress && !e.enabled ? "approvedEgress" : "egressProxy";
  const problems: [boolean, PropertyKey[], string][] = [
    [ctx.backend !== "kubernetes", [key, "enabled"], `needs workers.backend=kubernetes (the proxy serves dedicated worker pods; got "${ctx.backend}"); set workers.backend: kubernetes`],
    [!ctx.approvedEgress && !e.service.name, ["egressProxy", "service", "name"], "is required with egressProxy.enabled=true; name the existing proxy Service"],
    [policyOn && !ctx.workerPolicy, ["egressProxy", "networkPolicy", "create"], "needs workers.kubernetes.networkPolicy.create=true (the egress rules live in the worker NetworkPolicy); enable it, or set egressProxy.networkPolicy.create=false"],
    [
      policyOn && !ctx.approvedEgress && !nonEmpty(np.proxyPodSelector.matchLabels) && !nonEmpty(np.proxyPodSelector.matchExpressions),
      ["egressProxy", "networkPolicy", "proxyPodSelector"],
      "needs matchLabels or matchExpressions selecting the proxy pods (a NetworkPolicy cannot target a Service); set them, or egressProxy.networkPolicy.create=false",
    ],
    [
      policyOn && np.dns.namespaceSelector === undefined && np.dns.podSelector === undefined && np.dns.ipBlocks.length === 0,
      ["egressProxy", "networkPolicy", "dns"],
      "needs namespaceSelector, podSelector or ipBlocks so workers can still resolve names; set one (default: kube-dns in kube-system)",
    ],
  ];
  for (const [failed, path, message] of problems) {
    if (failed) {
      fail(path, message);
      return true;
    }
  }
  return false;
}
