/**
 * The stack and the renderer parse values first and hand the parsed args to the component: both
 * paths must render the same objects (a `null` selector, defaulted bundle fields, a `null` that
 * removes a default, and the like).
 */
import { expect } from "chai";
import { kubeObjects } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { MindroomRuntime, parseRuntimeValues } from "../../../components/runtime";
import { render, type Obj } from "./helpers";

/** As the stack and the renderer do it: the parsed args object itself goes to the component. */
async function renderParsed(values: Record<string, unknown>): Promise<Obj[]> {
  const args = parseRuntimeValues(values);
  return kubeObjects(await recordProgram(() => new MindroomRuntime(args.releaseName as string, args)), true) as Obj[];
}

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
  // A null removes a default once; a second merge of the defaults (the component re-validating
  // parsed args) used to bring it back.
  "null removes a default in the security contexts": {
    eventCache: { backend: "sqlite" },
    podSecurityContext: { seccompProfile: null },
    stateStorage: { enabled: true, create: true, initPermissions: { securityContext: { runAsNonRoot: null } } },
  },
};

describe("runtime features: parsed values render as the raw ones", () => {
  for (const [name, values] of Object.entries(CASES)) {
    it(name, async () => {
      const direct = await render(values);
      const parsed = await renderParsed(values);
      expect(parsed).to.deep.equal(direct.objects);
      if (name.startsWith("null")) {
        const pod = parsed.find((o) => o.kind === "Deployment")!.spec.template.spec;
        expect(pod.securityContext).to.not.have.property("seccompProfile");
        expect(pod.initContainers[0].securityContext).to.deep.equal({ runAsUser: 0, allowPrivilegeEscalation: false });
      }
    });
  }
});
