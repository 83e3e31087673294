import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { DEFAULT_K3S_VERSION } from "../../../components/cluster/args";
import { agentUserData, k3sInstallerUrl, serverUserData } from "../../../components/cluster/cloud-init";
import { KUBELET_SYSCTLS, PSA_EXEMPT_NAMESPACES } from "../../../components/cluster/hardening";
import { POD_SECURITY_VERSION } from "../../../infra/pod-security";
import { testPki } from "../../fixtures/cluster/mocks";

const TOKEN = "s".repeat(48);
const AGENT_TOKEN = "a".repeat(48);
/** What the stand-in curl below downloads as the installer, and the checksum the user-data pins. */
const STAND_IN_INSTALLER = "# k3s installer\n";
const INSTALLER_SHA256 = createHash("sha256").update(STAND_IN_INSTALLER).digest("hex");

function server(): string {
  const pki = testPki();
  return serverUserData({
    k3sVersion: DEFAULT_K3S_VERSION,
    installerSha256: INSTALLER_SHA256,
    nodeIp: "10.255.0.101",
    labels: { "mindroom.chat/role": "control-plane" },
    taints: [],
    token: TOKEN,
    agentToken: AGENT_TOKEN,
    tlsSans: ["198.51.100.7", "k8s.example.org", "10.255.0.101"],
    pki: { serverCaCert: pki.serverCaCert, serverCaKey: pki.serverCaKey, clientCaCert: pki.clientCaCert, clientCaKey: pki.clientCaKey },
  });
}

function agent(sha256 = INSTALLER_SHA256): string {
  return agentUserData({ k3sVersion: DEFAULT_K3S_VERSION, installerSha256: sha256, nodeIp: "10.0.0.101", labels: {}, taints: ["dedicated=tenants:NoSchedule"], agentToken: AGENT_TOKEN, serverCaCert: testPki().serverCaCert });
}

type Doc = { write_files: { path: string; content: string; permissions: string }[]; runcmd: string[][] };
const file = (doc: Doc, path: string) => doc.write_files.find((f) => f.path === path)!;
const k3sConfig = (text: string) => parse(file(parse(text) as Doc, "/etc/rancher/k3s/config.yaml").content) as Record<string, unknown>;

function cloudInitSchema(text: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), "userdata-"));
  const path = join(dir, "user-data.yaml");
  writeFileSync(path, text);
  // cloud-init 22.4 exits 0 with --annotate even on errors: take the status from a plain run and
  // the annotated text only for the failure message.
  const result = spawnSync("cloud-init", ["schema", "-c", path], { encoding: "utf8" });
  if (result.error) throw new Error(`cloud-init not found (${result.error.message}); install it: apt-get install -y cloud-init`);
  const annotated = result.status === 0 ? "" : spawnSync("cloud-init", ["schema", "-c", path, "--annotate"], { encoding: "utf8" }).stdout;
  return { status: result.status, output: `${result.stdout}${result.stderr}${annotated}` };
}

