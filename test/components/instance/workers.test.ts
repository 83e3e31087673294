import { expect } from "chai";
import { container, envOf, K8S_RWX, mindroomEnv, podSpec, renderArgs, renderValues } from "./helpers";
import { parseInstanceValues } from "../../../components/instance/values";

const REFS = {
  MINDROOM_SANDBOX_PROXY_TOKEN: { secretKeyRef: { name: "mindroom-api-keys-t1", key: "sandbox_proxy_token" } },
  MINDROOM_CREDENTIALS_ENCRYPTION_KEY: { secretKeyRef: { name: "mindroom-api-keys-t1", key: "credentials_encryption_key" } },
};

describe("MindroomInstance: static sidecar (spec §17 items 32-36)", () => {
  let r: Awaited<ReturnType<typeof renderArgs>>;
  before(async () => {
    r = await renderArgs({ customer: "t1" });
  });

  it("32: sandbox-runner runs tini -- /app/run-sandbox-runner.sh on container port 8766", () => {
    const c = container(r.get("Deployment", "mindroom-t1"), "sandbox-runner");
    expect(c.command).to.deep.equal(["tini", "--", "/app/run-sandbox-runner.sh"]);
    expect(c.ports).to.deep.equal([{ containerPort: 8766 }]);
    expect(c.image).to.equal("ghcr.io/mindroom-ai/mindroom:latest");
    expect(c).to.not.have.property("readinessProbe");
    expect(c.resources).to.deep.equal({ requests: { memory: "256Mi", cpu: "100m" }, limits: { memory: "1Gi", cpu: "500m" } });
  });

  it("33: sidecar env is runner mode, the two secretKeyRefs, the ConfigMap seed path, storage path and HOME", () => {
    const c = container(r.get("Deployment", "mindroom-t1"), "sandbox-runner");
    expect(envOf(c)).to.deep.equal({
      MINDROOM_SANDBOX_RUNNER_MODE: "true", ...REFS, MINDROOM_CONFIG_PATH: "/app/config.yaml",
      MINDROOM_STORAGE_PATH: "/mindroom_data", HOME: "/mindroom_data",
    });
  });

  it("34: sidecar mounts config read-only, the PVC, the sandbox-workspace emptyDir, and not /etc/secrets", () => {
    const d = r.get("Deployment", "mindroom-t1");
    expect(container(d, "sandbox-runner").volumeMounts).to.deep.equal([
      { name: "config", mountPath: "/app/config.yaml", subPath: "config.yaml", readOnly: true },
      { name: "storage", mountPath: "/mindroom_data" },
      { name: "sandbox-workspace", mountPath: "/app/workspace" },
    ]);
    expect(podSpec(d).volumes[3]).to.deep.equal({ name: "sandbox-workspace", emptyDir: { sizeLimit: "2Gi" } });
  });

  it("(issue 9) sandboxWorkspaceSizeLimit bounds the sandbox-workspace emptyDir (default 2Gi, upstream unbounded); a non-quantity is refused", async () => {
    const sized = await renderValues({ customer: "t1", sandboxWorkspaceSizeLimit: "5Gi" });
    expect(podSpec(sized.get("Deployment", "mindroom-t1")).volumes[3]).to.deep.equal({ name: "sandbox-workspace", emptyDir: { sizeLimit: "5Gi" } });
    // Helm's `default`: an empty value is the default, never "no limit".
    const empty = await renderValues({ customer: "t1", sandboxWorkspaceSizeLimit: "" });
    expect(podSpec(empty.get("Deployment", "mindroom-t1")).volumes[3].emptyDir).to.deep.equal({ sizeLimit: "2Gi" });
    for (const bad of ["2 GB", "lots", "-"]) {
      expect(() => parseInstanceValues({ customer: "t1", sandboxWorkspaceSizeLimit: bad }), bad).to.throw(
        new RegExp(`^sandboxWorkspaceSizeLimit: "${bad}" is not a Kubernetes quantity; use a size such as 2Gi`),
      );
    }
    expect(() => parseInstanceValues({ customer: "t1", sandboxWorkspaceSizeLimit: ["2Gi"] })).to.throw(/^sandboxWorkspaceSizeLimit: expected a string/);
  });

  it("35: mindroom env has MINDROOM_SANDBOX_PROXY_URL and MINDROOM_WORKER_BACKEND=static_runner; env in the chart's order", () => {
    const env = mindroomEnv(r, "t1");
    expect(env).to.include({ MINDROOM_SANDBOX_PROXY_URL: "http://localhost:8766", MINDROOM_WORKER_BACKEND: "static_runner" });
    expect(Object.keys(env)).to.deep.equal([
      "OPENAI_API_KEY_FILE", "ANTHROPIC_API_KEY_FILE", "ACCOUNT_ID", "CUSTOMER_ID", "MINDROOM_STORAGE_PATH", "MINDROOM_CONFIG_PATH",
      "MINDROOM_CONFIG_TEMPLATE", "MINDROOM_PUBLIC_URL", "LOG_LEVEL", "MINDROOM_WORKER_BACKEND", "MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS",
      "MINDROOM_SANDBOX_PROXY_URL", "MINDROOM_SANDBOX_PROXY_TOKEN", "MINDROOM_CREDENTIALS_ENCRYPTION_KEY", "MINDROOM_SANDBOX_EXECUTION_MODE",
      "MINDROOM_SANDBOX_PROXY_TOOLS", "MATRIX_HOMESERVER", "MINDROOM_DESKTOP_MATRIX_HOMESERVER", "MATRIX_SERVER_NAME",
      "MATRIX_REGISTRATION_SHARED_SECRET_FILE", "MINDROOM_MATRIX_HOMESERVER_STARTUP_TIMEOUT_SECONDS", "SUPABASE_URL",
      "SUPABASE_SERVICE_KEY_FILE", "SUPABASE_ANON_KEY", "MINDROOM_PLATFORM_LOGIN_URL", "OPENROUTER_API_KEY_FILE",
      "GOOGLE_API_KEY_FILE", "DEEPSEEK_API_KEY_FILE", "HOME",
    ]);
  });

  it("36: mindroom and sandbox-runner disallow privilege escalation and drop ALL capabilities", () => {
    const d = r.get("Deployment", "mindroom-t1");
    for (const name of ["mindroom", "sandbox-runner"]) {
      expect(container(d, name).securityContext, name).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    }
  });
});

