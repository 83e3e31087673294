/** The Express provisioner's workload inside `Platform`, and whether its RBAC suffices for tenant stacks. */
import { expect } from "chai";
import "../../../components/render-targets";
import { renderObjects } from "../../../infra/render/index";
import { PROVISIONER_OWNED_ENV } from "../../../components/platform/provisioner";
import { renderPlatform, allows, covers, type Rule, type Loose, type Obj } from "./render-platform";

const ON = { provisioner: { enabled: true, pulumiConfigPassphrase: "p" } };
const NS = "mindroom-staging";
const PULUMI_VERBS = ["get", "list", "watch", "create", "update", "patch", "delete"];

/** Where each kind the tenant component creates lives in the RBAC model. */
const RESOURCE_OF: Record<string, [group: string, resource: string]> = {
  ConfigMap: ["", "configmaps"],
  Secret: ["", "secrets"],
  Service: ["", "services"],
  PersistentVolumeClaim: ["", "persistentvolumeclaims"],
  ServiceAccount: ["", "serviceaccounts"],
  Deployment: ["apps", "deployments"],
  NetworkPolicy: ["networking.k8s.io", "networkpolicies"],
  Ingress: ["networking.k8s.io", "ingresses"],
  Role: ["rbac.authorization.k8s.io", "roles"],
  RoleBinding: ["rbac.authorization.k8s.io", "rolebindings"],
  ValidatingAdmissionPolicy: ["admissionregistration.k8s.io", "validatingadmissionpolicies"],
  ValidatingAdmissionPolicyBinding: ["admissionregistration.k8s.io", "validatingadmissionpolicybindings"],
};
/** Tenant kinds without a namespace: the worker admission policy and its binding (cluster-scoped). */
const CLUSTER_SCOPED = new Set(["ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding"]);

const env = (dep: Obj) => dep.spec.template.spec.containers[0].env as { name: string; value?: string; valueFrom?: unknown }[];

