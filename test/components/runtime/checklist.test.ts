/**
 * runtime.md §13, one or more assertions per item. Unless stated: release `mindroom-runtime` in
 * `mindroom`, `eventCache.backend=sqlite`.
 */
import { expect } from "chai";
import { parse } from "yaml";
import { containsSecret } from "../../../infra/render/manifests";
import { MindroomRuntime } from "../../../components/runtime";
import { render, renderSqlite, find, ofKind, container, containerNames, envValue, envNames, secretRef, runtime, KUBE, type Obj } from "./helpers";

const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();

describe("runtime §13 checklist", () => {
  it("§13.1 defaults (sqlite) register exactly Deployment, Service, ServiceAccount, ConfigMap and PVC", async () => {
    const r = await renderSqlite();
    expect(kinds(r.objects)).to.deep.equal([
      "ConfigMap/mindroom-runtime-config",
      "Deployment/mindroom-runtime",
      "PersistentVolumeClaim/mindroom-runtime-storage",
      "Service/mindroom-runtime",
      "ServiceAccount/mindroom-runtime",
    ]);
    for (const o of r.objects) expect(o.metadata?.namespace).to.equal("mindroom");
  });

  it("§13.2 fullname: foo → foo-mindroom-runtime, my-mindroom-runtime → itself, fullnameOverride wins, ≤63 without trailing -", async () => {
    expect((await renderSqlite({}, { name: "foo" })).objects.some((o) => o.metadata?.name === "foo-mindroom-runtime")).to.equal(true);
    const own = await renderSqlite({}, { name: "my-mindroom-runtime" });
    find(own.objects, "Deployment", "my-mindroom-runtime");
    find((await renderSqlite({ fullnameOverride: "custom" }, { name: "foo" })).objects, "Deployment", "custom");
    // 53 + "-mindroom-runtime" cut to 63 is "a…a-mindroom-"; the trailing dash goes.
    const long = ofKind((await renderSqlite({}, { name: "a".repeat(53) })).objects, "Deployment")[0].metadata!.name!;
    expect(long).to.equal(`${"a".repeat(53)}-mindroom`);
    const cut = ofKind((await renderSqlite({ fullnameOverride: "b".repeat(70) })).objects, "Deployment")[0].metadata!.name!;
    expect(cut).to.equal("b".repeat(63));
  });

  it("§13.3 Recreate strategy and the three selector labels; selectorLabels replaces them exactly", async () => {
    const { deployment } = runtime(await renderSqlite());
    expect(deployment.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(deployment.spec.selector.matchLabels).to.deep.equal({
      "app.kubernetes.io/name": "mindroom-runtime",
      "app.kubernetes.io/instance": "mindroom-runtime",
      "app.kubernetes.io/component": "runtime",
    });
    const adopted = await renderSqlite({ selectorLabels: { app: "legacy" } });
    expect(runtime(adopted).deployment.spec.selector.matchLabels).to.deep.equal({ app: "legacy" });
    expect(find(adopted.objects, "Service", "mindroom-runtime").spec.selector).to.deep.equal({ app: "legacy" });
  });

  it("§13.4 container mindroom runs tini → mindroom run on 0.0.0.0:8765 with port api", async () => {
    const { mindroom } = runtime(await renderSqlite());
    expect(mindroom.command).to.deep.equal(["tini", "--", "/app/.venv/bin/mindroom", "run", "--api-host", "0.0.0.0", "--api-port", "8765"]);
    expect(mindroom.ports).to.deep.equal([{ name: "api", containerPort: 8765, protocol: "TCP" }]);
  });

  it("§13.5 storage/home/config paths, MATRIX_MANAGED_ACCOUNT_AUTH=password, LOG_LEVEL=INFO", async () => {
    const { mindroom } = runtime(await renderSqlite());
    expect(envValue(mindroom, "MINDROOM_STORAGE_PATH")).to.equal("/app/agent_data");
    expect(envValue(mindroom, "HOME")).to.equal("/app/agent_data");
    expect(envValue(mindroom, "MINDROOM_CONFIG_PATH")).to.equal("/app/config.yaml");
    expect(envValue(mindroom, "MATRIX_MANAGED_ACCOUNT_AUTH")).to.equal("password");
    expect(envValue(mindroom, "LOG_LEVEL")).to.equal("INFO");
  });

  it("§13.6 default config.yaml names the event-journal backend (and the URL env for postgres)", async () => {
    const sqlite = parse(find((await renderSqlite()).objects, "ConfigMap", "mindroom-runtime-config").data["config.yaml"]);
    expect(sqlite).to.deep.equal({ agents: {}, models: {}, event_journal: { backend: "sqlite" } });
    const pg = parse(find((await render({})).objects, "ConfigMap", "mindroom-runtime-config").data["config.yaml"]);
    expect(pg.event_journal).to.deep.equal({ backend: "postgres", database_url_env: "MINDROOM_EVENT_CACHE_DATABASE_URL" });
  });

  it("§13.7 probes: defaults, custom liveness replaces wholesale, enabled:false removes", async () => {
    const { mindroom } = runtime(await renderSqlite());
    expect(mindroom.startupProbe).to.deep.equal({ httpGet: { path: "/api/ready", port: "api" }, periodSeconds: 5, timeoutSeconds: 10, failureThreshold: 120 });
    expect(mindroom.readinessProbe).to.deep.equal({ httpGet: { path: "/api/ready", port: "api" }, periodSeconds: 10, timeoutSeconds: 5, failureThreshold: 6 });
    expect(mindroom.livenessProbe).to.deep.equal({ httpGet: { path: "/api/health", port: "api" }, periodSeconds: 30, timeoutSeconds: 10, failureThreshold: 6 });
    const custom = { tcpSocket: { port: 8765 }, periodSeconds: 7 };
    const changed = runtime(await renderSqlite({ probes: { liveness: { custom }, startup: { enabled: false } } })).mindroom;
    expect(changed.livenessProbe).to.deep.equal(custom);
    expect(changed).to.not.have.property("startupProbe");
    expect(changed.readinessProbe.httpGet.path).to.equal("/api/ready");
  });

  it("§13.8 default resources and security contexts", async () => {
    const { deployment, mindroom } = runtime(await renderSqlite());
    expect(mindroom.resources).to.deep.equal({ requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "2Gi" } });
    expect(mindroom.resources.limits).to.not.have.property("cpu");
    expect(mindroom.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // Project: runAsNonRoot and RuntimeDefault seccomp on top of upstream's fsGroup (Pod Security restricted, docs/runtime.md).
    expect(deployment.spec.template.spec.securityContext).to.deep.equal({ fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch", runAsNonRoot: true, seccompProfile: { type: "RuntimeDefault" } });
  });

  it("§13.9 Service mindroom-runtime: ClusterIP, api 8765 → api", async () => {
    const svc = find((await renderSqlite()).objects, "Service", "mindroom-runtime");
    expect(svc.spec.type).to.equal("ClusterIP");
    expect(svc.spec.ports).to.deep.equal([{ name: "api", port: 8765, targetPort: "api", protocol: "TCP" }]);
  });

  it("§13.10 static_runner: sandbox-runner sidecar on 8766, workspace emptyDir, proxy URL on the main container", async () => {
    const { deployment, mindroom } = runtime(await renderSqlite());
    const runner = container(deployment, "sandbox-runner");
    expect(runner.ports).to.deep.equal([{ name: "sandbox", containerPort: 8766, protocol: "TCP" }]);
    expect(envValue(runner, "MINDROOM_SANDBOX_RUNNER_PORT")).to.equal("8766");
    expect(runner.volumeMounts).to.deep.include({ name: "sandbox-workspace", mountPath: "/app/workspace" });
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "sandbox-workspace", emptyDir: {} });
    expect(envValue(mindroom, "MINDROOM_SANDBOX_PROXY_URL")).to.equal("http://localhost:8766");
  });

  it("§13.11 credentialsEncryptionKey.existingSecret reaches both containers; absent without it", async () => {
    const withKey = runtime(await renderSqlite({ workers: { sandbox: { credentialsEncryptionKey: { existingSecret: "S" } } } }));
    const ref = { name: "S", key: "MINDROOM_CREDENTIALS_ENCRYPTION_KEY" };
    expect(secretRef(withKey.mindroom, "MINDROOM_CREDENTIALS_ENCRYPTION_KEY")).to.deep.equal(ref);
    expect(secretRef(container(withKey.deployment, "sandbox-runner"), "MINDROOM_CREDENTIALS_ENCRYPTION_KEY")).to.deep.equal(ref);
    const without = runtime(await renderSqlite());
    expect(envNames(without.mindroom)).to.not.include("MINDROOM_CREDENTIALS_ENCRYPTION_KEY");
    expect(envNames(container(without.deployment, "sandbox-runner"))).to.not.include("MINDROOM_CREDENTIALS_ENCRYPTION_KEY");
  });

  it("§13.12 proxyToken.value creates Secret mindroom-runtime-sandbox-proxy, secret in state, referenced by both containers", async () => {
    const r = await renderSqlite({ workers: { sandbox: { proxyToken: { value: "t0ken" } } } });
    const secret = find(r.objects, "Secret", "mindroom-runtime-sandbox-proxy");
    expect(secret.stringData).to.deep.equal({ MINDROOM_SANDBOX_PROXY_TOKEN: "t0ken" });
    const reg = r.regs.find((x) => x.type === "kubernetes:core/v1:Secret" && x.name === "mindroom-runtime-sandbox-proxy")!;
    expect(containsSecret(reg.inputs.stringData)).to.equal(true);
    expect(find(r.redacted, "Secret", "mindroom-runtime-sandbox-proxy").stringData.MINDROOM_SANDBOX_PROXY_TOKEN).to.equal("REDACTED");
    const { deployment, mindroom } = runtime(r);
    const ref = { name: "mindroom-runtime-sandbox-proxy", key: "MINDROOM_SANDBOX_PROXY_TOKEN" };
    expect(secretRef(mindroom, "MINDROOM_SANDBOX_PROXY_TOKEN")).to.deep.equal(ref);
    expect(secretRef(container(deployment, "sandbox-runner"), "MINDROOM_SANDBOX_PROXY_TOKEN")).to.deep.equal(ref);
  });

  it("§13.13 proxyToken.existingSecret: no Secret created, env references it", async () => {
    const r = await renderSqlite({ workers: { sandbox: { proxyToken: { existingSecret: "E", value: "ignored" } } } });
    expect(ofKind(r.objects, "Secret")).to.have.length(0);
    expect(secretRef(runtime(r).mindroom, "MINDROOM_SANDBOX_PROXY_TOKEN")).to.deep.equal({ name: "E", key: "MINDROOM_SANDBOX_PROXY_TOKEN" });
  });

  it("§13.14 config.existingConfigMap: no ConfigMap, the volume uses it", async () => {
    const r = await renderSqlite({ config: { existingConfigMap: "X" } });
    expect(ofKind(r.objects, "ConfigMap")).to.have.length(0);
    expect(runtime(r).deployment.spec.template.spec.volumes).to.deep.include({ name: "config", configMap: { name: "X" } });
  });

  it("§13.15 config.source=file: no ConfigMap or volume, config path P (also for kubernetes workers, without map name/key)", async () => {
    const file = { config: { source: "file", path: "/app/agent_data/cfg/config.yaml" } };
    const r = await renderSqlite(file);
    const { deployment, mindroom } = runtime(r);
    expect(ofKind(r.objects, "ConfigMap")).to.have.length(0);
    expect((deployment.spec.template.spec.volumes as Obj[]).map((v) => v.name)).to.not.include("config");
    expect((mindroom.volumeMounts as Obj[]).map((m) => m.name)).to.not.include("config");
    expect(envValue(mindroom, "MINDROOM_CONFIG_PATH")).to.equal("/app/agent_data/cfg/config.yaml");
    const kube = runtime(await renderSqlite({ ...file, ...KUBE })).mindroom;
    expect(envValue(kube, "MINDROOM_KUBERNETES_WORKER_CONFIG_PATH")).to.equal("/app/agent_data/cfg/config.yaml");
    expect(envNames(kube)).to.not.include.members(["MINDROOM_KUBERNETES_WORKER_CONFIG_MAP_NAME", "MINDROOM_KUBERNETES_WORKER_CONFIG_KEY"]);
  });

  it("§13.16 config.source=file with a relative path throws; config.source=other throws", () => {
    expect(() => new MindroomRuntime("mindroom-runtime", { config: { source: "file", path: "relative.yaml" } })).to.throw(/^config\.path: .*absolute/);
    expect(() => new MindroomRuntime("mindroom-runtime", { config: { source: "other" } })).to.throw(/^config\.source: must be configMap or file/);
  });

  it("§13.17 storage.existingClaim: no PVC; the volume and the worker PVC env use it", async () => {
    const r = await renderSqlite({ storage: { existingClaim: "C" }, ...KUBE });
    expect(ofKind(r.objects, "PersistentVolumeClaim")).to.have.length(0);
    const { deployment, mindroom } = runtime(r);
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "storage", persistentVolumeClaim: { claimName: "C" } });
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_STORAGE_PVC_NAME")).to.equal("C");
  });

  it("§13.18 storageClassName omitted when empty, present when set", async () => {
    expect(find((await renderSqlite()).objects, "PersistentVolumeClaim", "mindroom-runtime-storage").spec).to.not.have.property("storageClassName");
    const set = find((await renderSqlite({ storage: { storageClassName: "hcloud-volumes" } })).objects, "PersistentVolumeClaim", "mindroom-runtime-storage");
    expect(set.spec.storageClassName).to.equal("hcloud-volumes");
  });

  it("§13.19 MATRIX_HOMESERVER / MATRIX_SERVER_NAME present when set, absent when unset", async () => {
    const set = runtime(await renderSqlite({ matrix: { homeserverUrl: "http://matrix:8008", serverName: "example.com" } })).mindroom;
    expect(envValue(set, "MATRIX_HOMESERVER")).to.equal("http://matrix:8008");
    expect(envValue(set, "MATRIX_SERVER_NAME")).to.equal("example.com");
    const unset = runtime(await renderSqlite()).mindroom;
    expect(envNames(unset)).to.not.include.members(["MATRIX_HOMESERVER", "MATRIX_SERVER_NAME", "MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS"]);
  });

  it("§13.20 registrationToken.existingSecret → MATRIX_REGISTRATION_TOKEN secretKeyRef", async () => {
    const { mindroom } = runtime(await renderSqlite({ matrix: { registrationToken: { existingSecret: "R" } } }));
    expect(secretRef(mindroom, "MATRIX_REGISTRATION_TOKEN")).to.deep.equal({ name: "R", key: "MATRIX_REGISTRATION_TOKEN" });
  });

  it("§13.21 appservice without its secret throws; appservice with a registration token throws; other throws", () => {
    expect(() => new MindroomRuntime("r", { matrix: { managedAccountAuth: "appservice" } })).to.throw(/^matrix\.appserviceToken: .*existingSecret/);
    expect(
      () =>
        new MindroomRuntime("r", {
          matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "A" }, registrationToken: { existingSecret: "R" } },
        }),
    ).to.throw(/^matrix\.registrationToken\.existingSecret: .*not allowed/);
    expect(() => new MindroomRuntime("r", { matrix: { managedAccountAuth: "other" } })).to.throw(/^matrix\.managedAccountAuth: must be password or appservice/);
  });

  it("§13.22 env.extra is appended after all chart env; env.envFrom becomes envFrom", async () => {
    const extra = [{ name: "FOO", value: "bar" }, { name: "LOG_LEVEL", value: "DEBUG" }];
    const envFrom = [{ secretRef: { name: "mindroom-secrets" } }];
    const { mindroom } = runtime(await renderSqlite({ env: { extra, envFrom }, matrix: { registrationToken: { existingSecret: "R" } } }));
    expect(mindroom.env.slice(-2)).to.deep.equal(extra);
    expect(envNames(mindroom).indexOf("MATRIX_REGISTRATION_TOKEN")).to.equal(mindroom.env.length - 3);
    expect(mindroom.envFrom).to.deep.equal(envFrom);
  });

  it("§13.23 kubernetes, same namespace: empty worker-auth Secret, env names it, Role touches only it (get/patch)", async () => {
    const r = await renderSqlite(KUBE);
    const secret = find(r.objects, "Secret", "mindroom-runtime-worker-auth");
    expect(secret.metadata!.namespace).to.equal("mindroom");
    expect(secret).to.not.have.any.keys("data", "stringData");
    expect(envValue(runtime(r).mindroom, "MINDROOM_KUBERNETES_WORKER_AUTH_SECRET_NAME")).to.equal("mindroom-runtime-worker-auth");
    const rules = find(r.objects, "Role", "mindroom-runtime-worker-manager").rules as Obj[];
    const secretRules = rules.filter((rule) => (rule.resources as string[]).includes("secrets"));
    expect(secretRules).to.deep.equal([{ apiGroups: [""], resources: ["secrets"], resourceNames: ["mindroom-runtime-worker-auth"], verbs: ["get", "patch"] }]);
  });

  it("§13.24 kubernetes, worker namespace W: RBAC, worker SA and policy in W; broad secret verbs only there; no auth Secret", async () => {
    const r = await renderSqlite({ workers: { backend: "kubernetes", kubernetes: { namespace: "mindroom-workers" } } });
    for (const [kind, name] of [
      ["Role", "mindroom-runtime-worker-manager"],
      ["RoleBinding", "mindroom-runtime-worker-manager"],
      ["ServiceAccount", "mindroom-runtime-worker"],
      ["NetworkPolicy", "mindroom-runtime-workers"],
    ]) {
      expect(find(r.objects, kind, name).metadata!.namespace, `${kind} ${name}`).to.equal("mindroom-workers");
    }
    const secretRule = (find(r.objects, "Role", "mindroom-runtime-worker-manager").rules as Obj[]).find((x) => x.resources.includes("secrets"))!;
    expect(secretRule).to.deep.equal({ apiGroups: [""], resources: ["secrets"], verbs: ["create", "delete", "get", "patch"] });
    expect(envNames(runtime(r).mindroom)).to.not.include("MINDROOM_KUBERNETES_WORKER_AUTH_SECRET_NAME");
    expect(ofKind(r.objects, "Secret")).to.have.length(0);
    expect(find(r.objects, "RoleBinding", "mindroom-runtime-worker-manager").subjects).to.deep.equal([
      { kind: "ServiceAccount", name: "mindroom-runtime", namespace: "mindroom" },
    ]);
  });

  it("§13.25 kubernetes: worker SA has no token automount and the env names it", async () => {
    const r = await renderSqlite(KUBE);
    expect(find(r.objects, "ServiceAccount", "mindroom-runtime-worker").automountServiceAccountToken).to.equal(false);
    expect(envValue(runtime(r).mindroom, "MINDROOM_KUBERNETES_WORKER_SERVICE_ACCOUNT_NAME")).to.equal("mindroom-runtime-worker");
  });

  it("§13.26 kubernetes: reconcile flag, resource env, default profile and the three-profile JSON", async () => {
    const { mindroom } = runtime(await renderSqlite(KUBE));
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_RECONCILE_POD_TEMPLATES")).to.equal("true");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_MEMORY_REQUEST")).to.equal("256Mi");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_MEMORY_LIMIT")).to.equal("1Gi");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_CPU_REQUEST")).to.equal("100m");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_CPU_LIMIT")).to.equal("500m");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_DEFAULT_SCRIPT_RESOURCE_PROFILE")).to.equal("small");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_SCRIPT_RESOURCE_PROFILES_JSON")).to.equal(
      '{"large":{"limits":{"cpu":"2","memory":"8Gi"},"requests":{"cpu":"500m","memory":"2Gi"}},' +
        '"small":{"limits":{"cpu":"500m","memory":"1Gi"},"requests":{"cpu":"100m","memory":"256Mi"}},' +
        '"standard":{"limits":{"cpu":"1","memory":"2Gi"},"requests":{"cpu":"250m","memory":"512Mi"}}}',
    );
  });

  it("§13.27 kubernetes: JSON defaults and owner deployment; ENV_JSON only with extraEnv", async () => {
    const { mindroom } = runtime(await renderSqlite(KUBE));
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_LABELS_JSON")).to.equal("{}");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_ANNOTATIONS_JSON")).to.equal("{}");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_EXTRA_VOLUMES_JSON")).to.equal("[]");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_EXTRA_CONTAINERS_JSON")).to.equal("[]");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME")).to.equal("mindroom-runtime");
    expect(envNames(mindroom)).to.not.include("MINDROOM_KUBERNETES_WORKER_ENV_JSON");
    const withEnv = runtime(await renderSqlite({ workers: { backend: "kubernetes", kubernetes: { extraEnv: { PIP_INDEX_URL: "https://pypi.example" } } } })).mindroom;
    expect(envValue(withEnv, "MINDROOM_KUBERNETES_WORKER_ENV_JSON")).to.equal('{"PIP_INDEX_URL":"https://pypi.example"}');
  });

  it("§13.28 kubernetes: no sandbox-runner and no MINDROOM_SANDBOX_PROXY_URL", async () => {
    const { deployment, mindroom } = runtime(await renderSqlite(KUBE));
    expect(containerNames(deployment)).to.deep.equal(["mindroom"]);
    expect(envNames(mindroom)).to.not.include("MINDROOM_SANDBOX_PROXY_URL");
    expect((deployment.spec.template.spec.volumes as Obj[]).map((v) => v.name)).to.not.include("sandbox-workspace");
  });

  it("§13.29 kubernetes: workers NetworkPolicy admits only runtime pods from RNS on TCP 8766, Ingress only", async () => {
    const np = find((await renderSqlite(KUBE)).objects, "NetworkPolicy", "mindroom-runtime-workers");
    expect(np.spec.podSelector.matchLabels).to.deep.equal({
      "mindroom.ai/component": "worker",
      "app.kubernetes.io/managed-by": "mindroom",
      "app.kubernetes.io/name": "mindroom-worker",
    });
    expect(np.spec.policyTypes).to.deep.equal(["Ingress"]);
    expect(np.spec.ingress).to.deep.equal([
      {
        from: [
          {
            namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } },
            podSelector: {
              matchLabels: { "app.kubernetes.io/name": "mindroom-runtime", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "runtime" },
            },
          },
        ],
        ports: [{ protocol: "TCP", port: 8766 }],
      },
    ]);
  });

  it("§13.30 networkPolicy.create: API port only (from anyone or apiIngressFrom) plus extraIngress; Egress only with extraEgress", async () => {
    const open = find((await renderSqlite({ networkPolicy: { create: true } })).objects, "NetworkPolicy", "mindroom-runtime");
    expect(open.spec.ingress).to.deep.equal([{ ports: [{ protocol: "TCP", port: 8765 }] }]);
    expect(open.spec.policyTypes).to.deep.equal(["Ingress"]);
    expect(open.spec).to.not.have.property("egress");
    const peer = { podSelector: { matchLabels: { app: "edge" } } };
    const extraIngress = { from: [{ podSelector: { matchLabels: { app: "metrics" } } }], ports: [{ port: 9090 }] };
    const extraEgress = { to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] };
    const closed = find(
      (await renderSqlite({ networkPolicy: { create: true, apiIngressFrom: [peer], extraIngress: [extraIngress], extraEgress: [extraEgress] } })).objects,
      "NetworkPolicy",
      "mindroom-runtime",
    );
    expect(closed.spec.ingress).to.deep.equal([{ from: [peer], ports: [{ protocol: "TCP", port: 8765 }] }, extraIngress]);
    expect(closed.spec.policyTypes).to.deep.equal(["Ingress", "Egress"]);
    expect(closed.spec.egress).to.deep.equal([extraEgress]);
  });

  it("§13.31 podDisruptionBudget.create: policy/v1 with maxUnavailable 1, or only minAvailable when set", async () => {
    const pdb = find((await renderSqlite({ podDisruptionBudget: { create: true } })).objects, "PodDisruptionBudget", "mindroom-runtime");
    expect(pdb.apiVersion).to.equal("policy/v1");
    expect(pdb.spec.maxUnavailable).to.equal(1);
    const min = find((await renderSqlite({ podDisruptionBudget: { create: true, minAvailable: 1 } })).objects, "PodDisruptionBudget", "mindroom-runtime");
    expect(min.spec.minAvailable).to.equal(1);
    expect(min.spec).to.not.have.property("maxUnavailable");
  });

  it("§13.32 backend other throws; databaseUrlEnv=DB_URL throws; external URL Secret S is wired", async () => {
    expect(() => new MindroomRuntime("r", { eventCache: { backend: "other" } })).to.throw(/^eventCache\.backend: must be postgres or sqlite/);
    expect(() => new MindroomRuntime("r", { eventCache: { databaseUrlEnv: "DB_URL" } })).to.throw(/^eventCache\.databaseUrlEnv: "DB_URL" must be DATABASE_URL or end in _DATABASE_URL/);
    const r = await render({ eventCache: { postgres: { create: false }, databaseUrl: { existingSecret: "S" } } });
    expect(secretRef(runtime(r).mindroom, "MINDROOM_EVENT_CACHE_DATABASE_URL")).to.deep.equal({ name: "S", key: "MINDROOM_EVENT_CACHE_DATABASE_URL" });
    expect(ofKind(r.objects, "StatefulSet")).to.have.length(0);
  });

  it("§13.33 defaults add the postgres auth Secret, headless Service, StatefulSet and NetworkPolicy", async () => {
    const r = await render({});
    const pg = "mindroom-runtime-event-cache-postgres";
    find(r.objects, "Secret", `${pg}-auth`);
    expect(find(r.objects, "Service", pg).spec.clusterIP).to.equal("None");
    find(r.objects, "StatefulSet", pg);
    find(r.objects, "NetworkPolicy", pg);
    expect(kinds(r.objects)).to.have.length(9);
  });

  it("§13.34 defaults: the URL env points at the auth Secret holding the full URL; the password is stable across ups", async () => {
    const first = await render({});
    const pg = "mindroom-runtime-event-cache-postgres";
    expect(secretRef(runtime(first).mindroom, "MINDROOM_EVENT_CACHE_DATABASE_URL")).to.deep.equal({ name: `${pg}-auth`, key: "MINDROOM_EVENT_CACHE_DATABASE_URL" });
    const data = find(first.objects, "Secret", `${pg}-auth`).stringData as Record<string, string>;
    expect(data.password).to.match(/^[A-Za-z0-9]{32}$/);
    expect(data.MINDROOM_EVENT_CACHE_DATABASE_URL).to.equal(`postgresql://mindroom_cache:${data.password}@${pg}:5432/mindroom_cache`);
    const reg = first.regs.find((x) => x.type === "kubernetes:core/v1:Secret" && x.name === `${pg}-auth`)!;
    expect(containsSecret(reg.inputs.stringData)).to.equal(true);
    // Generated in-process, no random:* resource; a render repeats it, a real up keeps the Secret's state (ignoreChanges, test/components/runtime/postgres-password.test.ts).
    expect(first.regs.filter((x) => x.type.startsWith("random:"))).to.deep.equal([]);
    const second = await render({ image: { tag: "v2" }, eventCache: { postgres: { persistence: { size: "40Gi" } } } });
    expect((find(second.objects, "Secret", `${pg}-auth`).stringData as Record<string, string>).password).to.equal(data.password);
  });

  it("§13.35 defaults: postgres:17 StatefulSet, PGDATA, pg_isready probes, 20Gi RWO claim; policy admits runtime pods on 5432", async () => {
    const r = await render({});
    const pg = "mindroom-runtime-event-cache-postgres";
    const sts = find(r.objects, "StatefulSet", pg);
    const c = sts.spec.template.spec.containers[0] as Obj;
    expect(c.image).to.equal("postgres:17");
    expect(envValue(c, "PGDATA")).to.equal("/var/lib/postgresql/data/pgdata");
    expect(c.readinessProbe.exec.command).to.deep.equal(["pg_isready", "-U", "mindroom_cache", "-d", "mindroom_cache"]);
    expect(c.livenessProbe.exec.command).to.deep.equal(["pg_isready", "-U", "mindroom_cache", "-d", "mindroom_cache"]);
    expect(c.livenessProbe.periodSeconds).to.equal(30);
    // Project (docs/runtime.md, Pod Security): what the image's root start tolerates; upstream sets none.
    expect(sts.spec.template.spec.securityContext).to.deep.equal({ seccompProfile: { type: "RuntimeDefault" } });
    expect(c.securityContext).to.deep.equal({ allowPrivilegeEscalation: false });
    const claim = sts.spec.volumeClaimTemplates[0] as Obj;
    expect(claim.metadata?.name).to.equal("data");
    expect(claim.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } } });
    const np = find(r.objects, "NetworkPolicy", pg);
    expect(np.spec.ingress).to.deep.equal([
      {
        from: [{ podSelector: { matchLabels: { "app.kubernetes.io/name": "mindroom-runtime", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "runtime" } } }],
        ports: [{ protocol: "TCP", port: 5432 }],
      },
    ]);
    expect(np.spec.podSelector.matchLabels["app.kubernetes.io/component"]).to.equal("event-cache-postgres");
  });

  it("§13.36 postgres.auth.existingSecret without databaseUrl.existingSecret throws", () => {
    expect(() => new MindroomRuntime("r", { eventCache: { postgres: { auth: { existingSecret: "pg" } } } })).to.throw(
      /^eventCache\.postgres\.auth\.existingSecret: needs eventCache\.databaseUrl\.existingSecret/,
    );
  });
});
