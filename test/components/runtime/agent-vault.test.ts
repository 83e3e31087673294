/**
 * Agent Vault, `workers.kubernetes.agentVault` (docs/runtime.md, "Agent Vault: checklist"): each
 * object against the items derived from upstream's agent-vault-server.yaml,
 * agent-vault-bootstrap.yaml, agent-vault-access-grants.yaml, deployment.yaml and
 * networkpolicy.yaml; the Jobs' ordering and replacement options; every validation valid and
 * invalid; kubernetes-models schema checks of every object. Unless stated: release
 * `mindroom-runtime` in `mindroom`, sqlite, kubernetes workers, Agent Vault on with a CLI image and
 * an owner email.
 */
import { expect } from "chai";
import type * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { recordProgram } from "../../../infra/render/record";
import { ValuesError } from "../../../infra/values/errors";
import { mergeValues } from "../../../infra/values/load";
import { MindroomRuntime, parseRuntimeValues, type MindroomRuntimeArgs } from "../../../components/runtime";
import { validateKubeObjects } from "../../support/kube-schema";
import { invalid, valid } from "./feature-helpers";
import { renderSqlite, find, ofKind, container, envValue, envNames, secretRef, runtime, type Obj } from "./helpers";

const CLI = "ghcr.io/infisical/agent-vault@sha256:" + "c".repeat(64);
const ON = { workers: { backend: "kubernetes", kubernetes: { agentVault: { enabled: true, cliImage: CLI, ownerEmail: "owner@example.com" } } } };
const av = (values: Record<string, unknown>) => ({ workers: { kubernetes: { agentVault: values } } });
const SERVER = mergeValues(ON, av({ server: { enabled: true } }));
const BOOTSTRAP = mergeValues(ON, av({ workerCaConfigMapName: "agent-vault-ca", bootstrap: { enabled: true, kubectlImage: "bitnami/kubectl:1.31" } }));
const TOOL = av({ accessTool: { enabled: true, uiBaseUrl: "https://example.com/agent-vault", emailDomain: "example.com" } });
const GRANT = { email: "a@example.com", workerScope: "shared", agent: "helper" };
const GRANTS = av({ accessGrants: { enabled: true, grants: [GRANT] } });
const ALL = [SERVER, BOOTSTRAP, TOOL, GRANTS].reduce((a, b) => mergeValues(a, b), {});

const SELECTOR = { "app.kubernetes.io/name": "agent-vault", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "agent-vault" };
const META = { "app.kubernetes.io/version": "0.0.0", "app.kubernetes.io/managed-by": "pulumi" };
const kinds = (objects: Obj[]) => objects.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
const vault = (objects: Obj[], name = "agent-vault") => container(find(objects, "Deployment", name), "agent-vault");


/** Registers the runtime and records every child's resource options (dependsOn, replacement). */
async function optionsOf(values: Record<string, unknown>): Promise<Map<string, pulumi.CustomResourceOptions>> {
  const seen = new Map<string, pulumi.CustomResourceOptions>();
  const record: pulumi.ResourceTransformation = (t) => {
    seen.set(`${t.type.split(":")[2]}::${t.name}`, t.opts);
    return undefined;
  };
  const args = mergeValues({ eventCache: { backend: "sqlite" } }, values) as MindroomRuntimeArgs;
  await recordProgram(() => new MindroomRuntime("mindroom-runtime", args, { transformations: [record] }));
  return seen;
}
const depsOf = (opts: pulumi.CustomResourceOptions | undefined) => ((opts?.dependsOn ?? []) as pulumi.Resource[]).map((r) => (r as unknown as { __name: string }).__name).sort();

