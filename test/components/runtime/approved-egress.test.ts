/**
 * approvedEgress (docs/runtime.md, "Approved egress proxy: checklist"): each object against the
 * items derived from upstream's approved-egress.yaml, networkpolicy.yaml and deployment.yaml, every
 * validation valid and invalid, and kubernetes-models schema checks of every object it adds.
 * Unless stated: release `mindroom-runtime` in `mindroom`, sqlite, kubernetes workers, the sandbox
 * proxy token from Secret `sandbox-token`, egress proxy image tag `1.2.3`.
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { mergeValues } from "../../../infra/values/load";
import { squidChainConfig } from "../../../components/runtime/spec/approved-egress";
import { validateKubeObjects } from "../../support/kube-schema";
import { invalid, valid } from "./feature-helpers";
import { renderSqlite, find, ofKind, container, envValue, envNames, secretRef, runtime, type Obj } from "./helpers";

const ON = {
  workers: { backend: "kubernetes", sandbox: { proxyToken: { existingSecret: "sandbox-token" } } },
  approvedEgress: { enabled: true, image: { tag: "1.2.3" } },
};
const NAME = "mindroom-runtime-egress-proxy";
const SELECTOR = { "app.kubernetes.io/name": NAME, "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "approved-egress-proxy" };
const PROXY_URL = `http://${NAME}.mindroom.svc.cluster.local:3128`;

const withOn = (values: Record<string, unknown> = {}) => renderSqlite(mergeValues(ON, values));
const proxy = (objects: Obj[], name = NAME) => container(find(objects, "Deployment", name), "approved-egress-proxy");
const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();


describe("runtime approvedEgress: objects (checklist AE)", () => {
  it("AE1 adds exactly allowlist ConfigMap, ServiceAccount, Role, RoleBinding, PVC, Deployment, Service and the ingress NetworkPolicy (plus the squid ConfigMap with a parent proxy)", async () => {
    const base = kinds((await renderSqlite({ workers: ON.workers })).objects);
    const added = (objects: Obj[]) => kinds(objects).filter((k) => !base.includes(k));
    expect(added((await withOn()).objects)).to.deep.equal([
      `ConfigMap/${NAME}-config`,
      `Deployment/${NAME}`,
      `NetworkPolicy/${NAME}-ingress`,
      `PersistentVolumeClaim/${NAME}-data`,
      `Role/${NAME}`,
      `RoleBinding/${NAME}`,
      `Service/${NAME}`,
      `ServiceAccount/${NAME}`,
    ]);
    expect(added((await withOn({ approvedEgress: { parentProxy: { enabled: true } } })).objects)).to.include(`ConfigMap/${NAME}-squid-config`);
    // Off (the default): none of them.
    expect(kinds((await renderSqlite()).objects).some((k) => k.includes("egress-proxy"))).to.equal(false);
  });

  it("AE2 labels: the proxy's own selector (name {fullname}-egress-proxy, component approved-egress-proxy) plus version and manager; objects in RNS", async () => {
    const r = await withOn();
    const deployment = find(r.objects, "Deployment", NAME);
    expect(deployment.spec.selector.matchLabels).to.deep.equal(SELECTOR);
    expect(deployment.spec.template.metadata.labels).to.deep.equal(SELECTOR);
    for (const o of r.objects.filter((x) => x.metadata?.name?.startsWith(NAME) && x.kind !== "NetworkPolicy")) {
      expect(o.metadata!.labels, `${o.kind}`).to.deep.equal({ ...SELECTOR, "app.kubernetes.io/version": "0.0.0", "app.kubernetes.io/managed-by": "pulumi" });
      expect(o.metadata!.namespace).to.equal("mindroom");
    }
    // The ingress policy carries the runtime's labels, as upstream's networkpolicy.yaml does.
    expect(find(r.objects, "NetworkPolicy", `${NAME}-ingress`).metadata!.labels!["app.kubernetes.io/name"]).to.equal("mindroom-runtime");
    const labelled = await withOn({ approvedEgress: { podLabels: { team: "ai" }, podAnnotations: { "a/b": "c" } } });
    const template = find(labelled.objects, "Deployment", NAME).spec.template.metadata;
    expect(template.labels).to.deep.equal({ ...SELECTOR, team: "ai" });
    expect(template.annotations).to.deep.equal({ "a/b": "c" });
  });

  it("AE3 allowlist: one domain per line with a final newline, empty when none; existingConfigMap X replaces the ConfigMap everywhere", async () => {
    const listed = await withOn({ approvedEgress: { allowlist: { domains: ["pypi.org", "github.com"] } } });
    expect(find(listed.objects, "ConfigMap", `${NAME}-config`).data).to.deep.equal({ "allowed-domains.txt": "pypi.org\ngithub.com\n" });
    expect(find((await withOn()).objects, "ConfigMap", `${NAME}-config`).data).to.deep.equal({ "allowed-domains.txt": "" });
    const existing = await withOn({ approvedEgress: { allowlist: { existingConfigMap: "X", key: "list.txt", mountPath: "/etc/list.txt" } } });
    expect(ofKind(existing.objects, "ConfigMap").map((c) => c.metadata!.name)).to.not.include(`${NAME}-config`);
    expect(find(existing.objects, "Deployment", NAME).spec.template.spec.volumes[0]).to.deep.equal({ name: "allowlist", configMap: { name: "X" } });
    expect(proxy(existing.objects).volumeMounts[0]).to.deep.equal({ name: "allowlist", mountPath: "/etc/list.txt", subPath: "list.txt", readOnly: true });
    const { deployment, mindroom } = runtime(existing);
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "approved-egress-allowlist", configMap: { name: "X" } });
    expect(mindroom.volumeMounts).to.deep.include({ name: "approved-egress-allowlist", mountPath: "/etc/list.txt", subPath: "list.txt", readOnly: true });
  });

  it("AE4 Deployment: one replica, Recreate, its ServiceAccount with a token, no service links, upstream's security contexts, image, pull policy and resources", async () => {
    const r = await withOn();
    const deployment = find(r.objects, "Deployment", NAME);
    expect(deployment.spec.replicas).to.equal(1);
    expect(deployment.spec.strategy).to.deep.equal({ type: "Recreate" });
    const pod = deployment.spec.template.spec;
    expect(pod.serviceAccountName).to.equal(NAME);
    expect(pod.automountServiceAccountToken).to.equal(true);
    expect(pod.enableServiceLinks).to.equal(false);
    expect(pod.securityContext).to.deep.equal({ fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" } });
    expect(pod.containers.map((c: Obj) => c.name)).to.deep.equal(["approved-egress-proxy"]);
    const c = proxy(r.objects);
    expect(c.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] }, runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000 });
    expect(c.image).to.equal("ghcr.io/mindroom-ai/mindroom-egress-proxy:1.2.3");
    expect(c.imagePullPolicy).to.equal("IfNotPresent");
    expect(c.resources).to.deep.equal({ requests: { cpu: "100m", memory: "512Mi" }, limits: { memory: "1Gi" } });
    const digest = "sha256:" + "a".repeat(64);
    expect(proxy((await withOn({ approvedEgress: { image: { tag: "", digest } } })).objects).image).to.equal(`ghcr.io/mindroom-ai/mindroom-egress-proxy@${digest}`);
    expect(proxy((await withOn({ approvedEgress: { image: { digest } } })).objects).image).to.equal(`ghcr.io/mindroom-ai/mindroom-egress-proxy:1.2.3@${digest}`);
  });

  it("AE5 env in chart order: POD_NAMESPACE (WNS), ports, allowlist and DB paths, max TTL, log level, the token from the sandbox proxy token's Secret", async () => {
    const c = proxy((await withOn()).objects);
    expect(c.env).to.deep.equal([
      { name: "POD_NAMESPACE", value: "mindroom" },
      { name: "MINDROOM_EGRESS_PROXY_LISTEN_PORT", value: "3128" },
      { name: "MINDROOM_APPROVED_EGRESS_API_PORT", value: "8080" },
      { name: "MINDROOM_EGRESS_ALLOWLIST_PATH", value: "/etc/mindroom-egress/allowed-domains.txt" },
      { name: "MINDROOM_EGRESS_DB_PATH", value: "/var/lib/mindroom-egress/grants.sqlite3" },
      { name: "MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS", value: "21600" },
      { name: "MINDROOM_APPROVED_EGRESS_LOG_LEVEL", value: "info" },
      { name: "MINDROOM_APPROVED_EGRESS_TOKEN", valueFrom: { secretKeyRef: { name: "sandbox-token", key: "MINDROOM_SANDBOX_PROXY_TOKEN" } } },
    ]);
    const tuned = proxy((await withOn({ approvedEgress: { maxTtlSeconds: 0, logLevel: "", dataPath: "/data/", dbFileName: "g.db", token: { existingSecret: "T", key: "tok" } } })).objects);
    expect(envNames(tuned)).to.not.include("MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS");
    expect(envNames(tuned)).to.not.include("MINDROOM_APPROVED_EGRESS_LOG_LEVEL");
    expect(envValue(tuned, "MINDROOM_EGRESS_DB_PATH")).to.equal("/data/g.db");
    expect(secretRef(tuned, "MINDROOM_APPROVED_EGRESS_TOKEN")).to.deep.equal({ name: "T", key: "tok" });
    // An inline sandbox proxy token: the component's own Secret.
    const inline = proxy((await withOn({ workers: { sandbox: { proxyToken: { existingSecret: "", value: "t" } } } })).objects);
    expect(secretRef(inline, "MINDROOM_APPROVED_EGRESS_TOKEN")).to.deep.equal({ name: "mindroom-runtime-sandbox-proxy", key: "MINDROOM_SANDBOX_PROXY_TOKEN" });
  });

  it("AE6 ports proxy 3128 and policy-api 8080; readiness and liveness on /healthz at policy-api", async () => {
    const c = proxy((await withOn()).objects);
    expect(c.ports).to.deep.equal([
      { name: "proxy", containerPort: 3128, protocol: "TCP" },
      { name: "policy-api", containerPort: 8080, protocol: "TCP" },
    ]);
    expect(c.readinessProbe).to.deep.equal({ httpGet: { path: "/healthz", port: "policy-api" }, periodSeconds: 10, timeoutSeconds: 3 });
    expect(c.livenessProbe).to.deep.equal({ httpGet: { path: "/healthz", port: "policy-api" }, periodSeconds: 30, timeoutSeconds: 5 });
  });

  it("AE7 grants volume: PVC {name}-data (10Gi RWO, class when set) at dataPath; emptyDir without persistence; existingClaim C used and not created", async () => {
    const r = await withOn({ approvedEgress: { persistence: { storageClassName: "fast" } } });
    expect(find(r.objects, "PersistentVolumeClaim", `${NAME}-data`).spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "10Gi" } } });
    expect(find((await withOn()).objects, "PersistentVolumeClaim", `${NAME}-data`).spec).to.not.have.property("storageClassName");
    expect(proxy(r.objects).volumeMounts[1]).to.deep.equal({ name: "data", mountPath: "/var/lib/mindroom-egress" });
    expect(find(r.objects, "Deployment", NAME).spec.template.spec.volumes[1]).to.deep.equal({ name: "data", persistentVolumeClaim: { claimName: `${NAME}-data` } });
    const ephemeral = await withOn({ approvedEgress: { persistence: { enabled: false } } });
    expect(ofKind(ephemeral.objects, "PersistentVolumeClaim").map((p) => p.metadata!.name)).to.not.include(`${NAME}-data`);
    expect(find(ephemeral.objects, "Deployment", NAME).spec.template.spec.volumes[1]).to.deep.equal({ name: "data", emptyDir: {} });
    const existing = await withOn({ approvedEgress: { persistence: { existingClaim: "C" } } });
    expect(ofKind(existing.objects, "PersistentVolumeClaim").map((p) => p.metadata!.name)).to.not.include(`${NAME}-data`);
    expect(find(existing.objects, "Deployment", NAME).spec.template.spec.volumes[1]).to.deep.equal({ name: "data", persistentVolumeClaim: { claimName: "C" } });
  });

  it("AE8 Service: ClusterIP, proxy and policy-api to the named ports, the proxy selector, annotations when set", async () => {
    const svc = find((await withOn({ approvedEgress: { service: { annotations: { "x/y": "z" } } } })).objects, "Service", NAME);
    expect(svc.spec).to.deep.equal({
      type: "ClusterIP",
      selector: SELECTOR,
      ports: [
        { name: "proxy", port: 3128, targetPort: "proxy", protocol: "TCP" },
        { name: "policy-api", port: 8080, targetPort: "policy-api", protocol: "TCP" },
      ],
    });
    expect(svc.metadata!.annotations).to.deep.equal({ "x/y": "z" });
  });

  it("AE9 RBAC in WNS: read pods, get deployments, bound to the proxy's ServiceAccount in RNS; serviceAccount.create=false uses the named one; rbac.create=false renders none", async () => {
    const r = await withOn({ workers: { kubernetes: { namespace: "w" } } });
    const role = find(r.objects, "Role", NAME);
    expect(role.metadata!.namespace).to.equal("w");
    expect(role.rules).to.deep.equal([
      { apiGroups: [""], resources: ["pods"], verbs: ["get", "list"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get"] },
    ]);
    const binding = find(r.objects, "RoleBinding", NAME);
    expect(binding.metadata!.namespace).to.equal("w");
    expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: NAME, namespace: "mindroom" }]);
    expect(binding.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: NAME });
    expect(envValue(proxy(r.objects), "POD_NAMESPACE")).to.equal("w");
    const own = await withOn({ approvedEgress: { serviceAccount: { create: false, name: "egress-sa" }, rbac: { create: false } } });
    expect(ofKind(own.objects, "ServiceAccount").map((s) => s.metadata!.name)).to.not.include(NAME);
    expect(find(own.objects, "Deployment", NAME).spec.template.spec.serviceAccountName).to.equal("egress-sa");
    expect(ofKind(own.objects, "Role").map((x) => x.metadata!.name)).to.not.include(NAME);
    const sa = find((await withOn({ approvedEgress: { serviceAccount: { annotations: { a: "b" }, automountServiceAccountToken: false } } })).objects, "ServiceAccount", NAME);
    expect(sa.automountServiceAccountToken).to.equal(false);
    expect(sa.metadata!.annotations).to.deep.equal({ a: "b" });
  });

  it("AE10 parent proxy: the squid chain ConfigMap, its mount, env and a checksum annotation that follows the config", async () => {
    const r = await withOn({ approvedEgress: { parentProxy: { enabled: true, host: "vault.example", port: 9000 } } });
    const conf = find(r.objects, "ConfigMap", `${NAME}-squid-config`).data["squid.conf"] as string;
    expect(conf).to.equal(
      [
        "",
        "include /etc/squid/squid.conf",
        "",
        "acl egress_has_token req_header Proxy-Authorization .",
        "dns_defnames on",
        "cache_peer vault.example parent 9000 0 no-query no-digest login=PASSTHRU",
        "cache_peer_access vault.example allow egress_has_token",
        "cache_peer_access vault.example deny all",
        "nonhierarchical_direct off",
        "always_direct allow !egress_has_token",
        "never_direct allow egress_has_token",
        "",
      ].join("\n"),
    );
    const c = proxy(r.objects);
    expect(envValue(c, "MINDROOM_EGRESS_SQUID_CONFIG_PATH")).to.equal("/etc/squid/mindroom-egress-chain.conf");
    expect(envNames(c).slice(-2)).to.deep.equal(["MINDROOM_EGRESS_SQUID_CONFIG_PATH", "MINDROOM_APPROVED_EGRESS_TOKEN"]);
    expect(c.volumeMounts[2]).to.deep.equal({ name: "squid-config", mountPath: "/etc/squid/mindroom-egress-chain.conf", subPath: "squid.conf", readOnly: true });
    const pod = find(r.objects, "Deployment", NAME).spec.template;
    expect(pod.spec.volumes[2]).to.deep.equal({ name: "squid-config", configMap: { name: `${NAME}-squid-config` } });
    const sum = createHash("sha256").update(squidChainConfig({ host: "vault.example", port: 9000 })).digest("hex");
    expect(pod.metadata.annotations).to.deep.equal({ "checksum/squid-config": sum });
    const other = find((await withOn({ approvedEgress: { parentProxy: { enabled: true } } })).objects, "Deployment", NAME).spec.template.metadata.annotations;
    expect(other["checksum/squid-config"]).to.not.equal(sum);
    expect(find((await withOn()).objects, "Deployment", NAME).spec.template.metadata).to.not.have.property("annotations");
  });

  it("AE11 ingress NetworkPolicy {name}-ingress: worker pods from WNS on the proxy port, runtime pods from RNS on the policy API; create=false renders none", async () => {
    const r = await withOn({ workers: { kubernetes: { namespace: "w", extraLabels: { pool: "a" } } } });
    const np = find(r.objects, "NetworkPolicy", `${NAME}-ingress`);
    expect(np.metadata!.namespace).to.equal("mindroom");
    expect(np.spec).to.deep.equal({
      podSelector: { matchLabels: SELECTOR },
      policyTypes: ["Ingress"],
      ingress: [
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "w" } },
              podSelector: { matchLabels: { "mindroom.ai/component": "worker", "app.kubernetes.io/managed-by": "mindroom", "app.kubernetes.io/name": "mindroom-worker", pool: "a" } },
            },
          ],
          ports: [{ port: 3128, protocol: "TCP" }],
        },
        {
          from: [
            {
              namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } },
              podSelector: { matchLabels: { "app.kubernetes.io/name": "mindroom-runtime", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "runtime" } },
            },
          ],
          ports: [{ port: 8080, protocol: "TCP" }],
        },
      ],
    });
    const named = await withOn({ approvedEgress: { networkPolicy: { name: "egress-in" } } });
    find(named.objects, "NetworkPolicy", "egress-in");
    expect(ofKind((await withOn({ approvedEgress: { networkPolicy: { create: false } } })).objects, "NetworkPolicy").map((x) => x.metadata!.name)).to.not.include(`${NAME}-ingress`);
  });

  it("AE12 runtime container: approved-egress env right after the sandbox proxy token, the allowlist mounted; manageRuntimeConfig=false drops only the enable flag", async () => {
    const { deployment, mindroom } = runtime(await withOn({ approvedEgress: { sandboxProxyTimeoutSeconds: 90 } }));
    const names = envNames(mindroom);
    const at = names.indexOf("MINDROOM_SANDBOX_PROXY_TOKEN");
    expect(names.slice(at + 1, at + 7)).to.deep.equal([
      "MINDROOM_APPROVED_EGRESS_ENABLED",
      "MINDROOM_APPROVED_EGRESS_API_URL",
      "MINDROOM_APPROVED_EGRESS_ALLOWLIST_PATH",
      "MINDROOM_APPROVED_EGRESS_TOKEN",
      "MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS",
      "MINDROOM_SANDBOX_PROXY_TIMEOUT_SECONDS",
    ]);
    expect(names[at + 7]).to.equal("MINDROOM_KUBERNETES_WORKER_NAMESPACE");
    expect(envValue(mindroom, "MINDROOM_APPROVED_EGRESS_ENABLED")).to.equal("true");
    expect(envValue(mindroom, "MINDROOM_APPROVED_EGRESS_API_URL")).to.equal(`http://${NAME}.mindroom.svc.cluster.local:8080`);
    expect(envValue(mindroom, "MINDROOM_APPROVED_EGRESS_ALLOWLIST_PATH")).to.equal("/etc/mindroom-egress/allowed-domains.txt");
    expect(secretRef(mindroom, "MINDROOM_APPROVED_EGRESS_TOKEN")).to.deep.equal({ name: "sandbox-token", key: "MINDROOM_SANDBOX_PROXY_TOKEN" });
    expect(envValue(mindroom, "MINDROOM_APPROVED_EGRESS_MAX_TTL_SECONDS")).to.equal("21600");
    expect(envValue(mindroom, "MINDROOM_SANDBOX_PROXY_TIMEOUT_SECONDS")).to.equal("90");
    expect(mindroom.volumeMounts).to.deep.include({ name: "approved-egress-allowlist", mountPath: "/etc/mindroom-egress/allowed-domains.txt", subPath: "allowed-domains.txt", readOnly: true });
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "approved-egress-allowlist", configMap: { name: `${NAME}-config` } });
    const unmanaged = runtime(await withOn({ approvedEgress: { manageRuntimeConfig: false } })).mindroom;
    expect(envNames(unmanaged)).to.not.include("MINDROOM_APPROVED_EGRESS_ENABLED");
    expect(envNames(unmanaged)).to.include("MINDROOM_APPROVED_EGRESS_API_URL");
    expect(envNames(unmanaged)).to.not.include("MINDROOM_SANDBOX_PROXY_TIMEOUT_SECONDS");
    // Off: nothing of it on the runtime.
    const off = runtime(await renderSqlite({ workers: ON.workers }));
    expect(envNames(off.mindroom).filter((e) => e.includes("APPROVED_EGRESS"))).to.deep.equal([]);
    expect(off.deployment.spec.template.spec.volumes.map((x: Obj) => x.name)).to.not.include("approved-egress-allowlist");
  });

  it("AE13 workers: proxy env (both spellings) and NO_PROXY point at the proxy Service; the worker policy's egress is DNS, then the proxy pods in RNS on 3128", async () => {
    const r = await withOn({ workers: { kubernetes: { namespace: "w" } } });
    const { mindroom } = runtime(r);
    const workerEnv = JSON.parse(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_ENV_JSON")!);
    for (const k of ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"]) expect(workerEnv[k], k).to.equal(PROXY_URL);
    expect(workerEnv.NO_PROXY).to.equal("localhost,127.0.0.1,::1");
    const np = find(r.objects, "NetworkPolicy", "mindroom-runtime-workers");
    expect(np.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(np.spec.egress[0].ports).to.deep.equal([{ protocol: "UDP", port: 53 }, { protocol: "TCP", port: 53 }]);
    expect(np.spec.egress[1]).to.deep.equal({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } }, podSelector: { matchLabels: SELECTOR } }],
      ports: [{ protocol: "TCP", port: 3128 }],
    });
    expect(np.spec.egress).to.have.length(2);
    const noInject = JSON.parse(envValue(runtime(await withOn({ egressProxy: { injectWorkerProxyEnv: false }, workers: { kubernetes: { extraEnv: { A: "1" } } } })).mindroom, "MINDROOM_KUBERNETES_WORKER_ENV_JSON")!);
    expect(noInject).to.deep.equal({ A: "1" });
  });

  it("AE14 service.name S names every object and the URLs; a long fullname is cut to 63 without a trailing '-'", async () => {
    const r = await withOn({ approvedEgress: { service: { name: "egress", proxyPort: 3129, apiPort: 8081 } } });
    for (const [kind, name] of [["Deployment", "egress"], ["Service", "egress"], ["ServiceAccount", "egress"], ["Role", "egress"], ["ConfigMap", "egress-config"], ["PersistentVolumeClaim", "egress-data"], ["NetworkPolicy", "egress-ingress"]]) {
      find(r.objects, kind, name);
    }
    const { mindroom } = runtime(r);
    expect(envValue(mindroom, "MINDROOM_APPROVED_EGRESS_API_URL")).to.equal("http://egress.mindroom.svc.cluster.local:8081");
    expect(JSON.parse(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_ENV_JSON")!).HTTP_PROXY).to.equal("http://egress.mindroom.svc.cluster.local:3129");
    expect(envValue(proxy(r.objects, "egress"), "MINDROOM_EGRESS_PROXY_LISTEN_PORT")).to.equal("3129");
    const long = await renderSqlite(mergeValues(ON, { fullnameOverride: "f".repeat(55) }));
    const name = ofKind(long.objects, "Deployment").map((d) => d.metadata!.name!).find((x) => x !== "f".repeat(55))!;
    expect(name).to.equal(`${"f".repeat(55)}-egress`);
  });

  it("every object it adds (all options on) is schema-valid for Kubernetes", async () => {
    const r = await withOn({
      workers: { kubernetes: { namespace: "w", extraLabels: { pool: "a" } } },
      approvedEgress: {
        allowlist: { domains: ["pypi.org"] },
        parentProxy: { enabled: true },
        persistence: { storageClassName: "fast" },
        podLabels: { team: "ai" },
        podAnnotations: { "a/b": "c" },
        service: { annotations: { "x/y": "z" } },
        serviceAccount: { annotations: { a: "b" } },
        sandboxProxyTimeoutSeconds: "90",
      },
    });
    validateKubeObjects(r.objects);
    validateKubeObjects((await withOn({ approvedEgress: { persistence: { enabled: false }, allowlist: { existingConfigMap: "X" } } })).objects);
  });
});

describe("runtime approvedEgress: validations (validate.yaml), valid and invalid", () => {
  it("its checks pass for the documented setup", () => {
    valid(ON);
    valid(mergeValues(ON, { approvedEgress: { image: { tag: "", digest: "sha256:" + "b".repeat(64) } } }));
    valid(mergeValues(ON, { approvedEgress: { parentProxy: { enabled: true } } }));
    // Off: nothing is checked, whatever the other values say.
    valid({ approvedEgress: { enabled: false, image: { repository: "" }, allowlist: { key: "" } } });
  });

  it("needs kubernetes workers, the worker policy and DNS egress (shared with egressProxy)", () => {
    invalid(mergeValues(ON, { workers: { backend: "static_runner" } }), /^approvedEgress\.enabled: needs workers\.backend=kubernetes/);
    invalid(mergeValues(ON, { workers: { kubernetes: { networkPolicy: { create: false } } } }), /^egressProxy\.networkPolicy\.create: needs workers\.kubernetes\.networkPolicy\.create=true/);
    invalid(mergeValues(ON, { egressProxy: { networkPolicy: { dns: { namespaceSelector: null, podSelector: null } } } }), /^egressProxy\.networkPolicy\.dns: needs namespaceSelector, podSelector or ipBlocks/);
    valid(mergeValues(ON, { egressProxy: { networkPolicy: { dns: { namespaceSelector: null, podSelector: null, ipBlocks: [{ cidr: "10.43.0.10/32" }] } } } }));
  });

  it("image.repository, and a tag or digest", () => {
    invalid(mergeValues(ON, { approvedEgress: { image: { repository: "" } } }), /^approvedEgress\.image\.repository: is required with approvedEgress\.enabled=true; set/);
    invalid(mergeValues(ON, { approvedEgress: { image: { tag: "" } } }), /^approvedEgress\.image: needs a tag or a digest with approvedEgress\.enabled=true.*pin approvedEgress\.image\.tag or \.digest$/);
  });

  it("serviceAccount.name when create=false", () => {
    invalid(mergeValues(ON, { approvedEgress: { serviceAccount: { create: false } } }), /^approvedEgress\.serviceAccount\.name: is required with approvedEgress\.serviceAccount\.create=false/);
    valid(mergeValues(ON, { approvedEgress: { serviceAccount: { create: false, name: "sa" } } }));
  });

  it("a token: its own Secret, or the sandbox proxy token (Secret or value), with a key", () => {
    const noToken = mergeValues(ON, { workers: { sandbox: { proxyToken: { existingSecret: "" } } } });
    invalid(noToken, /^approvedEgress\.token\.existingSecret: is required unless workers\.sandbox\.proxyToken is set/);
    valid(mergeValues(noToken, { approvedEgress: { token: { existingSecret: "T" } } }));
    valid(mergeValues(noToken, { workers: { sandbox: { proxyToken: { value: "inline" } } } }));
    invalid(mergeValues(noToken, { approvedEgress: { token: { existingSecret: "T", key: "" } } }), /^approvedEgress\.token\.key: is required with approvedEgress\.token\.existingSecret/);
    invalid(mergeValues(ON, { workers: { sandbox: { proxyToken: { key: "" } } } }), /^workers\.sandbox\.proxyToken\.key: is required with approvedEgress\.enabled=true/);
  });

  it("allowlist.key, and no domains beside an existing ConfigMap", () => {
    invalid(mergeValues(ON, { approvedEgress: { allowlist: { key: "" } } }), /^approvedEgress\.allowlist\.key: is required/);
    invalid(mergeValues(ON, { approvedEgress: { allowlist: { existingConfigMap: "X", domains: ["a.org"] } } }), /^approvedEgress\.allowlist\.domains: cannot be set with approvedEgress\.allowlist\.existingConfigMap/);
    valid(mergeValues(ON, { approvedEgress: { allowlist: { existingConfigMap: "X" } } }));
  });

  it("egressProxy.networkPolicy.create must stay on (workers could bypass the proxy)", () => {
    invalid(mergeValues(ON, { egressProxy: { networkPolicy: { create: false } } }), /^egressProxy\.networkPolicy\.create: must stay true with approvedEgress\.enabled=true, or workers could bypass the proxy/);
  });

  it("persistence.size for the chart's PVC (not with existingClaim or without persistence); a size must be a quantity", () => {
    invalid(mergeValues(ON, { approvedEgress: { persistence: { size: "" } } }), /^approvedEgress\.persistence\.size: is required for the chart-managed grants volume/);
    valid(mergeValues(ON, { approvedEgress: { persistence: { size: "", existingClaim: "C" } } }));
    valid(mergeValues(ON, { approvedEgress: { persistence: { size: "", enabled: false } } }));
    invalid(mergeValues(ON, { approvedEgress: { persistence: { size: "ten" } } }), /^approvedEgress\.persistence\.size: must be a Kubernetes quantity/);
  });

  it("parentProxy: a non-blank host and a port from 1 to 65535, only while it is on", () => {
    invalid(mergeValues(ON, { approvedEgress: { parentProxy: { enabled: true, host: "  " } } }), /^approvedEgress\.parentProxy\.host: is required with parentProxy\.enabled=true/);
    invalid(mergeValues(ON, { approvedEgress: { parentProxy: { enabled: true, port: 0 } } }), /^approvedEgress\.parentProxy\.port: must be a port from 1 to 65535 with parentProxy\.enabled=true, got 0$/);
    invalid(mergeValues(ON, { approvedEgress: { parentProxy: { enabled: true, port: 70000 } } }), /^approvedEgress\.parentProxy\.port: /);
    valid(mergeValues(ON, { approvedEgress: { parentProxy: { enabled: false, port: 0, host: "" } } }));
  });

  it("Kubernetes formats fail at parse time: ports, pull policy, a Service name", () => {
    invalid(mergeValues(ON, { approvedEgress: { service: { proxyPort: 0 } } }), /^approvedEgress\.service\.proxyPort: must be a port number/);
    invalid(mergeValues(ON, { approvedEgress: { image: { pullPolicy: "Sometimes" } } }), /^approvedEgress\.image\.pullPolicy: must be Always, IfNotPresent or Never/);
    invalid(mergeValues(ON, { approvedEgress: { service: { name: "Egress_Proxy" } } }), /^approvedEgress\.service\.name: must be lower-case letters/);
    invalid(mergeValues(ON, { approvedEgress: { unknownKey: 1 } }), /^approvedEgress: unknown key "unknownKey"/);
  });
});
