/**
 * The stack and the renderer parse values first and hand the parsed args to the component, which
 * validates them again: for the issue-11 features both paths must render the same objects
 * (a `null` selector, defaulted bundle fields and the like survive the second pass).
 */
import { expect } from "chai";
import { parseRuntimeValues } from "../../../components/runtime";
import { render } from "./helpers";

const DIGEST = `@sha256:${"1".repeat(64)}`;

const CASES: Record<string, Record<string, unknown>> = {
  "state storage, bundles, appservice, providers": {
    eventCache: { backend: "sqlite" },
    storage: { mountPath: "/data/", volumeName: "data" },
    stateStorage: { enabled: true, existingClaim: "st", mountPath: "", syncContinuity: { enabled: false }, initPermissions: { chmod: "0770" } },
    contentBundles: [
      { name: "a", image: `r/a${DIGEST}`, overwrite: false, sourcePath: "/", seed: { enabled: true, command: ["/x/seed.sh", 'it "works"'] } },
      { name: "b", image: `r/b${DIGEST}`, targetPath: "/data/x/../y/", overwrite: null, seed: null },
      { name: "c", image: `r/c${DIGEST}` },
    ],
    providerCredentials: [{ provider: "ollama", existingSecret: "s", key: "host" }],
    matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "as", key: "tok.txt" } },
  },
  "egress proxy with null DNS selectors": {
    eventCache: { backend: "sqlite" },
    workers: { backend: "kubernetes", kubernetes: { namespace: "wk" } },
    egressProxy: {
      enabled: true,
      networkPolicy: { proxyPodSelector: { matchLabels: { app: "squid" } }, dns: { namespaceSelector: null, podSelector: null, ipBlocks: [{ cidr: "10.43.0.10/32" }] } },
    },
  },
  "egress proxy, empty DNS namespace selector, no env": {
    eventCache: { backend: "sqlite" },
    workers: { backend: "kubernetes" },
    egressProxy: { enabled: true, injectWorkerProxyEnv: false, noProxy: [], networkPolicy: { proxyPodSelector: { matchLabels: { app: "squid" } }, dns: { namespaceSelector: {}, podSelector: null } } },
  },
};

describe("runtime features: parsed values render as the raw ones", () => {
  for (const [name, values] of Object.entries(CASES)) {
    it(name, async () => {
      const direct = await render(values);
      const parsed = await render(parseRuntimeValues(values) as Record<string, unknown>, { releaseName: "mindroom-runtime", namespace: "mindroom" });
      expect(parsed.objects).to.deep.equal(direct.objects);
    });
  }
});
