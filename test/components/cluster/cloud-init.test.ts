import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { DEFAULT_K3S_VERSION } from "../../../components/cluster/args";
import { agentUserData, serverUserData } from "../../../components/cluster/cloud-init";
import { testPki } from "../../fixtures/cluster/mocks";

const TOKEN = "s".repeat(48);
const AGENT_TOKEN = "a".repeat(48);

function server(): string {
  const pki = testPki();
  return serverUserData({
    k3sVersion: DEFAULT_K3S_VERSION,
    nodeIp: "10.255.0.101",
    labels: { "mindroom.chat/role": "control-plane" },
    taints: [],
    token: TOKEN,
    agentToken: AGENT_TOKEN,
    tlsSans: ["198.51.100.7", "k8s.example.org", "10.255.0.101"],
    pki: { serverCaCert: pki.serverCaCert, serverCaKey: pki.serverCaKey, clientCaCert: pki.clientCaCert, clientCaKey: pki.clientCaKey },
  });
}

function agent(): string {
  return agentUserData({ k3sVersion: DEFAULT_K3S_VERSION, nodeIp: "10.0.0.101", labels: {}, taints: ["dedicated=tenants:NoSchedule"], agentToken: AGENT_TOKEN, serverCaCert: testPki().serverCaCert });
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
      return { status: r.status, stderr: r.stderr, installs: lines.filter((l) => l.startsWith("installer ")), flannel: existsSync(dropIn) ? readFileSync(dropIn, "utf8") : undefined };
    }

    it("installs k3s as the role says, with flannel on the NIC that holds the private IP", () => {
      const run = runInstall(agent(), 0, 0);
      expect(run.status, run.stderr).to.equal(0);
      expect(run.flannel).to.equal("flannel-iface: enp7s0\n");
      expect(run.installs).to.have.length(1);
      expect(run.installs[0]).to.contain(`VERSION=${DEFAULT_K3S_VERSION} EXEC=agent`);
    });

    it("fails (so cloud-init reports it) when get.k3s.io cannot be downloaded, instead of running an empty script", () => {
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
