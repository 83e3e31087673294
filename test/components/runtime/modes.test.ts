/**
 * Every mode renders schema-valid Kubernetes objects; worker modes and namespace layouts; inline
 * secrets stay Pulumi secrets and never show in rendered output; component structure.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, kubeObjects, toYamlStream } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { MindroomRuntime } from "../../../components/runtime";
import { loadValuesFiles } from "../../../infra/values/load";
import { validateKubeObjects } from "../../support/kube-schema";
import { render, renderSqlite, runtime, find, ofKind, container, containerNames, envValue, envNames, secretRef, KUBE } from "./helpers";

const PRODUCTION = "test/fixtures/runtime/production-values.yaml";

const MODES: Record<string, Record<string, unknown>> = {
  "defaults (postgres)": {},
  "sqlite": { eventCache: { backend: "sqlite" } },
  "static_runner, everything on": {
    imagePullSecrets: [{ name: "ghcr" }],
    podAnnotations: { "a/b": "c" },
    deploymentAnnotations: { team: "ai" },
    podLabels: { tier: "app" },
    priorityClassName: "high",
    nodeSelector: { "kubernetes.io/os": "linux" },
    tolerations: [{ key: "dedicated", operator: "Equal", value: "ai", effect: "NoSchedule" }],
    affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: [{ matchExpressions: [{ key: "x", operator: "Exists" }] }] } } },
    topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "kubernetes.io/hostname", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: { a: "b" } } }],
    serviceAccount: { annotations: { "eks.amazonaws.com/role-arn": "arn" } },
    service: { annotations: { "x/y": "z" } },
    podDisruptionBudget: { create: true, minAvailable: "50%" },
    networkPolicy: { create: true, apiIngressFrom: [{ podSelector: { matchLabels: { app: "edge" } } }], extraEgress: [{ to: [{ ipBlock: { cidr: "10.0.0.0/8" } }] }] },
    runtime: { timezone: "Europe/Berlin", timing: true, logLevel: "DEBUG" },
    matrix: { homeserverUrl: "http://m:8008", serverName: "example.com", startupTimeoutSeconds: 120, registrationToken: { existingSecret: "R" } },
    workers: { sandbox: { proxyToken: { value: "inline-proxy-token" }, credentialsEncryptionKey: { existingSecret: "K" } } },
    eventCache: { postgres: { auth: { password: "inline-pg-password" }, persistence: { storageClassName: "fast", labels: { backup: "yes" } } } },
    env: { extra: [{ name: "FOO", value: "bar" }], envFrom: [{ configMapRef: { name: "extra" } }] },
    initContainers: [{ name: "init", image: "busybox", command: ["true"] }],
    extraContainers: [{ name: "side", image: "busybox" }],
    extraVolumes: [{ name: "extra", emptyDir: {} }],
    extraVolumeMounts: [{ name: "extra", mountPath: "/extra" }],
  },
  "kubernetes, release namespace": KUBE,
  "kubernetes, worker namespace": {
    workers: {
      backend: "kubernetes",
      kubernetes: {
        namespace: "mindroom-workers",
        image: { repository: "ghcr.io/mindroom-ai/worker", digest: "sha256:abc" },
        extraLabels: { pool: "a" },
        nodeName: "node-1",
        colocateWithControlPlaneNode: true,
        serviceAccount: { annotations: { a: "b" } },
      },
    },
  },
  "config file mode": { config: { source: "file", path: "/app/agent_data/config.yaml" }, workers: { backend: "kubernetes" } },
  "external config, claim and database": {
    config: { existingConfigMap: "cfg" },
    storage: { existingClaim: "data" },
    eventCache: { postgres: { create: false }, databaseUrl: { existingSecret: "db", key: "url" } },
  },
  "postgres without persistence": { eventCache: { postgres: { persistence: { enabled: false }, networkPolicy: { create: false } } } },
};

describe("runtime: every mode renders schema-valid objects", () => {
  for (const [mode, values] of Object.entries(MODES)) {
    it(`${mode}: validateKubeObjects on every object (secrets shown and redacted)`, async () => {
      const r = await render(values);
      expect(r.objects.length).to.be.at.least(3);
      validateKubeObjects(r.objects);
      validateKubeObjects(r.redacted);
      for (const o of r.objects) expect(o.metadata?.name, `${o.kind} has an explicit name`).to.be.a("string").and.not.equal("");
    });
  }

  it("the deployment guide's typical production values: schema-valid, external references wired", async () => {
    const r = await render(loadValuesFiles([PRODUCTION]));
    validateKubeObjects(r.objects);
    expect(ofKind(r.objects, "ConfigMap")).to.have.length(0);
    expect(ofKind(r.objects, "PersistentVolumeClaim")).to.have.length(0);
    const { deployment, mindroom } = runtime(r);
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "config", configMap: { name: "mindroom-config" } });
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_STORAGE_PVC_NAME")).to.equal("mindroom-data");
    expect(secretRef(mindroom, "MATRIX_REGISTRATION_TOKEN")).to.deep.equal({ name: "mindroom-secrets", key: "MATRIX_REGISTRATION_TOKEN" });
    expect(secretRef(mindroom, "MINDROOM_SANDBOX_PROXY_TOKEN")).to.deep.equal({ name: "mindroom-sandbox-proxy", key: "MINDROOM_SANDBOX_PROXY_TOKEN" });
    expect(mindroom.envFrom).to.deep.equal([{ secretRef: { name: "mindroom-secrets" } }]);
    expect(envValue(mindroom, "MATRIX_HOMESERVER")).to.equal("http://matrix.example.svc.cluster.local:8008");
  });
});

describe("runtime: worker modes and namespace layouts", () => {
  it("static_runner (default): sidecar, no worker objects, no MINDROOM_KUBERNETES_* env", async () => {
    const r = await renderSqlite();
    const { deployment, mindroom } = runtime(r);
    expect(containerNames(deployment)).to.deep.equal(["mindroom", "sandbox-runner"]);
    expect(ofKind(r.objects, "Role").length + ofKind(r.objects, "RoleBinding").length + ofKind(r.objects, "NetworkPolicy").length).to.equal(0);
    expect(envNames(mindroom).filter((n) => n.startsWith("MINDROOM_KUBERNETES_"))).to.deep.equal([]);
    expect(envValue(mindroom, "MINDROOM_WORKER_BACKEND")).to.equal("static_runner");
  });

  it("kubernetes in the release namespace: every worker object in RNS, worker env block in chart order", async () => {
    const r = await renderSqlite(KUBE);
    for (const o of r.objects) expect(o.metadata?.namespace).to.equal("mindroom");
    const { mindroom } = runtime(r);
    const block = envNames(mindroom).filter((n) => n.startsWith("MINDROOM_KUBERNETES_"));
    expect(block).to.deep.equal([
      "MINDROOM_KUBERNETES_WORKER_NAMESPACE",
      "MINDROOM_KUBERNETES_WORKER_AUTH_SECRET_NAME",
      "MINDROOM_KUBERNETES_WORKER_IMAGE",
      "MINDROOM_KUBERNETES_WORKER_IMAGE_PULL_POLICY",
      "MINDROOM_KUBERNETES_WORKER_PORT",
      "MINDROOM_KUBERNETES_WORKER_SERVICE_ACCOUNT_NAME",
      "MINDROOM_KUBERNETES_WORKER_STORAGE_PVC_NAME",
      "MINDROOM_KUBERNETES_WORKER_STORAGE_MOUNT_PATH",
      "MINDROOM_KUBERNETES_WORKER_STORAGE_SUBPATH_PREFIX",
      "MINDROOM_KUBERNETES_WORKER_CONFIG_MAP_NAME",
      "MINDROOM_KUBERNETES_WORKER_CONFIG_KEY",
      "MINDROOM_KUBERNETES_WORKER_CONFIG_PATH",
      "MINDROOM_KUBERNETES_WORKER_IDLE_TIMEOUT_SECONDS",
      "MINDROOM_KUBERNETES_WORKER_READY_TIMEOUT_SECONDS",
      "MINDROOM_KUBERNETES_WORKER_RECONCILE_POD_TEMPLATES",
      "MINDROOM_KUBERNETES_WORKER_NAME_PREFIX",
      "MINDROOM_KUBERNETES_WORKER_ENABLE_SERVICE_LINKS",
      "MINDROOM_KUBERNETES_WORKER_LABELS_JSON",
      "MINDROOM_KUBERNETES_WORKER_ANNOTATIONS_JSON",
      "MINDROOM_KUBERNETES_WORKER_EXTRA_VOLUMES_JSON",
      "MINDROOM_KUBERNETES_WORKER_EXTRA_CONTAINERS_JSON",
      "MINDROOM_KUBERNETES_WORKER_MEMORY_REQUEST",
      "MINDROOM_KUBERNETES_WORKER_MEMORY_LIMIT",
      "MINDROOM_KUBERNETES_WORKER_CPU_REQUEST",
      "MINDROOM_KUBERNETES_WORKER_CPU_LIMIT",
      "MINDROOM_KUBERNETES_DEFAULT_SCRIPT_RESOURCE_PROFILE",
      "MINDROOM_KUBERNETES_SCRIPT_RESOURCE_PROFILES_JSON",
      "MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME",
    ]);
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_NAMESPACE")).to.equal("mindroom");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_IMAGE")).to.equal("ghcr.io/mindroom-ai/mindroom:latest");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_IMAGE_PULL_POLICY")).to.equal("Always");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_CONFIG_MAP_NAME")).to.equal("mindroom-runtime-config");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_IDLE_TIMEOUT_SECONDS")).to.equal("1800");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_READY_TIMEOUT_SECONDS")).to.equal("60");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_ENABLE_SERVICE_LINKS")).to.equal("false");
  });

  it("kubernetes in a separate worker namespace: worker objects there, runtime objects in RNS, worker image and placement env", async () => {
    const r = await render(MODES["kubernetes, worker namespace"]);
    const inWorkers = r.objects.filter((o) => o.metadata?.namespace === "mindroom-workers").map((o) => `${o.kind}/${o.metadata?.name}`).sort();
    expect(inWorkers).to.deep.equal([
      "NetworkPolicy/mindroom-runtime-workers",
      "Role/mindroom-runtime-worker-manager",
      "RoleBinding/mindroom-runtime-worker-manager",
      "ServiceAccount/mindroom-runtime-worker",
    ]);
    for (const o of r.objects.filter((x) => !inWorkers.includes(`${x.kind}/${x.metadata?.name}`))) expect(o.metadata?.namespace).to.equal("mindroom");
    const { mindroom } = runtime(r);
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_NAMESPACE")).to.equal("mindroom-workers");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_IMAGE")).to.equal("ghcr.io/mindroom-ai/worker:latest@sha256:abc");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_NODE_NAME")).to.equal("node-1");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_COLOCATE_WITH_CONTROL_PLANE_NODE")).to.equal("true");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_LABELS_JSON")).to.equal('{"pool":"a"}');
    // The owner Deployment lives in another namespace: only emitted when set explicitly.
    expect(envNames(mindroom)).to.not.include("MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME");
    const np = find(r.objects, "NetworkPolicy", "mindroom-runtime-workers");
    expect(np.spec.podSelector.matchLabels.pool).to.equal("a");
    expect(np.spec.ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"]).to.equal("mindroom");
  });

  it("kubernetes: worker SA, RBAC and policy can each be turned off; names fall back as the chart does", async () => {
    const r = await renderSqlite({
      serviceAccount: { create: false },
      workers: { backend: "kubernetes", kubernetes: { serviceAccount: { create: false }, rbac: { create: false }, networkPolicy: { create: false }, ownerDeploymentName: "owner" } },
    });
    expect(ofKind(r.objects, "ServiceAccount").length + ofKind(r.objects, "Role").length + ofKind(r.objects, "NetworkPolicy").length).to.equal(0);
    const { deployment, mindroom } = runtime(r);
    expect(deployment.spec.template.spec.serviceAccountName).to.equal("default");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_SERVICE_ACCOUNT_NAME")).to.equal("default");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME")).to.equal("owner");
    const named = await renderSqlite({ serviceAccount: { create: false, name: "ops" }, workers: { backend: "kubernetes" } });
    expect(find(named.objects, "RoleBinding", "mindroom-runtime-worker-manager").subjects[0]).to.deep.equal({ kind: "ServiceAccount", name: "ops", namespace: "mindroom" });
  });

  it("the release namespace comes from the args (render --namespace)", async () => {
    const r = await renderSqlite(KUBE, { namespace: "apps" });
    for (const o of r.objects) expect(o.metadata?.namespace).to.equal("apps");
    expect(find(r.objects, "NetworkPolicy", "mindroom-runtime-workers").spec.ingress[0].from[0].namespaceSelector.matchLabels).to.deep.equal({ "kubernetes.io/metadata.name": "apps" });
  });
});

describe("runtime: secrets", () => {
  it("inline secrets are Pulumi secrets, live only in Kubernetes Secrets, and never appear in rendered output", async () => {
    const r = await render(MODES["static_runner, everything on"]);
    const secrets = r.regs.filter((x) => x.type === "kubernetes:core/v1:Secret");
    expect(secrets.map((s) => s.name).sort()).to.deep.equal(["mindroom-runtime-event-cache-postgres-auth", "mindroom-runtime-sandbox-proxy"]);
    for (const s of secrets) expect(containsSecret(s.inputs.stringData), s.name).to.equal(true);
    const yaml = toYamlStream(r.redacted);
    expect(yaml).to.not.contain("inline-proxy-token");
    expect(yaml).to.not.contain("inline-pg-password");
    // Nothing else carries them: no plaintext in any other registration.
    for (const reg of r.regs.filter((x) => x.type !== "kubernetes:core/v1:Secret")) {
      expect(JSON.stringify(reg.inputs), reg.name).to.not.contain("inline-proxy-token").and.to.not.contain("inline-pg-password");
    }
    const pg = find(r.objects, "Secret", "mindroom-runtime-event-cache-postgres-auth");
    expect(pg.stringData.MINDROOM_EVENT_CACHE_DATABASE_URL).to.contain(":inline-pg-password@");
    expect(r.regs.some((x) => x.type.startsWith("random:"))).to.equal(false);
  });

  it("a user name or password with URL characters is URL-encoded in the database URL", async () => {
    const r = await render({ eventCache: { postgres: { auth: { username: "mr@x", password: "p:w/d?" } } } });
    const url = find(r.objects, "Secret", "mindroom-runtime-event-cache-postgres-auth").stringData.MINDROOM_EVENT_CACHE_DATABASE_URL;
    expect(url).to.equal("postgresql://mr%40x:p%3Aw%2Fd%3F@mindroom-runtime-event-cache-postgres:5432/mindroom_cache");
  });

  it("a secret Output as proxyToken.value creates the Secret and stays secret", async () => {
    const regs = await recordProgram(
      () => new MindroomRuntime("mindroom-runtime", { eventCache: { backend: "sqlite" }, workers: { sandbox: { proxyToken: { value: pulumi.secret("from-config") } } } }),
    );
    const secret = regs.find((x) => x.name === "mindroom-runtime-sandbox-proxy")!;
    expect(containsSecret(secret.inputs.stringData)).to.equal(true);
    const shown = kubeObjects(regs, true).find((o) => o.kind === "Secret" && o.metadata?.name === "mindroom-runtime-sandbox-proxy");
    expect(shown?.stringData).to.deep.equal({ MINDROOM_SANDBOX_PROXY_TOKEN: "from-config" });
  });
});

describe("runtime: component structure", () => {
  it("every object is a child of mindroom:runtime:MindroomRuntime", async () => {
    const r = await render(MODES["kubernetes, release namespace"]);
    const component = r.regs.find((x) => x.type === "mindroom:runtime:MindroomRuntime");
    expect(component?.custom).to.equal(false);
    const children = r.regs.filter((x) => x.custom);
    // Exactly the rendered objects (the event-cache password is generated in-process, no resource), none outside the component.
    expect(children.map((x) => x.name)).to.include.members(["mindroom-runtime", "mindroom-runtime-worker-manager", "mindroom-runtime-event-cache-postgres"]);
    expect(children).to.have.length(r.objects.length);
    for (const reg of children) expect(reg.urn, reg.name).to.contain("mindroom:runtime:MindroomRuntime$");
  });

  it("the sidecar shares the main container's config and storage mounts", async () => {
    const { deployment } = runtime(await renderSqlite());
    const runner = container(deployment, "sandbox-runner");
    expect(envValue(runner, "MINDROOM_CONFIG_PATH")).to.equal("/app/config.yaml");
    expect(runner.volumeMounts.slice(0, 2)).to.deep.equal(container(deployment, "mindroom").volumeMounts.slice(0, 2));
    expect(runner.command).to.deep.equal(["tini", "--", "/app/run-sandbox-runner.sh"]);
  });
});

describe("runtime: worker-auth Secret ownership", () => {
  it("Pulumi ignores the data the runtime patches into {fullname}-worker-auth (never pruned by an update)", async () => {
    const ignored: Record<string, string[]> = {};
    await recordProgram(() => {
      // The mock monitor sees the full RegisterResource request, resource options included.
      type Req = { getName(): string; getIgnorechangesList(): string[] };
      const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): unknown };
      const original = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req: Req, cb: unknown) => {
        ignored[req.getName()] = req.getIgnorechangesList();
        return original(req, cb);
      };
      new MindroomRuntime("mindroom-runtime", { eventCache: { backend: "sqlite" }, workers: { backend: "kubernetes" } });
    });
    expect(ignored["mindroom-runtime-worker-auth"]).to.have.members(["data", "stringData"]);
    expect(ignored["mindroom-runtime"]).to.deep.equal([]);
  });
});
