import { expect } from "chai";
import { createHash } from "node:crypto";
import { container, envOf, K8S_RWX, mindroomEnv, podSpec, renderArgs, renderValues } from "./helpers";

const sha = (text: string) => createHash("sha256").update(text).digest("hex");
const annotations = (r: Awaited<ReturnType<typeof renderArgs>>, name = "mindroom-t1") => r.get("Deployment", name).spec.template.metadata.annotations;

describe("MindroomInstance: MindRoom Deployment (spec §17 items 14-31)", () => {
  let r: Awaited<ReturnType<typeof renderArgs>>;
  before(async () => {
    r = await renderArgs({ customer: "t1", accountId: "acc-9" });
  });

  it("14: mindroom-{c} has strategy Recreate, replicas 1 and selector app=mindroom, customer", () => {
    const d = r.get("Deployment", "mindroom-t1");
    expect(d.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(d.spec.replicas).to.equal(1);
    expect(d.spec.selector).to.deep.equal({ matchLabels: { app: "mindroom", customer: "t1" } });
    expect(d.spec.template.metadata.labels).to.deep.equal({ app: "mindroom", customer: "t1" });
  });

  it("project value stopped: true renders both Deployments at 0 replicas (a re-apply keeps a stopped tenant stopped); 'yes' is refused", async () => {
    const stopped = await renderValues({ customer: "t1", stopped: true });
    expect(stopped.get("Deployment", "mindroom-t1").spec.replicas).to.equal(0);
    expect(stopped.get("Deployment", "synapse-t1").spec.replicas).to.equal(0);
    expect(r.get("Deployment", "synapse-t1").spec.replicas).to.equal(1);
    expect(() => renderValues({ customer: "t1", stopped: "yes" })).to.throw(/stopped: expected true or false/);
  });

  it("15: the pod runs as uid/gid/fsGroup 1000, non-root, fsGroupChangePolicy OnRootMismatch; project: RuntimeDefault seccomp (Pod Security restricted)", () => {
    expect(podSpec(r.get("Deployment", "mindroom-t1")).securityContext).to.deep.equal({
      runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, runAsNonRoot: true, fsGroupChangePolicy: "OnRootMismatch", seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("16: init container wait-for-synapse polls SYNAPSE_READY_URL with the MindRoom image", () => {
    const init = container(r.get("Deployment", "mindroom-t1"), "wait-for-synapse");
    expect(envOf(init)).to.deep.equal({ SYNAPSE_READY_URL: "http://synapse-t1:8008/_matrix/client/versions" });
    expect(init.image).to.equal("ghcr.io/mindroom-ai/mindroom:latest");
    expect(init.args[0]).to.contain('"versions"').and.contain("sleep 2").and.contain("--max-time 5");
    expect(init).to.not.have.property("resources");
    // Project: no escalation, no capabilities (upstream sets none); a curl loop needs neither.
    expect(init.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });

  it("(issue 9) no ServiceAccount token in the pod unless it is the worker manager: static mode disables it, kubernetes mode keeps the worker-manager's", async () => {
    const spec = podSpec(r.get("Deployment", "mindroom-t1"));
    expect(spec.automountServiceAccountToken).to.equal(false);
    expect(spec).to.not.have.property("serviceAccountName");
    const k8s = podSpec((await renderValues({ customer: "t1", ...K8S_RWX })).get("Deployment", "mindroom-t1"));
    expect(k8s.serviceAccountName).to.equal("mindroom-worker-manager-t1");
    // The runtime creates worker Deployments with this token; switching it off would break the mode.
    expect(k8s).to.not.have.property("automountServiceAccountToken");
  });

  it("17: container mindroom exposes 8765 as api with the startup/readiness/liveness probes", () => {
    const c = container(r.get("Deployment", "mindroom-t1"), "mindroom");
    expect(c.ports).to.deep.equal([{ containerPort: 8765, name: "api" }]);
    expect(c.startupProbe).to.deep.equal({ httpGet: { path: "/api/health", port: "api" }, periodSeconds: 2, failureThreshold: 90 });
    expect(c.readinessProbe).to.deep.equal({ httpGet: { path: "/api/ready", port: "api" }, periodSeconds: 5, failureThreshold: 6 });
    expect(c.livenessProbe).to.deep.equal({ httpGet: { path: "/api/health", port: "api" }, periodSeconds: 10, failureThreshold: 6 });
    expect(c).to.not.have.property("command");
  });

  it("18: mindroom mounts the tenant Secret read-only at /etc/secrets; the third volume is that Secret with mode 0400", () => {
    const d = r.get("Deployment", "mindroom-t1");
    expect(podSpec(d).volumes[2]).to.deep.equal({ name: "api-keys", secret: { secretName: "mindroom-api-keys-t1", defaultMode: 0o400 } });
    expect(container(d, "mindroom").volumeMounts).to.deep.include({ name: "api-keys", mountPath: "/etc/secrets", readOnly: true });
  });

  it("19: mindroom mounts the PVC at /mindroom_data and config.yaml of mindroom-config-{c} at /app/config.yaml", () => {
    const d = r.get("Deployment", "mindroom-t1");
    const mounts = container(d, "mindroom").volumeMounts;
    expect(mounts).to.deep.include({ name: "storage", mountPath: "/mindroom_data" });
    expect(mounts).to.deep.include({ name: "config", mountPath: "/app/config.yaml", subPath: "config.yaml" });
    expect(podSpec(d).volumes.slice(0, 2)).to.deep.equal([
      { name: "storage", persistentVolumeClaim: { claimName: "mindroom-storage-t1" } },
      { name: "config", configMap: { name: "mindroom-config-t1" } },
    ]);
  });

  it("20: MINDROOM_CONFIG_PATH is the PVC copy and MINDROOM_CONFIG_TEMPLATE the ConfigMap seed", () => {
    const env = mindroomEnv(r, "t1");
    expect(env.MINDROOM_CONFIG_PATH).to.equal("/mindroom_data/config/config.yaml");
    expect(env.MINDROOM_CONFIG_TEMPLATE).to.equal("/app/config.yaml");
  });

  it("21: provider API keys are files: *_API_KEY_FILE=/etc/secrets/{provider}_key, never values", () => {
    const env = mindroomEnv(r, "t1");
    for (const p of ["openai", "anthropic", "openrouter", "google", "deepseek"]) {
      expect(env[`${p.toUpperCase()}_API_KEY_FILE`]).to.equal(`/etc/secrets/${p}_key`);
      expect(env).to.not.have.property(`${p.toUpperCase()}_API_KEY`);
    }
  });

  it("22: SUPABASE_SERVICE_KEY_FILE and MATRIX_REGISTRATION_SHARED_SECRET_FILE point into /etc/secrets", () => {
    const env = mindroomEnv(r, "t1");
    expect(env.SUPABASE_SERVICE_KEY_FILE).to.equal("/etc/secrets/supabase_service_key");
    expect(env.MATRIX_REGISTRATION_SHARED_SECRET_FILE).to.equal("/etc/secrets/matrix_registration_shared_secret");
  });

  it("23: sandbox token and credentials key are secretKeyRefs even when empty; raw values never in the Deployment", async () => {
    for (const values of [{}, { sandbox_proxy_token: "TOK-RAW", credentials_encryption_key: "KEY-RAW" }]) {
      const x = await renderValues({ customer: "t1", ...values });
      const env = mindroomEnv(x, "t1");
      expect(env.MINDROOM_SANDBOX_PROXY_TOKEN).to.deep.equal({ secretKeyRef: { name: "mindroom-api-keys-t1", key: "sandbox_proxy_token" } });
      expect(env.MINDROOM_CREDENTIALS_ENCRYPTION_KEY).to.deep.equal({ secretKeyRef: { name: "mindroom-api-keys-t1", key: "credentials_encryption_key" } });
      const deployments = JSON.stringify(x.objects.filter((o) => o.kind === "Deployment"));
      expect(deployments).to.not.contain("TOK-RAW").and.not.contain("KEY-RAW");
    }
  });

  it("24: Matrix env: MATRIX_HOMESERVER, MINDROOM_DESKTOP_MATRIX_HOMESERVER, MATRIX_SERVER_NAME", async () => {
    const x = await renderArgs({ customer: "t1", baseDomain: "example.org" });
    const env = mindroomEnv(x, "t1");
    expect(env.MATRIX_HOMESERVER).to.equal("http://synapse-t1:8008");
    expect(env.MINDROOM_DESKTOP_MATRIX_HOMESERVER).to.equal("https://t1.matrix.example.org");
    expect(env.MATRIX_SERVER_NAME).to.equal("t1.example.org");
  });

  it("25: MINDROOM_PUBLIC_URL and MINDROOM_PLATFORM_LOGIN_URL", async () => {
    const x = await renderArgs({ customer: "t1", baseDomain: "example.org" });
    const env = mindroomEnv(x, "t1");
    expect(env.MINDROOM_PUBLIC_URL).to.equal("https://t1.example.org");
    expect(env.MINDROOM_PLATFORM_LOGIN_URL).to.equal("https://app.example.org/auth/login");
  });

  it("26: sandbox execution mode, proxy tools and log level", () => {
    const env = mindroomEnv(r, "t1");
    expect(env.MINDROOM_SANDBOX_EXECUTION_MODE).to.equal("selective");
    expect(env.MINDROOM_SANDBOX_PROXY_TOOLS).to.equal("shell,file,python");
    expect(env.LOG_LEVEL).to.equal("INFO");
  });

  it("27: CUSTOMER_ID and ACCOUNT_ID (empty when unset)", async () => {
    expect(mindroomEnv(r, "t1")).to.include({ CUSTOMER_ID: "t1", ACCOUNT_ID: "acc-9" });
    expect(mindroomEnv(await renderArgs({ customer: "t1" }), "t1").ACCOUNT_ID).to.equal("");
  });

  it("28: startup timeout \"0\" and cleanup interval \"30\" by default, as strings", async () => {
    expect(mindroomEnv(r, "t1")).to.include({ MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "0", MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS: "30" });
    const x = await renderValues({ customer: "t1", matrixHomeserverStartupTimeoutSeconds: 120, workerCleanupIntervalSeconds: 5 });
    expect(mindroomEnv(x, "t1")).to.include({ MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS: "120", MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS: "5" });
  });

  it("29: default mindroom resources; null mindroomResources gives resources: {}", async () => {
    expect(container(r.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal({
      requests: { memory: "512Mi", cpu: "250m" }, limits: { memory: "2Gi", cpu: "1000m" },
    });
    const x = await renderValues({ customer: "t1", mindroomResources: null });
    expect(container(x.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal({});
    const merged = await renderValues({ customer: "t1", mindroomResources: { requests: { cpu: "300m" } } });
    expect(container(merged.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal({
      requests: { memory: "512Mi", cpu: "300m" }, limits: { memory: "2Gi", cpu: "1000m" },
    });
  });

  it("29: a resource map merges over the default as Helm coalesces it, in a values file and in TypeScript args alike; a null inside removes that default key", async () => {
    const given = { requests: { cpu: "300m" }, limits: { cpu: null } };
    const want = { requests: { memory: "512Mi", cpu: "300m" }, limits: { memory: "2Gi" } };
    const fromValues = await renderValues({ customer: "t1", mindroomResources: given });
    const fromArgs = await renderArgs({ customer: "t1", mindroomResources: given });
    expect(container(fromValues.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal(want);
    expect(container(fromArgs.get("Deployment", "mindroom-t1"), "mindroom").resources).to.deep.equal(want);
    const noRequests = await renderArgs({ customer: "t1", synapseResources: { requests: null } });
    expect(container(noRequests.get("Deployment", "synapse-t1"), "synapse").resources).to.deep.equal({ limits: { memory: "2Gi", cpu: "1000m" } });
  });

  it("30: config-hash changes with baseDomain, each trustedUpstreamAuth field, global users and room access, not with the image", async () => {
    const base = { customer: "t1" };
    const hash = async (extra: Record<string, unknown>) => annotations(await renderValues({ ...base, ...extra }))["mindroom.ai/config-hash"] as string;
    const h0 = await hash({});
    expect(h0).to.match(/^[0-9a-f]{64}$/);
    expect(await hash({ mindroom_image: "ghcr.io/mindroom-ai/mindroom:v2", mindroomResources: null })).to.equal(h0);
    const changes: Record<string, unknown>[] = [
      { baseDomain: "example.org" },
      { authorizationGlobalUsers: ["@a:t1.mindroom.chat"] },
      { matrixRoomAccess: { mode: "multi_user" } },
      ...["userIdHeader", "emailHeader", "matrixUserIdHeader", "emailToMatrixUserIdTemplate", "jwtHeader", "jwksUrl",
        "jwtAudience", "jwtIssuer", "jwtEmailClaim", "jwtUserIdClaim", "jwtMatrixUserIdClaim"].map((k) => ({ trustedUpstreamAuth: { [k]: "x{localpart}" } })),
      { trustedUpstreamAuth: { requireJwt: "true" } },
      { trustedUpstreamAuth: { enabled: "no" } },
    ];
    const seen = new Set([h0]);
    for (const change of changes) {
      const h = await hash(change);
      expect(seen.has(h), JSON.stringify(change)).to.equal(false);
      seen.add(h);
    }
  });

  it("30 (§5.2): config-hash is SHA-256 of the 22 inputs in the chart's order, joined with |", async () => {
    const x = await renderValues({
      customer: 42, baseDomain: "b.org", accountId: "acc", storagePath: "/d", supabaseUrl: "https://s", supabaseAnonKey: "anon",
      trustedUpstreamAuth: {
        enabled: true, userIdHeader: "U", emailHeader: "E", matrixUserIdHeader: "M", emailToMatrixUserIdTemplate: "@{localpart}:t",
        requireJwt: "yes", jwtHeader: "JH", jwksUrl: "JU", jwtAudience: "JA", jwtIssuer: "JI", jwtUserIdClaim: "UC", jwtMatrixUserIdClaim: "MC",
      },
      authorizationGlobalUsers: ["@o:b.org"],
      matrixRoomAccess: { mode: "multi_user", reconcileExistingRooms: true },
    });
    const expected = sha([
      "42", "b.org", "acc", "/d", "static_runner", "https://s", "anon",
      "true", "U", "E", "M", "@{localpart}:t", "yes", "JH", "JU", "JA", "JI", "email", "UC", "MC",
      '["@o:b.org"]',
      '{"inviteOnlyRooms":[],"mode":"multi_user","multiUserJoinRule":"public","publishToRoomDirectory":false,"reconcileExistingRooms":true}',
    ].join("|"));
    expect(annotations(x, "mindroom-42")["mindroom.ai/config-hash"]).to.equal(expected);
  });

  it("31: changing credentials_encryption_key changes instance-secret-hash", async () => {
    const a = annotations(await renderValues({ customer: "t1", credentials_encryption_key: "k1" }))["mindroom.ai/instance-secret-hash"];
    const b = annotations(await renderValues({ customer: "t1", credentials_encryption_key: "k2" }))["mindroom.ai/instance-secret-hash"];
    expect(a).to.match(/^[0-9a-f]{64}$/);
    expect(b).to.not.equal(a);
  });
});