describe("provisioner workload", () => {
  it("is off by default: no provisioner objects, no /system route", async () => {
    const r = await renderPlatform();
    expect(r.objects.filter((o) => o.metadata?.name?.startsWith("mindroom-provisioner"))).to.deep.equal([]);
    const api = r.get("Ingress", "platform-ingress").spec.rules[1];
    expect(api.http.paths).to.have.length(1);
  });

  it("runs one replica with the Recreate strategy under ServiceAccount platform-backend", async () => {
    const r = await renderPlatform({ ...ON, autoscaling: { enabled: true } });
    const dep = r.get("Deployment", "mindroom-provisioner", NS);
    expect(dep.spec.replicas).to.equal(1);
    expect(dep.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(dep.spec.selector.matchLabels).to.deep.equal({ app: "mindroom-provisioner", environment: "staging" });
    const pod = dep.spec.template.spec;
    expect(pod.serviceAccountName).to.equal("platform-backend");
    expect(pod.automountServiceAccountToken).to.equal(true);
    expect(pod.terminationGracePeriodSeconds).to.equal(300);
    expect(pod.securityContext).to.include({ runAsNonRoot: true, fsGroup: 1000 });
    // Autoscaling never touches the provisioner: two replicas would break per-tenant serialization.
    expect(r.objects.filter((o) => o.kind === "HorizontalPodAutoscaler").map((o) => o.metadata?.name)).to.deep.equal(["platform-backend", "platform-frontend"]);
  });

  it("image, pull policy and resources are configurable", async () => {
    const dflt = (await renderPlatform({ ...ON, imageTag: "v7" })).get("Deployment", "mindroom-provisioner").spec.template.spec.containers[0];
    expect(dflt.image).to.equal("ghcr.io/mindroom-ai/mindroom-provisioner:v7");
    expect(dflt.imagePullPolicy).to.equal("Always");
    expect(dflt.resources).to.deep.equal({ requests: { cpu: "250m", memory: "1Gi" }, limits: { cpu: "2", memory: "3Gi" } });
    const c = (
      await renderPlatform({ provisioner: { ...ON.provisioner, image: "reg.example/prov:1.2", imagePullPolicy: "IfNotPresent", resources: { limits: { memory: "4Gi" } } } })
    ).get("Deployment", "mindroom-provisioner").spec.template.spec.containers[0];
    expect([c.image, c.imagePullPolicy, c.resources.limits.memory]).to.deep.equal(["reg.example/prov:1.2", "IfNotPresent", "4Gi"]);
  });

  it("listens on PORT 8080 with /healthz liveness, /readyz readiness; Service port http 8080", async () => {
    const r = await renderPlatform(ON);
    const c = r.get("Deployment", "mindroom-provisioner").spec.template.spec.containers[0];
    expect(c.ports).to.deep.equal([{ name: "http", containerPort: 8080 }]);
    expect(c.livenessProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(c.startupProbe.httpGet).to.deep.equal({ path: "/healthz", port: "http" });
    expect(c.readinessProbe.httpGet).to.deep.equal({ path: "/readyz", port: "http" });
    const svc = r.get("Service", "mindroom-provisioner", NS);
    expect(svc.spec.ports).to.deep.equal([{ name: "http", port: 8080, targetPort: "http" }]);
    expect(svc.spec.selector).to.deep.equal({ app: "mindroom-provisioner", environment: "staging" });
  });

  it("reads secrets only from files under /etc/secrets; no env var holds a secret", async () => {
    const dep = (await renderPlatform(ON)).get("Deployment", "mindroom-provisioner");
    const e = Object.fromEntries(env(dep).map((x) => [x.name, x.value]));
    expect(e).to.include({
      PORT: "8080",
      MINDROOM_DATA_DIR: "/data",
      PROVISIONER_API_KEY_FILE: "/etc/secrets/provisioner_api_key",
      INSTANCE_CREDENTIALS_ENCRYPTION_SECRET_FILE: "/etc/secrets/instance_credentials_encryption_secret",
      SUPABASE_SERVICE_KEY_FILE: "/etc/secrets/supabase_service_key",
      PULUMI_CONFIG_PASSPHRASE_FILE: "/etc/secrets/pulumi_config_passphrase",
      INSTANCE_MATRIX_OIDC_CLIENT_SECRET_FILE: "/etc/secrets/matrix_oidc_client_secret",
      OPENROUTER_PROVISIONING_API_KEY_FILE: "/etc/secrets/openrouter_provisioning_key",
    });
    for (const name of ["PROVISIONER_API_KEY", "INSTANCE_CREDENTIALS_ENCRYPTION_SECRET", "SUPABASE_SERVICE_KEY", "PULUMI_CONFIG_PASSPHRASE"]) expect(e).not.to.have.property(name);
    // The only reference is the pod IP from the downward API: no secretKeyRef, no envFrom.
    expect(env(dep).filter((x) => x.valueFrom !== undefined)).to.deep.equal([{ name: "POD_IP", valueFrom: { fieldRef: { fieldPath: "status.podIP" } } }]);
    const c = dep.spec.template.spec.containers[0];
    expect(c).not.to.have.property("envFrom");
    expect(c.volumeMounts).to.deep.include({ name: "secrets", mountPath: "/etc/secrets", readOnly: true });
    const secrets = dep.spec.template.spec.volumes.find((v: Loose) => v.name === "secrets").projected;
    expect(secrets.defaultMode).to.equal(0o400);
    const files = secrets.sources.flatMap((s: Loose) => s.secret.items.map((i: Loose) => i.path));
    for (const [name, value] of Object.entries(e)) if (name.endsWith("_FILE")) expect(files).to.include((value as string).replace("/etc/secrets/", ""));
  });

  it("keeps its data dir on PVC mindroom-provisioner-data with the file backend", async () => {
    const r = await renderPlatform({ provisioner: { ...ON.provisioner, storage: { size: "20Gi", storageClassName: "hcloud-volumes" } } });
    const pvc = r.get("PersistentVolumeClaim", "mindroom-provisioner-data", NS);
    expect(pvc.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "20Gi" } }, storageClassName: "hcloud-volumes" });
    const dep = r.get("Deployment", "mindroom-provisioner");
    expect(dep.spec.template.spec.volumes[0]).to.deep.equal({ name: "data", persistentVolumeClaim: { claimName: "mindroom-provisioner-data" } });
    expect(dep.spec.template.spec.containers[0].volumeMounts[0]).to.deep.equal({ name: "data", mountPath: "/data" });
    expect(env(dep).map((x) => x.name)).not.to.include("PULUMI_BACKEND_URL");
    const dflt = (await renderPlatform(ON)).get("PersistentVolumeClaim", "mindroom-provisioner-data");
    expect(dflt.spec).not.to.have.property("storageClassName");
  });

  it("with a backend URL: PULUMI_BACKEND_URL set and no PVC unless storage.enabled", async () => {
    const remote = { ...ON.provisioner, backendUrl: "s3://state-bucket/mindroom" };
    const r = await renderPlatform({ provisioner: remote });
    expect(r.find("PersistentVolumeClaim", "mindroom-provisioner-data")).to.equal(undefined);
    const dep = r.get("Deployment", "mindroom-provisioner");
    expect(env(dep)).to.deep.include({ name: "PULUMI_BACKEND_URL", value: "s3://state-bucket/mindroom" });
    expect(dep.spec.template.spec.volumes[0]).to.deep.equal({ name: "data", emptyDir: {} });
    const kept = await renderPlatform({ provisioner: { ...remote, storage: { enabled: true } } });
    kept.get("PersistentVolumeClaim", "mindroom-provisioner-data");
    // An explicit file:// backend is still the data volume's state: the PVC stays.
    const file = await renderPlatform({ provisioner: { ...ON.provisioner, backendUrl: "file:///data/state" } });
    expect(file.get("Deployment", "mindroom-provisioner").spec.template.spec.volumes[0].persistentVolumeClaim.claimName).to.equal("mindroom-provisioner-data");
  });

  it("api.{domain}/system routes to the provisioner; everything else on api. still reaches the backend", async () => {
    const ing = (await renderPlatform(ON)).get("Ingress", "platform-ingress");
    const api = ing.spec.rules.find((x: Loose) => x.host === "api.mindroom.chat");
    expect(api.http.paths.map((p: Loose) => [p.path, p.backend.service.name, p.backend.service.port.number])).to.deep.equal([
      ["/", "platform-backend", 8000],
      ["/system", "mindroom-provisioner", 8080],
    ]);
  });

  it("monitoring on: a ServiceMonitor scrapes the provisioner's /metrics", async () => {
    const sm = (await renderPlatform({ ...ON, monitoring: { enabled: true } })).get("ServiceMonitor", "mindroom-provisioner", NS);
    expect(sm.spec.selector.matchLabels).to.deep.equal({ app: "mindroom-provisioner", environment: "staging" });
    expect(sm.spec.endpoints[0]).to.include({ port: "http", path: "/metrics" });
  });
});

