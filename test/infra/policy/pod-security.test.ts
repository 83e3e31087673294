import { expect } from "chai";
import type { Obj } from "../../../infra/policy/kube";
import { baselineViolations, restrictedViolations } from "../../../infra/policy/pod-security";
import { app, deployment, podSpec } from "./fixtures";

/** A copy of `deployment()` changed by `edit`. */
const changed = (edit: (d: Obj) => void, d: Obj = deployment()) => {
  edit(d);
  return d;
};

describe("policy pod-security-baseline", () => {
  it("passes a workload that meets baseline (and objects without a pod template)", () => {
    expect(baselineViolations(deployment())).to.deep.equal([]);
    expect(baselineViolations({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: {} })).to.deep.equal([]);
  });

  const failing: [string, (d: Obj) => void, RegExp][] = [
    ["privileged", (d) => (app(d).securityContext.privileged = true), /container "app" must not set securityContext.privileged=true/],
    ["hostNetwork", (d) => (podSpec(d).hostNetwork = true), /host namespaces: hostNetwork must not be true/],
    ["hostPID", (d) => (podSpec(d).hostPID = true), /hostPID must not be true/],
    ["hostIPC", (d) => (podSpec(d).hostIPC = true), /hostIPC must not be true/],
    ["hostPath volumes", (d) => podSpec(d).volumes.push({ name: "host", hostPath: { path: "/" } }), /hostPath volume "host" is not allowed/],
    ["host ports", (d) => (app(d).ports[0].hostPort = 80), /container "app" uses hostPort 80/],
    ["capabilities beyond the baseline set", (d) => (app(d).securityContext.capabilities.add = ["CHOWN", "NET_ADMIN", "SYS_ADMIN"]), /adds capabilities beyond the baseline set: NET_ADMIN, SYS_ADMIN$/],
    ["procMount", (d) => (podSpec(d).initContainers[0].securityContext.procMount = "Unmasked"), /init container "init" sets procMount Unmasked/],
    ["SELinux type", (d) => (podSpec(d).securityContext.seLinuxOptions = { type: "spc_t" }), /pod seLinuxOptions.type spc_t is not allowed/],
    ["SELinux user", (d) => (app(d).securityContext.seLinuxOptions = { user: "system_u" }), /container "app" must not set seLinuxOptions.user/],
    ["AppArmor profile", (d) => (app(d).securityContext.appArmorProfile = { type: "Unconfined" }), /container "app" sets appArmorProfile.type Unconfined/],
    ["AppArmor annotation", (d) => (d.spec.template.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/app": "unconfined" }), /AppArmor must be runtime\/default or localhost/],
    ["seccomp Unconfined", (d) => (podSpec(d).securityContext.seccompProfile = { type: "Unconfined" }), /pod sets seccompProfile.type Unconfined/],
    ["unsafe sysctls", (d) => (podSpec(d).securityContext.sysctls = [{ name: "net.ipv4.tcp_syncookies", value: "1" }, { name: "kernel.msgmax", value: "1" }]), /^baseline: sysctl kernel.msgmax is not in the safe set$/],
    ["hostProcess", (d) => (podSpec(d).securityContext.windowsOptions = { hostProcess: true }), /hostProcess must not be true/],
  ];
  for (const [name, edit, message] of failing) {
    it(`fails ${name}`, () => {
      const v = baselineViolations(changed(edit));
      expect(v).to.have.length(1);
      expect(v[0]).to.match(message);
    });
  }

  it("allows what baseline allows: baseline capabilities, safe sysctls, container_t, runtime/default AppArmor, hostPort 0", () => {
    const d = changed((x) => {
      app(x).securityContext.capabilities.add = ["NET_BIND_SERVICE", "CHOWN"];
      podSpec(x).securityContext.sysctls = [{ name: "net.ipv4.ip_unprivileged_port_start", value: "0" }];
      podSpec(x).securityContext.seLinuxOptions = { type: "container_t", level: "s0:c1" };
      x.spec.template.metadata.annotations = { "container.apparmor.security.beta.kubernetes.io/app": "runtime/default" };
      app(x).ports[0].hostPort = 0;
    });
    expect(baselineViolations(d)).to.deep.equal([]);
  });

  it("reads the pod template of every workload kind: Pod, StatefulSet, Job, CronJob", () => {
    const spec = () => changed((x) => (podSpec(x).hostNetwork = true)).spec.template;
    const kinds: Obj[] = [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: spec().spec },
      { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s" }, spec: { template: spec() } },
      { apiVersion: "batch/v1", kind: "Job", metadata: { name: "j" }, spec: { template: spec() } },
      { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "c" }, spec: { schedule: "@daily", jobTemplate: { spec: { template: spec() } } } },
    ];
    for (const o of kinds) expect(baselineViolations(o), o.kind).to.deep.equal(["baseline: host namespaces: hostNetwork must not be true"]);
  });
});

describe("policy pod-security-restricted", () => {
  it("passes a workload that meets restricted", () => {
    expect(restrictedViolations(deployment())).to.deep.equal([]);
  });

  const failing: [string, (d: Obj) => void, RegExp][] = [
    ["allowPrivilegeEscalation unset", (d) => delete podSpec(d).initContainers[0].securityContext.allowPrivilegeEscalation, /init container "init" must set securityContext.allowPrivilegeEscalation=false/],
    ["runAsNonRoot unset", (d) => delete podSpec(d).securityContext.runAsNonRoot, /container "(app|init)" must run with runAsNonRoot=true/],
    ["runAsNonRoot=false on a container", (d) => (app(d).securityContext.runAsNonRoot = false), /container "app" must run with runAsNonRoot=true/],
    ["runAsUser 0", (d) => (app(d).securityContext.runAsUser = 0), /container "app" securityContext.runAsUser must not be 0/],
    ["no seccomp profile", (d) => delete podSpec(d).securityContext.seccompProfile, /container "(app|init)" must run with seccompProfile.type RuntimeDefault or Localhost/],
    ["capabilities not dropped", (d) => (app(d).securityContext.capabilities.drop = ["NET_RAW"]), /container "app" must drop ALL capabilities/],
    ["a capability added besides NET_BIND_SERVICE", (d) => (app(d).securityContext.capabilities.add = ["CHOWN"]), /may add only NET_BIND_SERVICE, adds CHOWN/],
    ["a volume type outside the restricted list", (d) => podSpec(d).volumes.push({ name: "nfs", nfs: { server: "x", path: "/" } }), /volume "nfs" has type nfs/],
  ];
  for (const [name, edit, message] of failing) {
    it(`fails ${name}`, () => {
      const v = restrictedViolations(changed(edit));
      expect(v.length, v.join("\n")).to.be.greaterThan(0);
      expect(v.every((m) => message.test(m)), v.join("\n")).to.equal(true);
    });
  }

  it("accepts seccomp and runAsNonRoot set per container instead of on the pod", () => {
    const d = changed((x) => {
      delete podSpec(x).securityContext.seccompProfile;
      delete podSpec(x).securityContext.runAsNonRoot;
      for (const c of [...podSpec(x).initContainers, ...podSpec(x).containers]) Object.assign(c.securityContext, { runAsNonRoot: true, seccompProfile: { type: "Localhost", localhostProfile: "p.json" } });
    });
    expect(restrictedViolations(d)).to.deep.equal([]);
  });

  /** Root, capabilities kept: the shape of the documented exceptions. */
  const rootWithCapabilities = (d: Obj) => {
    delete podSpec(d).securityContext.runAsNonRoot;
    delete podSpec(d).securityContext.runAsUser;
    for (const c of [...podSpec(d).initContainers, ...podSpec(d).containers]) delete c.securityContext.capabilities;
    return d;
  };

  it("exempts stock Synapse (synapse-{c} in mindroom-instances) from runAsNonRoot and drop ALL only", () => {
    const synapse = rootWithCapabilities(deployment({ name: "synapse-42", labels: { app: "synapse", customer: "42" } }));
    expect(restrictedViolations(synapse)).to.deep.equal([]);
    app(synapse).securityContext.allowPrivilegeEscalation = true;
    expect(restrictedViolations(synapse)).to.deep.equal(['restricted: container "app" must set securityContext.allowPrivilegeEscalation=false']);
    // The same shape under another name, in another namespace or with other labels is not exempt.
    for (const other of [
      deployment({ name: "mindroom-42" }),
      deployment({ name: "synapse-42", namespace: "default", labels: { app: "synapse", customer: "42" } }),
      deployment({ name: "synapse-42", labels: { app: "mindroom", customer: "42" } }),
    ]) {
      expect(restrictedViolations(rootWithCapabilities(other)), `${other.metadata?.namespace}/${other.metadata?.name}`).to.include('restricted: container "app" must drop ALL capabilities');
    }
  });

  it("exempts platform-backend in mindroom-{env} from runAsNonRoot only (it still drops ALL)", () => {
    const backend = rootWithCapabilities(deployment({ name: "platform-backend", namespace: "mindroom-production", labels: { app: "platform-backend" } }));
    expect(restrictedViolations(backend)).to.deep.equal([
      'restricted: init container "init" must drop ALL capabilities',
      'restricted: container "app" must drop ALL capabilities',
    ]);
    for (const c of [...podSpec(backend).initContainers, ...podSpec(backend).containers]) c.securityContext.capabilities = { drop: ["ALL"] };
    expect(restrictedViolations(backend)).to.deep.equal([]);
  });

  it("exempts the runtime's event-cache PostgreSQL StatefulSet from runAsNonRoot and drop ALL only", () => {
    const labels = { "app.kubernetes.io/component": "event-cache-postgres" };
    const d = rootWithCapabilities(deployment({ labels }));
    const sts = { ...d, kind: "StatefulSet", metadata: { name: "rt-mindroom-runtime-event-cache-postgres", namespace: "mindroom" } };
    expect(restrictedViolations(sts)).to.deep.equal([]);
    expect(restrictedViolations({ ...sts, kind: "Deployment" })).to.not.deep.equal([]);
  });
  it("exempts only the init container prepare-state-storage of a runtime Deployment (root, capabilities kept); the runtime's own containers stay checked", () => {
    const runtime = (initName: string) => {
      const d = deployment({ name: "mindroom-runtime", namespace: "mindroom", labels: { "app.kubernetes.io/component": "runtime" } });
      podSpec(d).initContainers[0] = { name: initName, image: "busybox", securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false } };
      return d;
    };
    expect(restrictedViolations(runtime("prepare-state-storage"))).to.deep.equal([]);
    expect(restrictedViolations(runtime("other-init"))).to.include('restricted: init container "other-init" securityContext.runAsUser must not be 0');
    const rootApp = runtime("prepare-state-storage");
    app(rootApp).securityContext.runAsUser = 0;
    expect(restrictedViolations(rootApp)).to.deep.equal(['restricted: container "app" securityContext.runAsUser must not be 0']);
    const elsewhere = runtime("prepare-state-storage");
    elsewhere.spec.template.metadata.labels = { app: "web" };
    expect(restrictedViolations(elsewhere), "another workload with an init container of that name").to.not.deep.equal([]);
  });

  it("exempts Agent Vault's server and Jobs from what upstream does not set (runAsNonRoot, seccomp; bootstrap also escalation and drop ALL), by their component label", () => {
    const bare = (kind: string, component: string) => {
      const d = deployment({ name: "agent-vault", namespace: "mindroom", labels: { "app.kubernetes.io/component": component } });
      podSpec(d).securityContext = {};
      return { ...d, kind };
    };
    expect(restrictedViolations(bare("Deployment", "agent-vault"))).to.deep.equal([]);
    expect(restrictedViolations(bare("Job", "agent-vault-access-grants"))).to.deep.equal([]);
    const bootstrap = bare("Job", "agent-vault-bootstrap");
    for (const c of [...podSpec(bootstrap).initContainers, ...podSpec(bootstrap).containers]) c.securityContext = {};
    expect(restrictedViolations(bootstrap)).to.deep.equal([]);
    const grantsLikeBootstrap = bare("Job", "agent-vault-access-grants");
    app(grantsLikeBootstrap).securityContext = {};
    expect(restrictedViolations(grantsLikeBootstrap)).to.deep.equal([
      'restricted: container "app" must set securityContext.allowPrivilegeEscalation=false',
      'restricted: container "app" must drop ALL capabilities',
    ]);
    expect(restrictedViolations(bare("Deployment", "approved-egress-proxy")), "the egress proxy meets restricted: no exception").to.not.deep.equal([]);
  });
});