describe("k3s cloud-init user-data", () => {
  it("server user-data passes Debian's cloud-init schema validation", function () {
    this.timeout(60_000);
    const { status, output } = cloudInitSchema(server());
    expect(status, output).to.equal(0);
    expect(output).to.match(/Valid cloud-config/i);
  });

  it("agent user-data passes Debian's cloud-init schema validation", function () {
    this.timeout(60_000);
    const { status, output } = cloudInitSchema(agent());
    expect(status, output).to.equal(0);
  });

  it("the schema check fails on broken user-data (the check can fail)", function () {
    this.timeout(60_000);
    const { status } = cloudInitSchema("#cloud-config\nwrite_files: 7\nruncmd: {}\n");
    expect(status).not.to.equal(0);
  });

  it("fits Hetzner's 32 KiB user-data limit with room to spare", () => {
    // The API rejects larger user-data at server creation, i.e. in the middle of an `up`.
    expect(Buffer.byteLength(server(), "utf8")).to.be.below(16 * 1024);
    expect(Buffer.byteLength(agent(), "utf8")).to.be.below(16 * 1024);
  });

  it("installs the pinned k3s version, never a channel", () => {
    for (const text of [server(), agent()]) {
      const script = file(parse(text) as Doc, "/usr/local/bin/mindroom-k3s-install.sh").content;
      expect(script).to.contain(`INSTALL_K3S_VERSION='${DEFAULT_K3S_VERSION}'`);
      expect(script).not.to.contain("INSTALL_K3S_CHANNEL");
    }
    expect(DEFAULT_K3S_VERSION).to.match(/^v1\.31\.\d+\+k3s\d+$/);
  });

  it("server config carries the flags the Hetzner CCM needs (cluster.md §6.1)", () => {
    const c = k3sConfig(server());
    expect(c["disable-cloud-controller"]).to.equal(true);
    expect(c["kubelet-arg"]).to.include("cloud-provider=external");
    expect(c["node-ip"]).to.equal("10.255.0.101");
    expect(c["advertise-address"]).to.equal("10.255.0.101");
    expect(c["tls-san"]).to.deep.equal(["198.51.100.7", "k8s.example.org", "10.255.0.101"]);
    expect(c.disable).to.have.members(["traefik", "servicelb", "local-storage", "metrics-server"]);
    expect(c).to.include({ "cluster-cidr": "10.42.0.0/16", "service-cidr": "10.43.0.0/16", "cluster-dns": "10.43.0.10", token: TOKEN, "agent-token": AGENT_TOKEN });
  });

  describe("k3s hardening (docs/cluster.md)", () => {
    type Psa = { apiVersion: string; kind: string; plugins: { name: string; configuration: { apiVersion: string; kind: string; defaults: Record<string, string>; exemptions: Record<string, string[]> } }[] };
    type Audit = { apiVersion: string; kind: string; omitStages: string[]; rules: { level: string; verbs?: string[]; nonResourceURLs?: string[]; resources?: { group: string; resources: string[] }[] }[] };
    const apiArgs = () => Object.fromEntries((k3sConfig(server())["kube-apiserver-arg"] as string[]).map((a) => [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)]));

    it("server: secrets encrypted at rest, kernel defaults protected, and the API server's admission, audit and plugin flags", () => {
      const c = k3sConfig(server());
      expect(c).to.include({ "secrets-encryption": true, "protect-kernel-defaults": true });
      expect(c["kube-apiserver-arg"]).to.deep.equal([
        // k3s's own value is NodeRestriction, and ours replaces it: both must be listed.
        "enable-admission-plugins=NodeRestriction,DenyServiceExternalIPs",
        "admission-control-config-file=/var/lib/rancher/k3s/server/psa.yaml",
        "audit-policy-file=/var/lib/rancher/k3s/server/audit.yaml",
        "audit-log-path=/var/lib/rancher/k3s/server/logs/audit.log",
        "audit-log-maxage=30",
        "audit-log-maxbackup=10",
        "audit-log-maxsize=100",
      ]);
    });

    it("agents protect kernel defaults too (every kubelet), and hold no API server file", () => {
      const doc = parse(agent()) as Doc;
      expect(k3sConfig(agent())).to.include({ "protect-kernel-defaults": true });
      expect(k3sConfig(agent())).not.to.have.property("kube-apiserver-arg");
      expect(doc.write_files.map((f) => f.path)).not.to.include.members(["/var/lib/rancher/k3s/server/psa.yaml"]);
    });

    for (const [role, text] of [["server", server], ["agent", agent]] as const) {
      it(`${role}: writes the sysctls protect-kernel-defaults checks and applies them before the k3s install`, () => {
        const doc = parse(text()) as Doc;
        const conf = file(doc, "/etc/sysctl.d/90-kubelet.conf");
        expect(conf.permissions).to.equal("0644");
        const values = Object.fromEntries(conf.content.split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split("=")));
        // k3s's CIS hardening guide lists these four; the kubelet also checks the root key quotas (kernel defaults).
        expect(values).to.include({ "vm.panic_on_oom": "0", "vm.overcommit_memory": "1", "kernel.panic": "10", "kernel.panic_on_oops": "1" });
        expect(values).to.deep.equal(Object.fromEntries(Object.entries(KUBELET_SYSCTLS).map(([k, v]) => [k, String(v)])));
        expect(values).to.include({ "kernel.keys.root_maxkeys": "1000000", "kernel.keys.root_maxbytes": "25000000" });
        const sysctl = doc.runcmd.findIndex((c) => c.join(" ") === "sysctl -p /etc/sysctl.d/90-kubelet.conf");
        expect(sysctl).to.be.within(0, doc.runcmd.findIndex((c) => c[0] === "/usr/local/bin/mindroom-k3s-install.sh") - 1);
      });
    }

    it("the admission config: PodSecurity enforces baseline at the cluster's minor, warns and audits restricted, exempts only kube-system and ingress-nginx", () => {
      const doc = parse(server()) as Doc;
      const f = file(doc, apiArgs()["admission-control-config-file"]);
      expect(f.permissions).to.equal("0600");
      const psa = parse(f.content) as Psa;
      expect(psa).to.include({ apiVersion: "apiserver.config.k8s.io/v1", kind: "AdmissionConfiguration" });
      expect(psa.plugins.map((p) => p.name)).to.deep.equal(["PodSecurity"]);
      const cfg = psa.plugins[0].configuration;
      expect(cfg).to.include({ apiVersion: "pod-security.admission.config.k8s.io/v1", kind: "PodSecurityConfiguration" });
      expect(cfg.defaults).to.deep.equal({ enforce: "baseline", "enforce-version": "v1.31", audit: "restricted", "audit-version": "latest", warn: "restricted", "warn-version": "latest" });
      expect(cfg.exemptions).to.deep.equal({ usernames: [], runtimeClasses: [], namespaces: ["kube-system", "ingress-nginx"] });
      expect(PSA_EXEMPT_NAMESPACES).to.deep.equal(["kube-system", "ingress-nginx"]);
    });

    it("the Pod Security version is the minor of the k3s release the cluster installs", () => {
      const [, minor] = /^(v\d+\.\d+)\./.exec(DEFAULT_K3S_VERSION)!;
      expect(POD_SECURITY_VERSION).to.equal(minor);
    });

    it("the audit policy: a Policy of audit.k8s.io/v1, credentials never with a body, writes with their request, reads as metadata", () => {
      const doc = parse(server()) as Doc;
      const f = file(doc, apiArgs()["audit-policy-file"]);
      expect(f.permissions).to.equal("0600");
      const policy = parse(f.content) as Audit;
      expect(policy).to.include({ apiVersion: "audit.k8s.io/v1", kind: "Policy" });
      expect(policy.omitStages).to.deep.equal(["RequestReceived"]);
      // First match wins: the rule naming Secrets must come before any rule that logs bodies.
      const secretsRule = policy.rules.findIndex((r) => r.resources?.some((g) => g.group === "" && g.resources.includes("secrets")));
      const bodies = policy.rules.findIndex((r) => r.level === "Request" || r.level === "RequestResponse");
      expect(policy.rules[secretsRule].level).to.equal("Metadata");
      expect(secretsRule).to.be.below(bodies);
      expect(policy.rules[secretsRule].resources).to.deep.include({ group: "authentication.k8s.io", resources: ["tokenreviews"] });
      expect(policy.rules[bodies]).to.deep.equal({ level: "Request", verbs: ["create", "update", "patch", "delete", "deletecollection"] });
      expect(policy.rules[policy.rules.length - 1]).to.deep.equal({ level: "Metadata" });
      expect(policy.rules.some((r) => r.level === "RequestResponse")).to.equal(false);
    });
  });

  it("sets flannel-iface to the NIC that holds the private IP, found at boot", () => {
    const script = file(parse(server()) as Doc, "/usr/local/bin/mindroom-k3s-install.sh").content;
    expect(script).to.contain("NODE_IP='10.255.0.101'");
    expect(script).to.contain("flannel-iface: %s");
    expect(script).to.contain("config.yaml.d/10-flannel-iface.yaml");
    const r = spawnSync("sh", ["-n"], { input: script, encoding: "utf8" });
    expect(r.status, r.stderr).to.equal(0);
  });

  it("places the generated CAs where k3s keeps existing ones, keys readable by root only", () => {
    const doc = parse(server()) as Doc;
    for (const name of ["server-ca", "client-ca"]) {
      expect(file(doc, `/var/lib/rancher/k3s/server/tls/${name}.crt`).content).to.contain("BEGIN CERTIFICATE");
      expect(file(doc, `/var/lib/rancher/k3s/server/tls/${name}.key`).permissions).to.equal("0600");
    }
    expect(file(doc, "/etc/rancher/k3s/config.yaml").permissions).to.equal("0600");
  });

  describe("metadata guard", () => {
    const GUARD_RULE = "-s 10.42.0.0/16 -d 169.254.169.254/32 -m comment --comment mindroom-metadata-guard -j DROP";
    const roles = [
      { role: "server", text: server, k3sUnit: "k3s.service" },
      { role: "agent", text: agent, k3sUnit: "k3s-agent.service" },
    ];

    for (const { role, text, k3sUnit } of roles) {
      it(`${role}: enables and starts the guard unit from runcmd before the k3s install`, () => {
        const doc = parse(text()) as Doc;
        expect(doc.runcmd).to.deep.equal([
          ["systemctl", "daemon-reload"],
          ["sysctl", "-p", "/etc/sysctl.d/90-kubelet.conf"],
          ["systemctl", "enable", "--now", "mindroom-metadata-guard.service"],
          ["/usr/local/bin/mindroom-k3s-install.sh"],
        ]);
        const unit = file(doc, "/etc/systemd/system/mindroom-metadata-guard.service");
        expect(unit.permissions).to.equal("0644");
        expect(unit.content.split("\n")).to.include.members([
          "Before=k3s.service k3s-agent.service",
          "Type=oneshot",
          "RemainAfterExit=yes",
          "ExecStart=/usr/local/bin/mindroom-metadata-guard.sh",
          "WantedBy=multi-user.target",
        ]);
      });

      it(`${role}: the guard drops pod-CIDR traffic to 169.254.169.254 in raw PREROUTING (check before insert)`, () => {
        const script = file(parse(text()) as Doc, "/usr/local/bin/mindroom-metadata-guard.sh");
        expect(script.permissions).to.equal("0700");
        expect(script.content).to.contain(`RULE='${GUARD_RULE}'`);
        expect(script.content).to.contain("iptables -t raw -C PREROUTING $RULE 2>/dev/null || iptables -t raw -I PREROUTING $RULE");
        expect(script.content).to.match(/^set -eu$/m);
        const r = spawnSync("sh", ["-n"], { input: script.content, encoding: "utf8" });
        expect(r.status, r.stderr).to.equal(0);
      });

      it(`${role}: k3s requires the guard, so no pod starts on a node whose guard failed`, () => {
        const dropIn = file(parse(text()) as Doc, `/etc/systemd/system/${k3sUnit}.d/10-metadata-guard.conf`);
        expect(dropIn.content.split("\n")).to.include.members(["[Unit]", "Requires=mindroom-metadata-guard.service", "After=mindroom-metadata-guard.service"]);
      });
    }

    it("the blocked source range is the pod CIDR k3s is configured with", () => {
      expect(GUARD_RULE).to.contain(`-s ${String(k3sConfig(server())["cluster-cidr"])} `);
    });
  });

  it("agents join the fixed control-plane address with the agent token and hold no server secret", () => {
    const text = agent();
    const c = k3sConfig(text);
    expect(c).to.include({ server: "https://10.255.0.101:6443", "node-ip": "10.0.0.101" });
    expect(String(c.token)).to.match(new RegExp(`^K10[0-9a-f]{64}::node:${AGENT_TOKEN}$`));
    expect(c["kubelet-arg"]).to.include("cloud-provider=external");
    expect(c["node-taint"]).to.deep.equal(["dedicated=tenants:NoSchedule"]);
    expect(text).not.to.contain(TOKEN);
    expect(text).not.to.contain("PRIVATE KEY");
    expect(file(parse(text) as Doc, "/usr/local/bin/mindroom-k3s-install.sh").content).to.contain("INSTALL_K3S_EXEC='agent'");
  });

  it("agents check the server CA when they join: the token carries the SHA-256 of server-ca.crt (k3s's K10<hash>::node:<token>)", () => {
    // k3s hashes the literal bytes /cacerts serves, i.e. the server-ca.crt file (clientaccess/token.go).
    const serverCa = file(parse(server()) as Doc, "/var/lib/rancher/k3s/server/tls/server-ca.crt").content;
    const hash = createHash("sha256").update(serverCa).digest("hex");
    expect(k3sConfig(agent()).token).to.equal(`K10${hash}::node:${AGENT_TOKEN}`);
  });

  describe("install script, run against stand-ins for ip, curl, sh and sleep", () => {
    /** Runs the role's install script with `curl` failing `curlFailures` times and the installer `installerFailures` times. */
    function runInstall(text: string, curlFailures: number, installerFailures: number) {
      const dir = mkdtempSync(join(tmpdir(), "k3s-install-"));
      const bin = join(dir, "bin");
      mkdirSync(bin);
      const log = join(dir, "log");
      const tool = (name: string, body: string) => {
        writeFileSync(join(bin, name), `#!/bin/sh\n${body}\n`);
        chmodSync(join(bin, name), 0o755);
      };
      tool("ip", "printf '1: lo    inet 127.0.0.1/8 scope host lo\\n2: eth0    inet 198.51.100.7/32 scope global eth0\\n3: enp7s0    inet 10.0.0.101/32 brd 10.0.0.101 scope global enp7s0\\n4: ens10    inet 10.255.0.101/32 brd 10.255.0.101 scope global ens10\\n'");
      tool("sleep", "exit 0");
      // A failing download prints nothing, as `curl -f` does.
      tool("curl", [
        `n=$(cat "${dir}/curl-count" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/curl-count"`,
        `echo "curl $*" >> "${log}"`,
        `[ "$n" -ge ${curlFailures} ] || exit 22`,
        'out=""; prev=""; for a in "$@"; do [ "$prev" = "-o" ] && out="$a"; prev="$a"; done',
        'if [ -n "$out" ]; then echo "# k3s installer" > "$out"; else echo "# k3s installer"; fi',
      ].join("\n"));
      tool("sh", [
        `n=$(cat "${dir}/sh-count" 2>/dev/null || echo 0); echo $((n + 1)) > "${dir}/sh-count"`,
        `echo "installer $* VERSION=$INSTALL_K3S_VERSION EXEC=$INSTALL_K3S_EXEC" >> "${log}"`,
        `[ "$n" -ge ${installerFailures} ]`,
      ].join("\n"));
      const script = file(parse(text) as Doc, "/usr/local/bin/mindroom-k3s-install.sh").content.replaceAll("/etc/rancher/k3s", join(dir, "etc"));
      writeFileSync(join(dir, "install.sh"), script);
      const r = spawnSync("/bin/sh", [join(dir, "install.sh")], { encoding: "utf8", env: { PATH: `${bin}:/usr/bin:/bin` }, timeout: 30_000 });
      const lines = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n") : [];
      const dropIn = join(dir, "etc", "config.yaml.d", "10-flannel-iface.yaml");
      return { status: r.status, stderr: r.stderr, installs: lines.filter((l) => l.startsWith("installer ")), curls: lines.filter((l) => l.startsWith("curl ")), flannel: existsSync(dropIn) ? readFileSync(dropIn, "utf8") : undefined };
    }

    it("installs k3s as the role says, with flannel on the NIC that holds the private IP", () => {
      const run = runInstall(agent(), 0, 0);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.flannel).to.equal("flannel-iface: enp7s0\n");
      expect(run.installs).to.have.length(1);
      expect(run.installs[0]).to.contain(`VERSION=${DEFAULT_K3S_VERSION} EXEC=agent`);
    });

    it("downloads the installer from the k3s release's own tag, never get.k3s.io", () => {
      const run = runInstall(server(), 0, 0);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.curls).to.have.length(1);
      expect(run.curls[0]).to.contain(" https://raw.githubusercontent.com/k3s-io/k3s/v1.31.13%2Bk3s1/install.sh");
      expect(run.curls[0]).not.to.contain("get.k3s.io");
      expect(k3sInstallerUrl("v1.32.1+k3s2")).to.equal("https://raw.githubusercontent.com/k3s-io/k3s/v1.32.1%2Bk3s2/install.sh");
    });

    it("never runs an installer whose SHA-256 is not the pinned one, and says which it got", () => {
      const other = createHash("sha256").update("# another installer\n").digest("hex");
      const run = runInstall(agent(other), 0, 0);
      expect(run.status).not.to.equal(0);
      expect(run.installs).to.deep.equal([]);
      expect(run.stderr).to.contain(`has sha256 ${INSTALLER_SHA256}, expected ${other} (cluster.k3sInstallerSha256); not running it`);
    });

    it("fails (so cloud-init reports it) when the installer cannot be downloaded, instead of running an empty script", () => {
      const run = runInstall(server(), 1000, 0);
      expect(run.status).not.to.equal(0);
      expect(run.installs).to.deep.equal([]);
    });

    it("retries the installer, whose own k3s download does not retry", () => {
      const run = runInstall(server(), 0, 2);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.flannel).to.equal("flannel-iface: ens10\n");
      expect(run.installs).to.have.length(3);
      for (const line of run.installs) expect(line).to.contain(`VERSION=${DEFAULT_K3S_VERSION} EXEC=server`);
    });

    it("gives up after a bounded number of installer failures", () => {
      const run = runInstall(server(), 0, 1000);
      expect(run.status).not.to.equal(0);
      expect(run.installs.length).to.be.within(2, 10);
    });
  });
});