describe("provisioner RBAC", () => {
  /** The rules ServiceAccount platform-backend holds in mindroom-instances. */
  async function namespaceRules(): Promise<Rule[]> {
    const r = await renderPlatform(ON);
    return [...r.get("Role", "platform-backend", "mindroom-instances").rules, ...r.get("Role", "platform-backend-tenant-rbac", "mindroom-instances").rules];
  }
  /** The cluster-wide rules of the same ServiceAccount (its ClusterRoles). */
  async function clusterRules(): Promise<Rule[]> {
    return (await renderPlatform(ON)).objects.filter((o) => o.kind === "ClusterRole").flatMap((o) => o.rules as Rule[]);
  }

  it("lets Pulumi manage every kind the tenant component creates (kubernetes worker mode included)", async () => {
    const rules = [...(await namespaceRules()), ...(await clusterRules())];
    const tenant = await renderObjects("instance", { customer: 42, workerBackend: "kubernetes", controlPlaneNodeName: "node-1" });
    const kinds = [...new Set(tenant.map((o) => o.kind))].sort();
    expect(kinds).to.include.members(["Deployment", "Role", "RoleBinding", "ServiceAccount", "NetworkPolicy", "Ingress", "PersistentVolumeClaim"]);
    for (const o of tenant) expect(o.metadata?.namespace, `${o.kind}/${o.metadata?.name}`).to.equal(CLUSTER_SCOPED.has(o.kind) ? undefined : "mindroom-instances");
    for (const kind of kinds) {
      const target = RESOURCE_OF[kind];
      expect(target, `tenant kind ${kind} has no RBAC mapping`).not.to.equal(undefined);
      for (const verb of PULUMI_VERBS) expect(allows(rules, target[0], target[1], verb), `${verb} ${kind}`).to.equal(true);
    }
  });

  it("holds every permission of the tenant's worker-manager Role, so it may create and bind it without escalate/bind", async () => {
    const rules = await namespaceRules();
    const tenant = await renderObjects("instance", { customer: 42, workerBackend: "kubernetes", controlPlaneNodeName: "node-1" });
    const workerRole = tenant.find((o) => o.kind === "Role") as unknown as { rules: Rule[] };
    expect(workerRole.rules.length).to.be.greaterThan(0);
    expect(covers(rules, workerRole.rules)).to.equal(true);
    for (const rule of rules) for (const v of ["escalate", "bind", "impersonate", "*"]) expect(rule.verbs).not.to.include(v);
  });

  it("covers the provisioner's direct Kubernetes calls (provisioner/kube): status, scale, restart, PVC class and delete, live Secret reads", async () => {
    const rules = await namespaceRules();
    const calls: [group: string, resource: string, verb: string, why: string][] = [
      ["apps", "deployments", "get", "deploymentExists / replicas / isRolledOut"],
      ["apps", "deployments/scale", "patch", "start / stop"],
      ["apps", "deployments", "patch", "restart (pod template annotation)"],
      ["", "persistentvolumeclaims", "get", "storage class kept across re-provisions"],
      ["", "persistentvolumeclaims", "delete", "uninstall with delete_data=true"],
      ["", "secrets", "get", "live tenant Secret read"],
      ["", "secrets", "delete", "Helm release records after migration"],
    ];
    for (const [group, resource, verb, why] of calls) expect(allows(rules, group, resource, verb), `${verb} ${resource}: ${why}`).to.equal(true);
  });

  it("extraEnv comes after the component's env, and every name the component sets is protected from it", async () => {
    const all = {
      supabase: { url: "https://x.supabase.co", anonKey: "a" },
      provisioner: {
        ...ON.provisioner,
        backendUrl: "s3://b",
        storage: { enabled: true },
        instanceStorageClassName: "c",
        instanceMindroomImage: "m",
        instanceMindroomImagePullPolicy: "Always",
        instanceSynapseImage: "s",
        instanceSynapseImagePullPolicy: "Always",
        instanceImagePullSecretNames: ["r"],
        trustedUpstreamAuth: Object.fromEntries(
          ["userIdHeader", "emailHeader", "matrixUserIdHeader", "jwtHeader", "jwksUrl", "jwtAudience", "jwtIssuer", "jwtUserIdClaim", "jwtMatrixUserIdClaim", "authSignin", "acknowledgeUnverifiedHeaders"].map((k) => [k, "v"]),
        ),
        extraEnv: { PROVISIONER_CONCURRENCY: "1" },
      },
    };
    all.provisioner.trustedUpstreamAuth.enabled = "true";
    all.provisioner.trustedUpstreamAuth.requireJwt = "true";
    all.provisioner.trustedUpstreamAuth.emailToMatrixUserIdTemplate = "@{localpart}:x";
    all.provisioner.trustedUpstreamAuth.authUrl = "https://auth/verify";
    all.provisioner.trustedUpstreamAuth.authSignin = "https://auth/start";
    const names = env((await renderPlatform(all)).get("Deployment", "mindroom-provisioner")).map((x) => x.name);
    expect(names[names.length - 1]).to.equal("PROVISIONER_CONCURRENCY");
    expect(new Set(names).size, "no duplicate env names").to.equal(names.length);
    for (const name of names.slice(0, -1)) expect(PROVISIONER_OWNED_ENV.has(name), name).to.equal(true);
  });

  it("grants nothing cluster-wide beyond namespaces (no delete) and the tenant worker admission policies, and nothing on pods/exec, endpoints or storage classes", async () => {
    const cluster = await clusterRules();
    const namespaces = cluster.filter((x) => x.resources.includes("namespaces"));
    expect(namespaces.flatMap((x) => x.resources)).to.deep.equal(["namespaces"]);
    expect(namespaces.flatMap((x) => x.verbs)).not.to.include("delete");
    expect(cluster.filter((x) => !namespaces.includes(x))).to.deep.equal([
      { apiGroups: ["admissionregistration.k8s.io"], resources: ["validatingadmissionpolicies", "validatingadmissionpolicybindings"], verbs: PULUMI_VERBS },
    ]);
    const rules = await namespaceRules();
    expect(allows(rules, "", "pods/exec", "create")).to.equal(false);
    expect(allows(rules, "", "endpoints", "get")).to.equal(false);
    expect(allows(rules, "storage.k8s.io", "storageclasses", "get")).to.equal(false);
    expect(allows(rules, "rbac.authorization.k8s.io", "clusterroles", "create")).to.equal(false);
  });
});
