/**
 * Issue 9 items 1 and 6 on a real kube-apiserver started the way the cluster's k3s server runs it:
 * the `kube-apiserver-arg` list and the admission and audit files come from the rendered control-plane
 * user-data (components/cluster), only their directory moved into the test's temp dir.
 *
 * - The k3s flags: the API server starts with them; the PodSecurity defaults refuse a privileged
 *   pod in an unlabelled namespace and admit it in the two exempt ones; DenyServiceExternalIPs
 *   refuses externalIPs; the audit log is written, with Secrets and ConfigMaps as metadata only.
 * - Every workload the three renderers emit (the fixtures of render-apply.test.ts): its namespace
 *   as the stacks create it (labelled, or for the runtime unlabelled, i.e. under the k3s defaults),
 *   the workload server-side applied with dry-run, and its pod template created as a Pod with
 *   dry-run: `baseline` (enforced) admits every pod, and the `restricted` warnings are exactly the
 *   per-workload exceptions listed in docs/instance.md, docs/platform.md and docs/runtime.md.
 */
import { expect } from "chai";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parse } from "yaml";
import { serverUserData } from "../../components/cluster/cloud-init";
import { K3S_SERVER_DIR } from "../../components/cluster/hardening";
import { podSecurityLabels } from "../../infra/pod-security";
import { TENANT_NAMESPACE } from "../../infra/tenant-names";
import { testPki } from "../fixtures/cluster/mocks";
import { apiRequest, type ApiResponse, type ApiTarget } from "./support/api";
import { render, type Obj } from "./support/apply";
import { startCluster, type Cluster } from "./support/cluster";

const FIXTURES = join(__dirname, "../fixtures");
const MANAGER = "mindroom-engine-pod-security";

/** The control plane's user-data as the cluster component renders it. */
function userData(): { config: Record<string, unknown>; files: Map<string, string> } {
  const pki = testPki();
  const text = serverUserData({
    k3sVersion: "v1.31.13+k3s1", installerSha256: "0".repeat(64), nodeIp: "10.255.0.101", labels: {}, taints: [], token: "t".repeat(48), agentToken: "a".repeat(48),
    tlsSans: ["10.255.0.101"], pki: { serverCaCert: pki.serverCaCert, serverCaKey: pki.serverCaKey, clientCaCert: pki.clientCaCert, clientCaKey: pki.clientCaKey },
  });
  const doc = parse(text) as { write_files: { path: string; content: string }[] };
  const files = new Map(doc.write_files.map((f) => [f.path, f.content]));
  return { config: parse(files.get("/etc/rancher/k3s/config.yaml")!) as Record<string, unknown>, files };
}

/** `kube-apiserver-arg` as flags, k3s's server dir moved to `dir`; writes the files they name there. */
function k3sApiserverArgs(dir: string): string[] {
  const { config, files } = userData();
  const moved = (value: string) => value.replaceAll(K3S_SERVER_DIR, join(dir, "k3s-server"));
  for (const [path, content] of files) {
    if (!path.startsWith(`${K3S_SERVER_DIR}/`) || path.includes("/tls/")) continue;
    mkdirSync(dirname(moved(path)), { recursive: true });
    writeFileSync(moved(path), content, { mode: 0o600 });
  }
  // k3s itself runs kube-apiserver with --allow-privileged=true, so only admission can refuse privileged pods.
  return ["--allow-privileged=true", ...(config["kube-apiserver-arg"] as string[]).map((arg) => `--${moved(arg)}`)];
}

const privilegedPod = (name: string) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name },
  spec: {
    hostNetwork: true,
    containers: [{ name: "c", image: "busybox", securityContext: { privileged: true }, volumeMounts: [{ name: "host", mountPath: "/host" }] }],
    volumes: [{ name: "host", hostPath: { path: "/" } }],
  },
});