describe("MindroomInstance: kubernetes worker mode (spec §17 items 37-49)", () => {
  let r: Awaited<ReturnType<typeof renderArgs>>;
  before(async () => {
    r = await renderArgs({ customer: "t1", ...K8S_RWX, imagePullSecrets: [{ name: "ghcr" }] });
  });
  const P = "MINDROOM_KUBERNETES_WORKER_";

  it("37: no sandbox-runner container, no sandbox-workspace volume and no MINDROOM_SANDBOX_PROXY_URL", () => {
    const d = r.get("Deployment", "mindroom-t1");
    expect(podSpec(d).containers.map((c: { name: string }) => c.name)).to.deep.equal(["mindroom"]);
    expect(podSpec(d).volumes.map((v: { name: string }) => v.name)).to.deep.equal(["storage", "config", "api-keys"]);
    expect(mindroomEnv(r, "t1")).to.not.have.property("MINDROOM_SANDBOX_PROXY_URL");
    expect(mindroomEnv(r, "t1").MINDROOM_WORKER_BACKEND).to.equal("kubernetes");
  });

  it("38: the pod runs as ServiceAccount mindroom-worker-manager-{c}", async () => {
    expect(podSpec(r.get("Deployment", "mindroom-t1")).serviceAccountName).to.equal("mindroom-worker-manager-t1");
    expect(podSpec((await renderArgs({ customer: "t1" })).get("Deployment", "mindroom-t1"))).to.not.have.property("serviceAccountName");
  });

  it("39: namespace, PVC name and mount path env", () => {
    expect(mindroomEnv(r, "t1")).to.include({
      [`${P}NAMESPACE`]: "mindroom-instances", [`${P}STORAGE_PVC_NAME`]: "mindroom-storage-t1", [`${P}STORAGE_MOUNT_PATH`]: "/mindroom_data",
    });
  });

  it("40: ConfigMap name, key and path env", () => {
    expect(mindroomEnv(r, "t1")).to.include({
      [`${P}CONFIG_MAP_NAME`]: "mindroom-config-t1", [`${P}CONFIG_KEY`]: "config.yaml", [`${P}CONFIG_PATH`]: "/app/config.yaml",
    });
  });

  it("41: auth Secret, owner Deployment and labels JSON env", () => {
    expect(mindroomEnv(r, "t1")).to.include({
      [`${P}AUTH_SECRET_NAME`]: "mindroom-worker-auth-t1", [`${P}OWNER_DEPLOYMENT_NAME`]: "mindroom-t1", [`${P}LABELS_JSON`]: '{"customer":"t1"}',
    });
  });

  it("42: worker defaults as strings, and the whole block right after the cleanup interval in the chart's order", () => {
    const env = mindroomEnv(r, "t1");
    expect(env).to.include({
      [`${P}ENABLE_SERVICE_LINKS`]: "false", [`${P}PORT`]: "8766", [`${P}NAME_PREFIX`]: "mindroom-worker-t1",
      [`${P}STORAGE_SUBPATH_PREFIX`]: "workers", [`${P}IDLE_TIMEOUT_SECONDS`]: "1800", [`${P}READY_TIMEOUT_SECONDS`]: "60",
    });
    const names = Object.keys(env);
    const start = names.indexOf("MINDROOM_WORKER_CLEANUP_INTERVAL_SECONDS") + 1;
    expect(names.slice(start, start + 19)).to.deep.equal([
      "NAMESPACE", "IMAGE", "IMAGE_PULL_POLICY", "PORT", "SERVICE_ACCOUNT_NAME", "STORAGE_PVC_NAME", "STORAGE_MOUNT_PATH",
      "STORAGE_SUBPATH_PREFIX", "CONFIG_MAP_NAME", "CONFIG_KEY", "CONFIG_PATH", "IDLE_TIMEOUT_SECONDS", "READY_TIMEOUT_SECONDS",
      "NAME_PREFIX", "ENABLE_SERVICE_LINKS", "AUTH_SECRET_NAME", "LABELS_JSON", "OWNER_DEPLOYMENT_NAME", "",
    ].map((s) => (s ? `${P}${s}` : "MINDROOM_SANDBOX_PROXY_TOKEN")));
  });

  it("43: worker image/pull policy fall back to the MindRoom image/policy; worker ServiceAccount falls back to default", async () => {
    expect(mindroomEnv(r, "t1")).to.include({
      [`${P}IMAGE`]: "ghcr.io/mindroom-ai/mindroom:latest", [`${P}IMAGE_PULL_POLICY`]: "Always", [`${P}SERVICE_ACCOUNT_NAME`]: "default",
    });
    const x = await renderValues({ customer: "t1", ...K8S_RWX, mindroom_image: "reg/mr:1", mindroom_image_pull_policy: "IfNotPresent" });
    expect(mindroomEnv(x, "t1")).to.include({ [`${P}IMAGE`]: "reg/mr:1", [`${P}IMAGE_PULL_POLICY`]: "IfNotPresent" });
    const y = await renderValues({ customer: "t1", ...K8S_RWX, kubernetesWorkerImage: "reg/w:2", kubernetesWorkerImagePullPolicy: "Never", kubernetesWorkerServiceAccountName: "workers" });
    expect(mindroomEnv(y, "t1")).to.include({ [`${P}IMAGE`]: "reg/w:2", [`${P}IMAGE_PULL_POLICY`]: "Never", [`${P}SERVICE_ACCOUNT_NAME`]: "workers" });
  });

  it("44: controlPlaneNodeName=n pins the pod (nodeName) and the workers (env)", async () => {
    const x = await renderValues({ customer: "t1", workerBackend: "kubernetes", controlPlaneNodeName: "node-a" });
    expect(podSpec(x.get("Deployment", "mindroom-t1")).nodeName).to.equal("node-a");
    expect(mindroomEnv(x, "t1")[`${P}NODE_NAME`]).to.equal("node-a");
    expect(mindroomEnv(r, "t1")).to.not.have.property(`${P}NODE_NAME`);
    expect(podSpec(r.get("Deployment", "mindroom-t1"))).to.not.have.property("nodeName");
  });

  it("45: Role rules are exactly services, the own worker-auth Secret, pods get and apps deployments", () => {
    expect(r.get("Role", "mindroom-worker-manager-t1").rules).to.deep.equal([
      { apiGroups: [""], resources: ["services"], verbs: ["get", "create", "patch", "delete"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["mindroom-worker-auth-t1"], verbs: ["get", "patch"] },
      { apiGroups: [""], resources: ["pods"], verbs: ["get"] },
      { apiGroups: ["apps"], resources: ["deployments"], verbs: ["get", "list", "create", "patch", "delete"] },
    ]);
  });

  it("46: no Role rule grants secrets list/create or any other Secret name", () => {
    type Rule = { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] };
    // RBAC semantics: a wildcard group or resource reaches Secrets too.
    const onSecrets = (r.get("Role", "mindroom-worker-manager-t1").rules as Rule[]).filter(
      (rule) => rule.apiGroups.some((g) => g === "" || g === "*") && rule.resources.some((x) => x === "secrets" || x === "*"),
    );
    expect(onSecrets, "exactly one rule reaches Secrets").to.have.length(1);
    for (const verb of ["list", "create", "watch", "*"]) expect(onSecrets[0].verbs, verb).to.not.include(verb);
    expect(onSecrets[0].resourceNames).to.deep.equal(["mindroom-worker-auth-t1"]);
  });

  it("47: RoleBinding binds ServiceAccount mindroom-worker-manager-{c} in mindroom-instances to the Role", () => {
    const b = r.get("RoleBinding", "mindroom-worker-manager-t1");
    expect(b.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "mindroom-worker-manager-t1", namespace: "mindroom-instances" }]);
    expect(b.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "mindroom-worker-manager-t1" });
  });

  it("48: imagePullSecrets on the MindRoom pod and the worker-manager ServiceAccount, not on Synapse", async () => {
    expect(podSpec(r.get("Deployment", "mindroom-t1")).imagePullSecrets).to.deep.equal([{ name: "ghcr" }]);
    expect(r.get("ServiceAccount", "mindroom-worker-manager-t1").imagePullSecrets).to.deep.equal([{ name: "ghcr" }]);
    expect(podSpec(r.get("Deployment", "synapse-t1"))).to.not.have.property("imagePullSecrets");
    const s = await renderValues({ customer: "t1", imagePullSecrets: [{ name: "ghcr" }] });
    expect(podSpec(s.get("Deployment", "mindroom-t1")).imagePullSecrets).to.deep.equal([{ name: "ghcr" }]);
  });

  it("49: workerBackend=kubernetes with RWO and no node pin throws; RWX or a pin is accepted", () => {
    expect(() => parseInstanceValues({ customer: "t1", workerBackend: "kubernetes" })).to.throw(/^workerBackend: .*ReadWriteMany.*controlPlaneNodeName/);
    expect(() => parseInstanceValues({ customer: "t1", workerBackend: "kubernetes", storageAccessMode: "ReadWriteOnce" })).to.throw(/workerBackend/);
    expect(() => parseInstanceValues({ customer: "t1", ...K8S_RWX })).to.not.throw();
    expect(() => parseInstanceValues({ customer: "t1", workerBackend: "kubernetes", controlPlaneNodeName: "n" })).to.not.throw();
  });

  it("kubernetesWorkerPort feeds the env and the NetworkPolicy in kubernetes mode only", async () => {
    const x = await renderValues({ customer: "t1", ...K8S_RWX, kubernetesWorkerPort: 9000 });
    expect(mindroomEnv(x, "t1")[`${P}PORT`]).to.equal("9000");
    expect(x.get("NetworkPolicy", "instance-traffic-controls-t1").spec.ingress[1].ports).to.deep.equal([{ port: 9000, protocol: "TCP" }]);
    const s = await renderValues({ customer: "t1", kubernetesWorkerPort: 9000 });
    expect(s.get("NetworkPolicy", "instance-traffic-controls-t1").spec.ingress[1].ports).to.deep.equal([{ port: 8766, protocol: "TCP" }]);
  });

  it("an unknown workerBackend renders neither the sidecar nor the worker env (not validated upstream)", async () => {
    const x = await renderValues({ customer: "t1", workerBackend: "other" });
    const env = mindroomEnv(x, "t1");
    expect(Object.keys(env).filter((k) => k.startsWith(P) || k === "MINDROOM_SANDBOX_PROXY_URL")).to.deep.equal([]);
    expect(podSpec(x.get("Deployment", "mindroom-t1")).containers).to.have.length(1);
  });
});