describe("runtime Agent Vault: objects (checklist AV)", () => {
  it("AV1 server.enabled adds exactly PVC agent-vault-data, Deployment and Service agent-vault, labelled agent-vault; off (the default) adds nothing", async () => {
    const base = kinds((await renderSqlite(ON)).objects);
    const r = await renderSqlite(SERVER);
    expect(kinds(r.objects).filter((k) => !base.includes(k))).to.deep.equal(["Deployment/agent-vault", "PersistentVolumeClaim/agent-vault-data", "Service/agent-vault"]);
    for (const o of r.objects.filter((x) => x.metadata?.name?.startsWith("agent-vault"))) {
      expect(o.metadata!.labels, o.kind).to.deep.equal({ ...SELECTOR, ...META });
      expect(o.metadata!.namespace).to.equal("mindroom");
    }
    expect(kinds((await renderSqlite()).objects).filter((k) => k.includes("agent-vault"))).to.deep.equal([]);
    expect(base.filter((k) => k.includes("agent-vault"))).to.deep.equal([]);
  });

  it("AV2 server Deployment: one replica, Recreate, no token, no service links, fsGroup 101, the agent-vault server command, master password env, api/proxy ports, /health probes, /data", async () => {
    const r = await renderSqlite(mergeValues(SERVER, av({ server: { podLabels: { team: "ai" }, podAnnotations: { "a/b": "c" }, resources: { limits: { memory: "256Mi" } } } })));
    const deployment = find(r.objects, "Deployment", "agent-vault");
    expect(deployment.spec.replicas).to.equal(1);
    expect(deployment.spec.strategy).to.deep.equal({ type: "Recreate" });
    expect(deployment.spec.selector.matchLabels).to.deep.equal(SELECTOR);
    expect(deployment.spec.template.metadata).to.deep.equal({ labels: { ...SELECTOR, team: "ai" }, annotations: { "a/b": "c" } });
    const pod = deployment.spec.template.spec;
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.enableServiceLinks).to.equal(false);
    expect(pod.securityContext).to.deep.equal({ fsGroup: 101, fsGroupChangePolicy: "OnRootMismatch" });
    expect(pod.volumes).to.deep.equal([{ name: "data", persistentVolumeClaim: { claimName: "agent-vault-data" } }]);
    const c = vault(r.objects);
    expect(c.image).to.equal(CLI);
    expect(c.imagePullPolicy).to.equal("IfNotPresent");
    expect(c.command).to.deep.equal(["agent-vault"]);
    expect(c.args).to.deep.equal(["server", "--host", "0.0.0.0", "--port", "14321", "--mitm-port", "14322"]);
    expect(c.env).to.deep.equal([{ name: "AGENT_VAULT_MASTER_PASSWORD", valueFrom: { secretKeyRef: { name: "agent-vault-bootstrap", key: "AGENT_VAULT_MASTER_PASSWORD" } } }]);
    expect(c.ports).to.deep.equal([
      { name: "api", containerPort: 14321, protocol: "TCP" },
      { name: "proxy", containerPort: 14322, protocol: "TCP" },
    ]);
    expect(c.readinessProbe).to.deep.equal({ httpGet: { path: "/health", port: "api" }, periodSeconds: 10, timeoutSeconds: 3 });
    expect(c.livenessProbe).to.deep.equal({ httpGet: { path: "/health", port: "api" }, periodSeconds: 30, timeoutSeconds: 5 });
    expect(c.resources).to.deep.equal({ limits: { memory: "256Mi" } });
    expect(c.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(c.volumeMounts).to.deep.equal([{ name: "data", mountPath: "/data" }]);
    // server.image wins over cliImage; the pull policy is the server's.
    const own = vault((await renderSqlite(mergeValues(SERVER, av({ server: { image: "vault:1", imagePullPolicy: "Always", apiPort: 9000, mitmPort: 9001 } })))).objects);
    expect([own.image, own.imagePullPolicy, own.args[4], own.args[6]]).to.deep.equal(["vault:1", "Always", "9000", "9001"]);
  });

  it("AV3 SMTP on: host, port, TLS mode and sender name as values, user/password/from from smtp.existingSecret", async () => {
    const c = vault((await renderSqlite(mergeValues(SERVER, av({ server: { smtp: { enabled: true, host: "smtp.example", existingSecret: "smtp" } } })))).objects);
    const fromSmtp = (key: string) => ({ name: key, valueFrom: { secretKeyRef: { name: "smtp", key } } });
    expect(c.env.slice(1)).to.deep.equal([
      { name: "AGENT_VAULT_SMTP_HOST", value: "smtp.example" },
      { name: "AGENT_VAULT_SMTP_PORT", value: "587" },
      { name: "AGENT_VAULT_SMTP_TLS_MODE", value: "starttls" },
      { name: "AGENT_VAULT_SMTP_FROM_NAME", value: "Agent Vault" },
      fromSmtp("AGENT_VAULT_SMTP_USERNAME"),
      fromSmtp("AGENT_VAULT_SMTP_PASSWORD"),
      fromSmtp("AGENT_VAULT_SMTP_FROM"),
    ]);
  });

  it("AV4 Service agent-vault: ClusterIP, api 14321 and proxy 14322 to the named ports", async () => {
    expect(find((await renderSqlite(SERVER)).objects, "Service", "agent-vault").spec).to.deep.equal({
      type: "ClusterIP",
      selector: SELECTOR,
      ports: [
        { name: "api", port: 14321, targetPort: "api", protocol: "TCP" },
        { name: "proxy", port: 14322, targetPort: "proxy", protocol: "TCP" },
      ],
    });
  });

  it("AV5 persistence: 1Gi RWO (class when set); existingClaim C used, not created; disabled is an emptyDir", async () => {
    const classed = await renderSqlite(mergeValues(SERVER, av({ server: { persistence: { storageClassName: "fast" } } })));
    expect(find(classed.objects, "PersistentVolumeClaim", "agent-vault-data").spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], storageClassName: "fast", resources: { requests: { storage: "1Gi" } } });
    expect(find((await renderSqlite(SERVER)).objects, "PersistentVolumeClaim", "agent-vault-data").spec).to.not.have.property("storageClassName");
    const existing = await renderSqlite(mergeValues(SERVER, av({ server: { persistence: { existingClaim: "C" } } })));
    expect(ofKind(existing.objects, "PersistentVolumeClaim").map((p) => p.metadata!.name)).to.not.include("agent-vault-data");
    expect(find(existing.objects, "Deployment", "agent-vault").spec.template.spec.volumes).to.deep.equal([{ name: "data", persistentVolumeClaim: { claimName: "C" } }]);
    const ephemeral = await renderSqlite(mergeValues(SERVER, av({ server: { persistence: { enabled: false } } })));
    expect(ofKind(ephemeral.objects, "PersistentVolumeClaim").map((p) => p.metadata!.name)).to.not.include("agent-vault-data");
    expect(find(ephemeral.objects, "Deployment", "agent-vault").spec.template.spec.volumes).to.deep.equal([{ name: "data", emptyDir: {} }]);
  });

  it("AV6 server.name names the server, its claim, the bootstrap and grants objects (cut to 63) and the selector", async () => {
    const long = "v".repeat(60);
    const r = await renderSqlite(mergeValues(ALL, av({ server: { name: long } })));
    find(r.objects, "Deployment", long);
    find(r.objects, "Service", long);
    find(r.objects, "PersistentVolumeClaim", `${long}-data`);
    find(r.objects, "Job", `${long}-bo`);
    find(r.objects, "Job", `${long}-ac`);
    expect(find(r.objects, "Job", `${long}-bo`).metadata!.labels!["app.kubernetes.io/name"]).to.equal(`${long}-bo`);
    expect(find(r.objects, "Deployment", long).spec.selector.matchLabels["app.kubernetes.io/name"]).to.equal(long);
    // An empty name is the chart's default.
    find((await renderSqlite(mergeValues(SERVER, av({ server: { name: "" } })))).objects, "Deployment", "agent-vault");
  });

  it("AV7 bootstrap RBAC agent-vault-bootstrap: a token-mounting ServiceAccount; the Role creates configmaps and touches only the CA map, plus the admin token Secrets when minted; bound to that ServiceAccount", async () => {
    const r = await renderSqlite(BOOTSTRAP);
    const labels = { "app.kubernetes.io/name": "agent-vault-bootstrap", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "agent-vault-bootstrap", ...META };
    const sa = find(r.objects, "ServiceAccount", "agent-vault-bootstrap");
    expect(sa.automountServiceAccountToken).to.equal(true);
    expect(sa.metadata!.labels).to.deep.equal(labels);
    const caRules = [
      { apiGroups: [""], resources: ["configmaps"], verbs: ["create"] },
      { apiGroups: [""], resources: ["configmaps"], resourceNames: ["agent-vault-ca"], verbs: ["get", "update", "patch"] },
    ];
    expect(find(r.objects, "Role", "agent-vault-bootstrap").rules).to.deep.equal(caRules);
    const binding = find(r.objects, "RoleBinding", "agent-vault-bootstrap");
    expect(binding.roleRef).to.deep.equal({ apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "agent-vault-bootstrap" });
    expect(binding.subjects).to.deep.equal([{ kind: "ServiceAccount", name: "agent-vault-bootstrap", namespace: "mindroom" }]);
    const both = await renderSqlite(mergeValues(mergeValues(BOOTSTRAP, TOOL), mergeValues(GRANTS, av({ accessGrants: { adminTokenSecret: { name: "grants-admin" } } }))));
    expect(find(both.objects, "Role", "agent-vault-bootstrap").rules).to.deep.equal([
      ...caRules,
      { apiGroups: [""], resources: ["secrets"], verbs: ["create"] },
      { apiGroups: [""], resources: ["secrets"], resourceNames: ["agent-vault-access-admin", "grants-admin"], verbs: ["get", "update", "patch"] },
    ]);
  });

  it("AV8 bootstrap Job: 24 h TTL, OnFailure, the bootstrap-owner init container (vault CLI) and publish-ca (kubectl) sharing /work", async () => {
    const r = await renderSqlite(BOOTSTRAP);
    const job = find(r.objects, "Job", "agent-vault-bootstrap");
    expect(job.spec.ttlSecondsAfterFinished).to.equal(86400);
    expect(job.metadata!.annotations).to.equal(undefined);
    const pod = job.spec.template.spec;
    expect(job.spec.template.metadata.labels["app.kubernetes.io/component"]).to.equal("agent-vault-bootstrap");
    expect(pod.restartPolicy).to.equal("OnFailure");
    expect(pod.serviceAccountName).to.equal("agent-vault-bootstrap");
    expect(pod.volumes).to.deep.equal([
      { name: "work", emptyDir: {} },
      { name: "bootstrap", secret: { secretName: "agent-vault-bootstrap" } },
    ]);
    const [init] = pod.initContainers as Obj[];
    expect(init.name).to.equal("bootstrap-owner");
    expect(init.image).to.equal(CLI);
    expect(init.command).to.deep.equal(["sh", "-ec"]);
    expect(init.env).to.deep.equal([
      { name: "AGENT_VAULT_OWNER_EMAIL", value: "owner@example.com" },
      { name: "AGENT_VAULT_ALLOWED_DOMAINS", value: "" },
    ]);
    expect(init.volumeMounts).to.deep.equal([
      { name: "work", mountPath: "/work" },
      { name: "bootstrap", mountPath: "/bootstrap", readOnly: true },
    ]);
    const script = init.args[0] as string;
    for (const line of ['addr="http://agent-vault:14321"', 'password="$(cat /bootstrap/AGENT_VAULT_OWNER_PASSWORD)"', 'until wget -q -O /dev/null "$addr/health"; do', "  --invite-only=true \\", 'agent-vault ca fetch --address "$addr" > /work/ca.pem', "test -s /work/ca.pem"]) {
      expect(script.split("\n"), line).to.include(line);
    }
    expect(script.endsWith("test -s /work/ca.pem\n")).to.equal(true);
    expect(script).to.not.contain("access-admin-token");
    const [publish] = pod.containers as Obj[];
    expect(publish.name).to.equal("publish-ca");
    expect(publish.image).to.equal("bitnami/kubectl:1.31");
    expect(publish.env).to.deep.equal([{ name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } }]);
    expect(publish.volumeMounts).to.deep.equal([{ name: "work", mountPath: "/work", readOnly: true }]);
    expect(publish.args).to.deep.equal(['kubectl -n "$POD_NAMESPACE" create configmap agent-vault-ca \\\n  --from-file=ca.pem=/work/ca.pem \\\n  --dry-run=client -o yaml | kubectl apply -f -\n']);

    // With the access tool: the owner-role agent token is minted and published into its Secret.
    const minted = find((await renderSqlite(mergeValues(mergeValues(BOOTSTRAP, TOOL), av({ bootstrap: { image: "cli:2", inviteOnly: false, allowedDomains: "example.com" } })))).objects, "Job", "agent-vault-bootstrap");
    const mintInit = minted.spec.template.spec.initContainers[0] as Obj;
    expect(mintInit.image).to.equal("cli:2");
    expect(envValue(mintInit, "AGENT_VAULT_ALLOWED_DOMAINS")).to.equal("example.com");
    const mint = mintInit.args[0] as string;
    expect(mint).to.contain("  --invite-only=false \\\n");
    expect(mint).to.contain('if ! agent-vault agent create "access-admin" \\\n  --token-only > /work/access-admin-token; then\n  agent-vault agent rotate "access-admin" \\\n');
    expect(mint.endsWith('agent-vault agent set-role "access-admin" --role owner\ntest -s /work/access-admin-token\n')).to.equal(true);
    expect(minted.spec.template.spec.containers[0].args[0]).to.contain(
      'kubectl -n "$POD_NAMESPACE" create secret generic agent-vault-access-admin \\\n  --from-file=token=/work/access-admin-token \\\n  --dry-run=client -o yaml | kubectl apply -f -\n',
    );
  });

  it("AV9 access grants: ConfigMap agent-vault-access-grants with access-grants.yaml, and the Job that applies it with the runtime image (no Helm hook annotations)", async () => {
    const grants = [GRANT, { email: "b@example.com", workerScope: "user_agent", requester: "@b:example.com", agent: "helper", role: "admin" }, { email: "c@example.com", workerScope: "user", requester: "@c:example.com" }];
    const r = await renderSqlite(mergeValues(ON, mergeValues(av({ accessGrants: { enabled: true, tenantId: "t1", accountId: 42, grants } }), { imagePullSecrets: [{ name: "ghcr" }] })));
    const labels = { "app.kubernetes.io/name": "agent-vault-access-grants", "app.kubernetes.io/instance": "mindroom-runtime", "app.kubernetes.io/component": "agent-vault-access-grants", ...META };
    const cm = find(r.objects, "ConfigMap", "agent-vault-access-grants");
    expect(cm.metadata!.labels).to.deep.equal(labels);
    expect(cm.data).to.deep.equal({
      "access-grants.yaml": [
        'apiUrl: "http://agent-vault:14321"',
        'vaultNamePrefix: "agent-vault"',
        'tenantId: "t1"',
        'accountId: "42"',
        "grants:",
        '  - email: "a@example.com"',
        '    workerScope: "shared"',
        '    agent: "helper"',
        '    role: "admin"',
        '  - email: "b@example.com"',
        '    workerScope: "user_agent"',
        '    requester: "@b:example.com"',
        '    agent: "helper"',
        '    role: "admin"',
        '  - email: "c@example.com"',
        '    workerScope: "user"',
        '    requester: "@c:example.com"',
        '    role: "admin"',
        "",
      ].join("\n"),
    });
    const job = find(r.objects, "Job", "agent-vault-access-grants");
    expect(job.metadata!.labels).to.deep.equal(labels);
    expect(job.metadata!.annotations).to.equal(undefined);
    expect(job.spec.ttlSecondsAfterFinished).to.equal(86400);
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).to.equal("OnFailure");
    expect(pod.automountServiceAccountToken).to.equal(false);
    expect(pod.imagePullSecrets).to.deep.equal([{ name: "ghcr" }]);
    expect(pod).to.not.have.property("serviceAccountName");
    const c = pod.containers[0] as Obj;
    expect(pod.containers.map((x: Obj) => x.name)).to.deep.equal(["access-grants"]);
    expect(c.image).to.equal("ghcr.io/mindroom-ai/mindroom:latest");
    expect(c.imagePullPolicy).to.equal("Always");
    expect(c.command).to.deep.equal([
      "python", "-m", "mindroom.agent_vault_access_grants", "apply",
      "--config", "/etc/mindroom-agent-vault-access-grants/access-grants.yaml",
      "--admin-token-file", "/etc/agent-vault-access-grants/token",
      "--wait-ready-seconds", "180",
    ]);
    expect(c.resources).to.deep.equal({});
    // The runtime container's security context, as upstream.
    expect(c.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(c.volumeMounts).to.deep.equal([
      { name: "access-grants-config", mountPath: "/etc/mindroom-agent-vault-access-grants", readOnly: true },
      { name: "access-grants-admin-token", mountPath: "/etc/agent-vault-access-grants", readOnly: true },
    ]);
    expect(pod.volumes).to.deep.equal([
      { name: "access-grants-config", configMap: { name: "agent-vault-access-grants" } },
      { name: "access-grants-admin-token", secret: { secretName: "agent-vault-access-admin" } },
    ]);
    // Enabled with no grants, or grants while disabled: nothing.
    for (const off of [av({ accessGrants: { enabled: true, grants: [] } }), av({ accessGrants: { enabled: false, grants: [GRANT] } })]) {
      expect(kinds((await renderSqlite(mergeValues(ON, off))).objects).filter((k) => k.includes("access-grants"))).to.deep.equal([]);
    }
  });

  it("AV10 runtime env (kubernetes workers): the AGENT_VAULT block after the owner deployment name; the worker CA map only when set; the proxy URL through Squid with a parent proxy", async () => {
    const { mindroom } = runtime(await renderSqlite(ON));
    const names = envNames(mindroom);
    const at = names.indexOf("MINDROOM_KUBERNETES_WORKER_OWNER_DEPLOYMENT_NAME");
    expect(names.slice(at + 1, at + 8)).to.deep.equal([
      "MINDROOM_KUBERNETES_AGENT_VAULT_ENABLED",
      "MINDROOM_KUBERNETES_AGENT_VAULT_CLI_IMAGE",
      "MINDROOM_KUBERNETES_AGENT_VAULT_OWNER_EMAIL",
      "MINDROOM_KUBERNETES_AGENT_VAULT_VAULT_NAME_PREFIX",
      "MINDROOM_KUBERNETES_AGENT_VAULT_API_URL",
      "MINDROOM_KUBERNETES_AGENT_VAULT_PROXY_URL",
      "MINDROOM_KUBERNETES_AGENT_VAULT_BOOTSTRAP_SECRET_NAME",
    ]);
    expect(names).to.not.include("MINDROOM_KUBERNETES_AGENT_VAULT_WORKER_CA_CONFIGMAP_NAME");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_ENABLED")).to.equal("true");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_CLI_IMAGE")).to.equal(CLI);
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_OWNER_EMAIL")).to.equal("owner@example.com");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_VAULT_NAME_PREFIX")).to.equal("agent-vault");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_API_URL")).to.equal("http://agent-vault:14321");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_PROXY_URL")).to.equal("http://agent-vault:14322");
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_BOOTSTRAP_SECRET_NAME")).to.equal("agent-vault-bootstrap");
    expect(envValue(runtime(await renderSqlite(BOOTSTRAP)).mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_WORKER_CA_CONFIGMAP_NAME")).to.equal("agent-vault-ca");
    const chained = mergeValues(SERVER, {
      workers: { sandbox: { proxyToken: { existingSecret: "sandbox-token" } } },
      approvedEgress: { enabled: true, image: { tag: "1" }, parentProxy: { enabled: true } },
    });
    expect(envValue(runtime(await renderSqlite(chained)).mindroom, "MINDROOM_KUBERNETES_AGENT_VAULT_PROXY_URL")).to.equal("http://mindroom-runtime-egress-proxy.mindroom.svc.cluster.local:3128");
    // static_runner: no worker env at all, so none of it (as upstream).
    const sidecar = runtime(await renderSqlite(mergeValues(ON, { workers: { backend: "static_runner" } }))).mindroom;
    expect(envNames(sidecar).filter((e) => e.includes("AGENT_VAULT"))).to.deep.equal([]);
    // Off: nothing.
    expect(envNames(runtime(await renderSqlite({ workers: { backend: "kubernetes" } })).mindroom).filter((e) => e.includes("AGENT_VAULT"))).to.deep.equal([]);
  });

  it("AV11 accessTool: MINDROOM_AGENT_VAULT_ACCESS_* env, the admin token Secret mounted (optional) at /etc/agent-vault-access", async () => {
    const { deployment, mindroom } = runtime(await renderSqlite(mergeValues(ON, mergeValues(TOOL, av({ accessTool: { adminTokenSecret: { name: "admin", key: "tok" } } })))));
    const names = envNames(mindroom);
    const at = names.indexOf("MINDROOM_KUBERNETES_AGENT_VAULT_BOOTSTRAP_SECRET_NAME");
    expect(mindroom.env.slice(at + 1, at + 7)).to.deep.equal([
      { name: "MINDROOM_AGENT_VAULT_ACCESS_API_URL", value: "http://agent-vault:14321" },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_UI_BASE_URL", value: "https://example.com/agent-vault" },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_EMAIL_DOMAIN", value: "example.com" },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_VAULT_NAME_PREFIX", value: "agent-vault" },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_OWNER_EMAIL", value: "owner@example.com" },
      { name: "MINDROOM_AGENT_VAULT_ACCESS_ADMIN_TOKEN_FILE", value: "/etc/agent-vault-access/tok" },
    ]);
    expect(mindroom.volumeMounts).to.deep.include({ name: "agent-vault-access-admin", mountPath: "/etc/agent-vault-access", readOnly: true });
    const volumes = deployment.spec.template.spec.volumes as Obj[];
    expect(volumes).to.deep.include({ name: "agent-vault-access-admin", secret: { secretName: "admin", optional: true } });
    // The token never travels as env.
    expect(secretRef(mindroom, "MINDROOM_AGENT_VAULT_ACCESS_ADMIN_TOKEN_FILE")).to.equal(undefined);
  });

  it("AV12 worker NetworkPolicy (egress rules on, vault server in-cluster): an egress rule to the vault pods in RNS on the API port only", async () => {
    const values = mergeValues(SERVER, { workers: { sandbox: { proxyToken: { existingSecret: "sandbox-token" } } }, approvedEgress: { enabled: true, image: { tag: "1" }, parentProxy: { enabled: true } } });
    const np = find((await renderSqlite(values)).objects, "NetworkPolicy", "mindroom-runtime-workers");
    expect(np.spec.egress[2]).to.deep.equal({
      to: [{ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "mindroom" } }, podSelector: { matchLabels: SELECTOR } }],
      ports: [{ protocol: "TCP", port: 14321 }],
    });
    expect(JSON.stringify(np.spec.egress)).to.not.contain("14322");
  });

  it("AV13 ordering: the bootstrap Job after its RBAC and the ready server; the grants Job after its ConfigMap, the server and the bootstrap Job; both replace (delete first) on any spec change; a grant change re-runs the grants Job", async () => {
    const opts = await optionsOf(ALL);
    const bootstrap = opts.get("Job::mindroom-runtime-agent-vault-bootstrap");
    expect(depsOf(bootstrap)).to.deep.equal([
      "mindroom-runtime-agent-vault",
      "mindroom-runtime-agent-vault",
      "mindroom-runtime-agent-vault-bootstrap",
      "mindroom-runtime-agent-vault-bootstrap",
      "mindroom-runtime-agent-vault-bootstrap",
    ]);
    const kindsOf = (o: pulumi.CustomResourceOptions | undefined) =>
      ((o?.dependsOn ?? []) as pulumi.Resource[]).map((r) => `${(r as unknown as { __pulumiType: string }).__pulumiType.split(":")[2]}/${(r as unknown as { __name: string }).__name}`).sort();
    expect(kindsOf(bootstrap)).to.deep.equal([
      "Deployment/mindroom-runtime-agent-vault",
      "Role/mindroom-runtime-agent-vault-bootstrap",
      "RoleBinding/mindroom-runtime-agent-vault-bootstrap",
      "Service/mindroom-runtime-agent-vault",
      "ServiceAccount/mindroom-runtime-agent-vault-bootstrap",
    ]);
    const grants = opts.get("Job::mindroom-runtime-agent-vault-access-grants");
    expect(kindsOf(grants)).to.deep.equal([
      "ConfigMap/mindroom-runtime-agent-vault-access-grants",
      "Deployment/mindroom-runtime-agent-vault",
      "Job/mindroom-runtime-agent-vault-bootstrap",
      "Service/mindroom-runtime-agent-vault",
    ]);
    for (const job of [bootstrap, grants]) {
      expect(job?.replaceOnChanges).to.deep.equal(["spec"]);
      expect(job?.deleteBeforeReplace).to.equal(true);
    }
    const trigger = grants?.replacementTrigger;
    expect(trigger).to.match(/^[0-9a-f]{64}$/);
    const changed = (await optionsOf(mergeValues(ALL, av({ accessGrants: { grants: [{ ...GRANT, agent: "other" }] } })))).get("Job::mindroom-runtime-agent-vault-access-grants");
    expect(changed?.replacementTrigger).to.not.equal(trigger);
    expect((await optionsOf(ALL)).get("Job::mindroom-runtime-agent-vault-access-grants")?.replacementTrigger).to.equal(trigger);
    // Other objects keep the default (patch in place) behaviour.
    expect(opts.get("Deployment::mindroom-runtime-agent-vault")?.replaceOnChanges).to.equal(undefined);
    // Against an external vault (server off): only the RBAC, the ConfigMap and the bootstrap Job.
    const external = await optionsOf(mergeValues(ALL, av({ server: { enabled: false } })));
    expect(kindsOf(external.get("Job::mindroom-runtime-agent-vault-bootstrap"))).to.deep.equal([
      "Role/mindroom-runtime-agent-vault-bootstrap",
      "RoleBinding/mindroom-runtime-agent-vault-bootstrap",
      "ServiceAccount/mindroom-runtime-agent-vault-bootstrap",
    ]);
    expect(kindsOf(external.get("Job::mindroom-runtime-agent-vault-access-grants"))).to.deep.equal(["ConfigMap/mindroom-runtime-agent-vault-access-grants", "Job/mindroom-runtime-agent-vault-bootstrap"]);
    const grantsHash = createHash("sha256").update(find((await renderSqlite(ALL)).objects, "ConfigMap", "agent-vault-access-grants").data["access-grants.yaml"]).digest("hex");
    expect(trigger).to.equal(grantsHash);
  });

  it("every object it adds (all parts on, SMTP too) is schema-valid for Kubernetes", async () => {
    const r = await renderSqlite(mergeValues(ALL, mergeValues(av({ server: { smtp: { enabled: true, host: "h", existingSecret: "smtp" }, podLabels: { a: "b" } } }), { imagePullSecrets: [{ name: "ghcr" }] })));
    expect(ofKind(r.objects, "Job")).to.have.length(2);
    validateKubeObjects(r.objects);
    validateKubeObjects((await renderSqlite(mergeValues(SERVER, av({ server: { persistence: { enabled: false } } })))).objects);
  });
});