/** `would violate PodSecurity "restricted:latest": a (…), b (…)` → the check names, e.g. ["a", "b"]. */
function restrictedChecks(warnings: string[]): string[] {
  const names: string[] = [];
  for (const w of warnings) {
    const m = /^would violate PodSecurity "restricted:[^"]+": (.*)$/.exec(w);
    if (!m) continue;
    let depth = 0;
    let item = "";
    for (const ch of `${m[1]},`) {
      if (ch === "(") depth++;
      if (ch === ")") depth--;
      if (ch === "," && depth === 0) {
        names.push(item.trim().replace(/ \(.*$/s, ""));
        item = "";
      } else item += ch;
    }
  }
  return [...new Set(names)].sort();
}

interface Case {
  target: "instance" | "platform" | "runtime";
  name: string;
  files: string[];
  values?: Record<string, unknown>;
  args?: string[];
  /** Namespace of the workloads, and how the stacks leave it: labelled by the project, or unlabelled (the k3s defaults apply). */
  namespace: string;
  labelled: boolean;
  /** `${kind} ${name}` → the `restricted` checks it still fails (the documented exceptions); every other workload passes restricted. */
  exceptions: Record<string, string[]>;
}

const instance = (f: string) => join(FIXTURES, "instance", f);
const STOCK_SYNAPSE = ["runAsNonRoot != true", "unrestricted capabilities"];
const POSTGRES = ["runAsNonRoot != true", "unrestricted capabilities"];

const CASES: Case[] = [
  { target: "instance", name: "tenant.yaml (static_runner, stock Synapse)", files: [instance("tenant.yaml")], values: { customer: 9201 }, namespace: TENANT_NAMESPACE, labelled: true, exceptions: { "Deployment synapse-9201": STOCK_SYNAPSE } },
  {
    target: "instance", name: "tenant.yaml in kubernetes worker mode", files: [instance("tenant.yaml")], values: { customer: 9202, workerBackend: "kubernetes", controlPlaneNodeName: "node-1" },
    namespace: TENANT_NAMESPACE, labelled: true, exceptions: { "Deployment synapse-9202": STOCK_SYNAPSE },
  },
  { target: "instance", name: "a Synapse image that starts non-root", files: [instance("tenant.yaml")], values: { customer: 9203, synapseImageRunsAsNonRoot: true }, namespace: TENANT_NAMESPACE, labelled: true, exceptions: {} },
  { target: "instance", name: "upstream-helm-values.yaml", files: [instance("upstream-helm-values.yaml")], values: { customer: 9204 }, namespace: TENANT_NAMESPACE, labelled: true, exceptions: { "Deployment synapse-9204": STOCK_SYNAPSE } },
  {
    target: "platform", name: "production.yaml (provisioner on)", files: [join(FIXTURES, "platform/production.yaml")], values: { environment: "pss" },
    namespace: "mindroom-pss", labelled: true, exceptions: { "Deployment platform-backend": ["runAsNonRoot != true"] },
  },
  {
    target: "runtime", name: "production-values.yaml (kubernetes workers, postgres)", files: [join(FIXTURES, "runtime/production-values.yaml")], args: ["--release-name", "rt-pss", "-n", "engine-pss-runtime"],
    namespace: "engine-pss-runtime", labelled: false, exceptions: { "StatefulSet rt-pss-mindroom-runtime-event-cache-postgres": POSTGRES },
  },
  { target: "runtime", name: "chart defaults (static_runner sidecar, postgres)", files: [], values: {}, args: ["-n", "engine-pss-runtime-defaults"], namespace: "engine-pss-runtime-defaults", labelled: false, exceptions: { "StatefulSet mindroom-runtime-event-cache-postgres": POSTGRES } },
  // approvedEgress + Agent Vault (docs/runtime.md, Pod Security): the proxy is restricted; the vault server and its two Jobs keep upstream's contexts.
  {
    target: "runtime", name: "egress-vault-values.yaml (approved egress proxy, Agent Vault server and Jobs)", files: [join(FIXTURES, "runtime/egress-vault-values.yaml")], args: ["-n", "engine-pss-runtime-vault"],
    namespace: "engine-pss-runtime-vault", labelled: false,
    exceptions: {
      "Deployment agent-vault": ["runAsNonRoot != true", "seccompProfile"],
      "Job agent-vault-bootstrap": ["allowPrivilegeEscalation != false", "runAsNonRoot != true", "seccompProfile", "unrestricted capabilities"],
      "Job agent-vault-access-grants": ["runAsNonRoot != true", "seccompProfile"],
    },
  },
  // stateStorage + contentBundles (docs/runtime.md, Pod Security): the state init container runs as root with the default capabilities; the bundle as the runtime user.
  {
    target: "runtime", name: "features-values.yaml (state storage init container, content bundle)", files: [join(FIXTURES, "runtime/features-values.yaml")], args: ["-n", "engine-pss-runtime-features"],
    namespace: "engine-pss-runtime-features", labelled: false,
    exceptions: { "Deployment mindroom-runtime": ["runAsNonRoot != true", "runAsUser=0", "unrestricted capabilities"] },
  },
];