describe("runtime Agent Vault: validations (validate.yaml and the templates' required values), valid and invalid", () => {
  it("every documented setup is valid; everything off is never checked", () => {
    valid(ON);
    valid(ALL);
    valid(av({ enabled: false, cliImage: "", ownerEmail: "", bootstrapSecretName: "" }));
  });

  it("the squid-first rule: approved egress without a parent proxy refuses the in-cluster vault proxy URL, in every spelling, with the namespace", async () => {
    const egress = { workers: { sandbox: { proxyToken: { existingSecret: "s" } } }, approvedEgress: { enabled: true, image: { tag: "1" } } };
    const base = mergeValues(ON, egress);
    invalid(base, /^workers\.kubernetes\.agentVault\.proxyUrl: "http:\/\/agent-vault:14322" sends worker traffic straight to the in-cluster vault.*set approvedEgress\.parentProxy\.enabled=true/);
    invalid(mergeValues(base, av({ proxyUrl: " HTTP://Agent-Vault:14322/ " })), /^workers\.kubernetes\.agentVault\.proxyUrl: /);
    valid(mergeValues(base, { approvedEgress: { parentProxy: { enabled: true } } }));
    valid(mergeValues(base, av({ proxyUrl: "http://vault.example.com:14322" })));
    // The namespaced spellings need the release namespace: the component refuses them before registering anything.
    const namespaced = mergeValues(base, av({ proxyUrl: "http://agent-vault.mindroom.svc.cluster.local:14322" }));
    valid(namespaced);
    const build = (namespace: string) => recordProgram(() => new MindroomRuntime("mindroom-runtime", { ...(mergeValues({ eventCache: { backend: "sqlite" } }, namespaced) as MindroomRuntimeArgs), namespace }));
    let message = "";
    let registered = 0;
    try {
      registered = (await build("mindroom")).length;
    } catch (err) {
      expect(err).to.be.instanceOf(ValuesError);
      message = (err as Error).message;
    }
    expect(message).to.match(/^workers\.kubernetes\.agentVault\.proxyUrl: "http:\/\/agent-vault\.mindroom\.svc\.cluster\.local:14322" sends worker traffic/);
    expect(registered).to.equal(0);
    // In another release namespace that URL is some other vault: accepted.
    expect((await build("other")).length).to.be.greaterThan(0);
    // The stack's parse (with its prefix) refuses it too, before the component is built.
    const values = mergeValues({ eventCache: { backend: "sqlite" } }, namespaced);
    expect(() => parseRuntimeValues(values, { namespace: "mindroom" }, "mindroom-runtime:values.")).to.throw(ValuesError, /^mindroom-runtime:values\.workers\.kubernetes\.agentVault\.proxyUrl: "http:\/\/agent-vault\.mindroom\.svc\.cluster\.local:14322" sends/);
    expect(() => parseRuntimeValues(values, { namespace: "other" })).to.not.throw();
  });

  it("accessTool needs Agent Vault on, an admin agent name and the token Secret's name and key; in kubernetes mode also the UI URL and the email domain", () => {
    invalid(mergeValues(av({ accessTool: { enabled: true } }), { workers: { backend: "kubernetes" } }), /^workers\.kubernetes\.agentVault\.accessTool\.enabled: needs workers\.kubernetes\.agentVault\.enabled=true/);
    invalid(mergeValues(ON, mergeValues(TOOL, av({ accessTool: { adminAgentName: " " } }))), /^workers\.kubernetes\.agentVault\.accessTool\.adminAgentName: must not be empty/);
    invalid(mergeValues(ON, mergeValues(TOOL, av({ accessTool: { adminTokenSecret: { key: "" } } }))), /^workers\.kubernetes\.agentVault\.accessTool\.adminTokenSecret: needs both name and key/);
    invalid(mergeValues(ON, av({ accessTool: { enabled: true, emailDomain: "example.com" } })), /^workers\.kubernetes\.agentVault\.accessTool\.uiBaseUrl: is required with accessTool\.enabled=true/);
    invalid(mergeValues(ON, av({ accessTool: { enabled: true, uiBaseUrl: "https://x" } })), /^workers\.kubernetes\.agentVault\.accessTool\.emailDomain: is required with accessTool\.enabled=true/);
    valid(mergeValues(ON, TOOL));
  });

  it("access grants (with grants listed) need Agent Vault on and the token Secret; with bootstrap also an admin agent name and one key per Secret", () => {
    invalid(mergeValues(GRANTS, { workers: { backend: "kubernetes" } }), /^workers\.kubernetes\.agentVault\.accessGrants\.enabled: with grants listed needs workers\.kubernetes\.agentVault\.enabled=true/);
    valid(av({ accessGrants: { enabled: true, grants: [] } }));
    invalid(mergeValues(ON, mergeValues(GRANTS, av({ accessGrants: { adminTokenSecret: { name: "" } } }))), /^workers\.kubernetes\.agentVault\.accessGrants\.adminTokenSecret: needs both name and key/);
    invalid(mergeValues(BOOTSTRAP, mergeValues(GRANTS, av({ accessTool: { adminAgentName: "" } }))), /^workers\.kubernetes\.agentVault\.accessTool\.adminAgentName: must not be empty when accessGrants and bootstrap are on/);
    valid(mergeValues(ON, mergeValues(GRANTS, av({ accessTool: { adminAgentName: "" } }))));
    const sameSecret = mergeValues(mergeValues(BOOTSTRAP, TOOL), mergeValues(GRANTS, av({ accessGrants: { adminTokenSecret: { key: "other" } } })));
    invalid(sameSecret, /^workers\.kubernetes\.agentVault\.accessTool\.adminTokenSecret\.key: "token" differs from accessGrants\.adminTokenSecret\.key "other" for the same Secret "agent-vault-access-admin"/);
    valid(mergeValues(sameSecret, av({ accessGrants: { adminTokenSecret: { name: "grants-admin" } } })));
  });

  it("each grant: an email, a known workerScope, role admin, and the requester/agent each scope needs", () => {
    const grant = (g: Record<string, unknown>) => mergeValues(ON, av({ accessGrants: { enabled: true, grants: [GRANT, g] } }));
    const at = "^workers\\.kubernetes\\.agentVault\\.accessGrants\\.grants\\[1\\]";
    invalid(grant({ workerScope: "shared", agent: "a" }), new RegExp(`${at}\\.email: is required`));
    invalid(grant({ email: "e@x", workerScope: "team", agent: "a" }), new RegExp(`${at}\\.workerScope: must be shared, user or user_agent, got "team"`));
    invalid(grant({ email: "e@x", workerScope: "shared", agent: "a", role: "viewer" }), new RegExp(`${at}\\.role: must be admin`));
    invalid(grant({ email: "e@x", workerScope: "shared", agent: "a", requester: "@u:x" }), new RegExp(`${at}\\.requester: must be empty for workerScope=shared`));
    invalid(grant({ email: "e@x", workerScope: "shared" }), new RegExp(`${at}\\.agent: is required for workerScope=shared`));
    invalid(grant({ email: "e@x", workerScope: "user" }), new RegExp(`${at}\\.requester: is required for workerScope=user`));
    invalid(grant({ email: "e@x", workerScope: "user", requester: "@u:x", agent: "a" }), new RegExp(`${at}\\.agent: must be empty for workerScope=user`));
    invalid(grant({ email: "e@x", workerScope: "user_agent", requester: "@u:x" }), new RegExp(`${at}\\.agent: is required for workerScope=user_agent`));
    valid(grant({ email: "e@x", workerScope: "user", requester: "@u:x" }));
    valid(grant({ email: "e@x", workerScope: " user_agent ", requester: "@u:x", agent: "a", role: "admin" }));
    invalid(grant({ email: "e@x", workerScope: "user", requester: "@u:x", extra: 1 }), new RegExp(`${at}: unknown key "extra"`));
  });

  it("Agent Vault on in kubernetes mode needs the CLI image and the owner email (as the runtime template requires)", () => {
    invalid(mergeValues(ON, av({ cliImage: "" })), /^workers\.kubernetes\.agentVault\.cliImage: is required with agentVault\.enabled=true/);
    invalid(mergeValues(ON, av({ ownerEmail: "" })), /^workers\.kubernetes\.agentVault\.ownerEmail: is required with agentVault\.enabled=true/);
    // static_runner renders no worker env, so upstream requires neither.
    valid(av({ enabled: true }));
  });

  it("server.enabled needs an image (server.image or cliImage), the bootstrap Secret, a size for its PVC, and an SMTP Secret with SMTP on", () => {
    const server = av({ server: { enabled: true } });
    invalid(server, /^workers\.kubernetes\.agentVault\.server\.image: or workers\.kubernetes\.agentVault\.cliImage is required with server\.enabled=true/);
    valid(mergeValues(server, av({ server: { image: "vault:1" } })));
    invalid(mergeValues(SERVER, av({ bootstrapSecretName: "" })), /^workers\.kubernetes\.agentVault\.bootstrapSecretName: is required with server\.enabled=true/);
    invalid(mergeValues(SERVER, av({ server: { persistence: { size: "" } } })), /^workers\.kubernetes\.agentVault\.server\.persistence\.size: is required for the chart-managed vault volume/);
    valid(mergeValues(SERVER, av({ server: { persistence: { size: "", existingClaim: "C" } } })));
    invalid(mergeValues(SERVER, av({ server: { smtp: { enabled: true } } })), /^workers\.kubernetes\.agentVault\.server\.smtp\.existingSecret: is required with smtp\.enabled=true/);
  });

  it("bootstrap.enabled needs the API URL, the CA ConfigMap name, an image, the owner email, a kubectl image and the bootstrap Secret", () => {
    const off = (values: Record<string, unknown>) => mergeValues(BOOTSTRAP, av(values));
    invalid(off({ apiUrl: "" }), /^workers\.kubernetes\.agentVault\.apiUrl: is required with bootstrap\.enabled=true/);
    invalid(off({ workerCaConfigMapName: "" }), /^workers\.kubernetes\.agentVault\.workerCaConfigMapName: is required with bootstrap\.enabled=true/);
    // Without Agent Vault on (bootstrap against an external vault) the CLI image can come from bootstrap.image only.
    const external = av({ workerCaConfigMapName: "ca", ownerEmail: "o@x", bootstrap: { enabled: true, kubectlImage: "k" } });
    invalid(external, /^workers\.kubernetes\.agentVault\.bootstrap\.image: or workers\.kubernetes\.agentVault\.cliImage is required with bootstrap\.enabled=true/);
    valid(mergeValues(external, av({ bootstrap: { image: "cli:1" } })));
    invalid(mergeValues(external, av({ bootstrap: { image: "cli:1" }, ownerEmail: "" })), /^workers\.kubernetes\.agentVault\.ownerEmail: is required with bootstrap\.enabled=true/);
    invalid(off({ bootstrap: { kubectlImage: "" } }), /^workers\.kubernetes\.agentVault\.bootstrap\.kubectlImage: is required with bootstrap\.enabled=true/);
    invalid(off({ bootstrapSecretName: "" }), /^workers\.kubernetes\.agentVault\.bootstrapSecretName: is required with bootstrap\.enabled=true/);
  });

  it("the chart has no top-level agentVault: switched on it points at workers.kubernetes.agentVault; off or empty it is accepted", () => {
    invalid({ agentVault: { enabled: true } }, /^agentVault: the runtime chart has no top-level agentVault; Agent Vault is configured under workers\.kubernetes\.agentVault/);
    invalid({ agentVault: { cliImage: "x" } }, /^agentVault: /);
    valid({ agentVault: { enabled: false } });
    valid({ agentVault: {} });
    valid({ agentVault: null });
  });

  it("Kubernetes formats fail at parse time: ports, pull policy, the server name, quantities, types", () => {
    invalid(mergeValues(SERVER, av({ server: { apiPort: 70000 } })), /^workers\.kubernetes\.agentVault\.server\.apiPort: must be a port number/);
    invalid(mergeValues(SERVER, av({ server: { imagePullPolicy: "Sometimes" } })), /^workers\.kubernetes\.agentVault\.server\.imagePullPolicy: must be Always, IfNotPresent or Never/);
    invalid(mergeValues(SERVER, av({ server: { name: "Agent_Vault" } })), /^workers\.kubernetes\.agentVault\.server\.name: must be lower-case letters/);
    invalid(mergeValues(SERVER, av({ server: { persistence: { size: "lots" } } })), /^workers\.kubernetes\.agentVault\.server\.persistence\.size: must be a Kubernetes quantity/);
    invalid(mergeValues(ON, av({ accessGrants: { grants: "a@example.com" } })), /^workers\.kubernetes\.agentVault\.accessGrants\.grants: must be a list of grants/);
    invalid(mergeValues(ON, av({ server: { typo: true } })), /^workers\.kubernetes\.agentVault\.server: unknown key "typo"/);
  });
});