const WORKLOAD_KINDS = ["Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "ReplicaSet"];
const API_PATH: Record<string, string> = { Deployment: "apps/v1", StatefulSet: "apps/v1", DaemonSet: "apps/v1", ReplicaSet: "apps/v1", Job: "batch/v1", CronJob: "batch/v1" };

/** The Pod a workload's controller would create (StatefulSet claims as the controller adds them). */
function podOf(o: Obj): Obj {
  const template = o.kind === "CronJob" ? o.spec.jobTemplate.spec.template : o.spec.template;
  const spec = structuredClone(template.spec) as Obj;
  for (const claim of (o.spec.volumeClaimTemplates ?? []) as Obj[]) {
    spec.volumes = [...(spec.volumes ?? []), { name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${o.metadata.name}-0` } }];
  }
  return { apiVersion: "v1", kind: "Pod", metadata: { name: `${o.metadata.name}-pss`.slice(0, 63), labels: template.metadata?.labels }, spec };
}

describe("engine: Pod Security and the k3s API server flags (issue 9 items 1, 6)", () => {
  let cluster: Cluster;
  let api: ApiTarget;
  let dir: string;
  const call = (method: string, path: string, body?: unknown, type?: string): Promise<ApiResponse> => apiRequest(api, method, path, body, type);
  const ssa = (path: string, body: Obj, dryRun: boolean) =>
    call("PATCH", `${path}?fieldManager=${MANAGER}&force=true&fieldValidation=Strict${dryRun ? "&dryRun=All" : ""}`, JSON.stringify(body), "application/apply-patch+yaml");
  const namespace = async (name: string, labels?: Record<string, string>) => {
    const ns = await ssa(`/api/v1/namespaces/${name}`, { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(labels ? { labels } : {}) } }, false);
    expect(ns.status, ns.text).to.be.oneOf([200, 201]);
    // No controller-manager here, so no one creates the default ServiceAccount pods fall back to.
    const sa = await ssa(`/api/v1/namespaces/${name}/serviceaccounts/default`, { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "default", namespace: name } }, false);
    expect(sa.status, sa.text).to.be.oneOf([200, 201]);
  };
  const dryRunPod = (ns: string, pod: Obj) => call("POST", `/api/v1/namespaces/${ns}/pods?dryRun=All`, pod);

  before(async function () {
    this.timeout(180_000);
    dir = mkdtempSync(join(tmpdir(), "pod-security-"));
    cluster = await startCluster({ apiserverArgs: k3sApiserverArgs });
    api = { server: cluster.server, ca: cluster.ca, token: cluster.token };
    for (const ns of ["default", "kube-system", "ingress-nginx"]) await namespace(ns);
  });
  after(async () => {
    await cluster?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  describe("the k3s kube-apiserver-arg list and its files", () => {
    it("the API server starts with every flag of the rendered config (admission config, audit policy and log, plugins)", () => {
      const args = (userData().config["kube-apiserver-arg"] as string[]).map((a) => a.split("=")[0]);
      expect(args).to.have.members(["enable-admission-plugins", "admission-control-config-file", "audit-policy-file", "audit-log-path", "audit-log-maxage", "audit-log-maxbackup", "audit-log-maxsize"]);
      const cmdline = readFileSync(`/proc/${cluster.pids.apiserver}/cmdline`, "utf8").split("\0");
      for (const a of args) expect(cmdline.some((c) => c.startsWith(`--${a}=`)), a).to.equal(true);
    });

    it("an unlabelled namespace gets the defaults: a privileged pod is refused by baseline at v1.31", async () => {
      const res = await dryRunPod("default", privilegedPod("privileged"));
      expect(res.status, res.text).to.equal(403);
      expect(res.body.message).to.match(/violates PodSecurity "baseline:v1\.31": host namespaces \(hostNetwork=true\), hostPath volumes \(volume "host"\), privileged \(container "c" must not set securityContext\.privileged=true\)/);
    });

    it("an unlabelled namespace admits a baseline pod and warns what restricted would refuse", async () => {
      const res = await dryRunPod("default", { apiVersion: "v1", kind: "Pod", metadata: { name: "plain" }, spec: { containers: [{ name: "c", image: "busybox" }] } });
      expect(res.status, res.text).to.equal(201);
      expect(restrictedChecks(res.warnings)).to.deep.equal(["allowPrivilegeEscalation != false", "runAsNonRoot != true", "seccompProfile", "unrestricted capabilities"]);
    });

    for (const ns of ["kube-system", "ingress-nginx"]) {
      it(`${ns} is exempt: the same privileged pod is admitted, without warnings`, async () => {
        const res = await dryRunPod(ns, privilegedPod("privileged"));
        expect(res.status, res.text).to.equal(201);
        expect(res.warnings).to.deep.equal([]);
      });
    }

    it("DenyServiceExternalIPs refuses a Service with externalIPs; one without is admitted", async () => {
      const svc = (externalIPs?: string[]) => ({ apiVersion: "v1", kind: "Service", metadata: { name: "ext" }, spec: { ports: [{ port: 80 }], ...(externalIPs ? { externalIPs } : {}) } });
      const refused = await call("POST", "/api/v1/namespaces/default/services?dryRun=All", svc(["203.0.113.9"]));
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.body.message).to.match(/Use of external IPs is denied by admission control/);
      const admitted = await call("POST", "/api/v1/namespaces/default/services?dryRun=All", svc());
      expect(admitted.status, admitted.text).to.equal(201);
    });

    it("the audit log: writes with their request body, Secrets and ConfigMaps as metadata only, no health probes", async () => {
      const marker = `audit-marker-${Date.now()}`;
      const secret = await call("POST", "/api/v1/namespaces/default/secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "audited" }, stringData: { key: marker } });
      expect(secret.status, secret.text).to.equal(201);
      const cm = await call("POST", "/api/v1/namespaces/default/configmaps", { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "audited" }, data: { key: marker } });
      expect(cm.status, cm.text).to.equal(201);
      const sa = await call("POST", "/api/v1/namespaces/default/serviceaccounts", { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "audited", labels: { marker } } });
      expect(sa.status, sa.text).to.equal(201);
      await call("GET", "/readyz");

      const log = join(cluster.dir, "k3s-server", "logs", "audit.log");
      type Event = { level: string; verb: string; requestURI: string; objectRef?: { resource?: string; name?: string }; requestObject?: unknown; stage: string };
      let events: Event[] = [];
      const deadline = Date.now() + 10_000;
      const created = (resource: string) => events.find((e) => e.verb === "create" && e.objectRef?.resource === resource && e.objectRef.name === "audited");
      while (Date.now() < deadline) {
        events = readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as Event);
        if (created("secrets") && created("configmaps") && created("serviceaccounts")) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(created("secrets")?.level).to.equal("Metadata");
      expect(created("configmaps")?.level).to.equal("Metadata");
      expect(created("serviceaccounts")?.level).to.equal("Request");
      expect(JSON.stringify(created("serviceaccounts")?.requestObject)).to.contain(marker);
      // The marker is in the ServiceAccount's body only: no Secret or ConfigMap value reaches the log.
      expect(events.filter((e) => JSON.stringify(e).includes(marker)).map((e) => e.objectRef?.resource)).to.deep.equal(["serviceaccounts"]);
      expect(events.some((e) => e.stage === "RequestReceived")).to.equal(false);
      expect(events.some((e) => /^\/(readyz|livez|healthz)/.test(e.requestURI))).to.equal(false);
    });
  });

  describe("every rendered workload under Pod Security", () => {
    const seen = new Set<string>();

    CASES.forEach((c, i) => {
      it(`${c.target} ${c.name}: baseline admits every pod; restricted warns only about the documented exceptions`, async function () {
        this.timeout(120_000);
        const files = [...c.files];
        if (c.values) {
          files.push(join(dir, `case-${i}.yaml`));
          writeFileSync(files[files.length - 1], JSON.stringify(c.values));
        }
        const objects = await render(c.target, files, c.args);
        const streamNs = objects.find((o) => o.kind === "Namespace" && o.metadata.name === c.namespace);
        if (!seen.has(c.namespace)) {
          seen.add(c.namespace);
          // The platform's own Namespace with its rendered labels; mindroom-instances as the root stack labels it; the runtime's as the operator created it.
          await namespace(c.namespace, streamNs ? streamNs.metadata.labels : c.labelled ? podSecurityLabels() : undefined);
        }
        const live = await call("GET", `/api/v1/namespaces/${c.namespace}`);
        const psa = Object.fromEntries(Object.entries((live.body.metadata.labels ?? {}) as Record<string, string>).filter(([k]) => k.startsWith("pod-security.kubernetes.io/")));
        expect(psa, `${c.namespace} labels`).to.deep.equal(c.labelled ? podSecurityLabels() : {});
        for (const sa of objects.filter((o) => o.kind === "ServiceAccount")) {
          const res = await ssa(`/api/v1/namespaces/${sa.metadata.namespace}/serviceaccounts/${sa.metadata.name}`, sa, false);
          expect(res.status, res.text).to.be.oneOf([200, 201]);
        }

        const workloads = objects.filter((o) => WORKLOAD_KINDS.includes(o.kind));
        expect(workloads.length, "rendered workloads").to.be.greaterThan(0);
        const found: Record<string, string[]> = {};
        for (const w of workloads) {
          const key = `${w.kind} ${w.metadata.name}`;
          expect(w.metadata.namespace, key).to.equal(c.namespace);
          const applied = await ssa(`/apis/${API_PATH[w.kind]}/namespaces/${c.namespace}/${w.kind.toLowerCase()}s/${w.metadata.name}`, w, true);
          expect(applied.status, `${key}: ${applied.text}`).to.be.oneOf([200, 201]);
          const pod = await dryRunPod(c.namespace, podOf(w));
          expect(pod.status, `${key}'s pod: ${pod.body?.message ?? pod.text}`).to.equal(201);
          // The workload and its pod draw the same restricted warnings.
          expect(restrictedChecks(applied.warnings), key).to.deep.equal(restrictedChecks(pod.warnings));
          const checks = restrictedChecks(pod.warnings);
          if (checks.length > 0) found[key] = checks;
        }
        expect(found).to.deep.equal(c.exceptions);
        console.log(`      - ${workloads.length} workloads in ${c.namespace}${c.labelled ? " (labelled)" : " (k3s defaults)"}: ${workloads.map((w) => `${w.metadata.name}${found[`${w.kind} ${w.metadata.name}`] ? " baseline" : " restricted"}`).join(", ")}`);

        const refused = await dryRunPod(c.namespace, privilegedPod("privileged"));
        expect(refused.status, refused.text).to.equal(403);
        expect(refused.body.message).to.contain('violates PodSecurity "baseline:v1.31"');
      });
    });
  });
});
