import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { agentUserData } from "../../../components/cluster/cloud-init";
import { testPki } from "../../fixtures/cluster/mocks";

type Doc = { write_files: { path: string; content: string }[] };
const userDataFile = (path: string) =>
  (parse(agentUserData({ k3sVersion: "v1.31.4+k3s1", installerSha256: "0".repeat(64), nodeIp: "10.0.0.101", labels: {}, taints: [], agentToken: "a".repeat(48), serverCaCert: testPki().serverCaCert })) as Doc).write_files.find((f) => f.path === path)!.content;

const PATH = `${process.env.PATH ?? ""}:/usr/sbin:/sbin`;

function requireTool(cmd: string, args: string[], fix: string): void {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, PATH } });
  if (r.error || r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.error?.message ?? r.stderr.trim()}); ${fix}`);
}

/**
 * A node in miniature, inside throwaway network and mount namespaces: the "pod" namespace sits
 * on a veth in 10.42.0.0/16 with the node as its gateway, and 169.254.169.254 is bound on the
 * node's loopback, where an HTTP server stands in for the metadata service. The guard script
 * from the user-data runs twice; each probe prints the HTTP status or `blocked`.
 */
function nodeScript(dir: string, guardScript: string): string {
  const node = JSON.stringify(process.execPath);
  writeFileSync(join(dir, "server.js"), `require("http").createServer((_q, r) => r.end("user-data")).listen(80, "0.0.0.0");\n`);
  writeFileSync(
    join(dir, "probe.js"),
    `require("http").get({ host: process.argv[2], port: 80, agent: false, timeout: 1500 }, (r) => { console.log(r.statusCode); process.exit(0); })
  .on("timeout", () => { console.log("blocked"); process.exit(0); })
  .on("error", (e) => { console.log(e.code); process.exit(0); });\n`,
  );
  return `set -eu
mount -t tmpfs tmpfs /run
ip link set lo up
ip addr add 169.254.169.254/32 dev lo
ip netns add pod
ip link add host0 type veth peer name pod0
ip link set pod0 netns pod
ip addr add 10.42.0.1/24 dev host0
ip link set host0 up
ip netns exec pod sh -c 'ip link set lo up && ip addr add 10.42.0.5/24 dev pod0 && ip link set pod0 up && ip route add default via 10.42.0.1'
${node} ${dir}/server.js & SERVER=$!
trap 'kill $SERVER' EXIT
host() { ${node} ${dir}/probe.js "$1"; }
pod() { ip netns exec pod ${node} ${dir}/probe.js "$1"; }
for _ in $(seq 1 50); do [ "$(host 127.0.0.1)" = 200 ] && break; sleep 0.1; done
echo "before pod=$(pod 169.254.169.254) host=$(host 169.254.169.254)"
sh ${guardScript}
sh ${guardScript}
echo "rules=$(iptables -t raw -S PREROUTING | grep -c mindroom-metadata-guard)"
echo "after pod=$(pod 169.254.169.254) host=$(host 169.254.169.254) pod-to-node=$(pod 10.42.0.1)"
`;
}

describe("metadata guard on a simulated node (network namespaces)", () => {
  it("blocks pod-network traffic to 169.254.169.254, keeps the node's own access, and is idempotent", function () {
    this.timeout(60_000);
    requireTool("iptables", ["--version"], "install it: apt-get install -y iptables");
    requireTool("ip", ["-V"], "install it: apt-get install -y iproute2");
    requireTool("unshare", ["-n", "-m", "true"], "run the tests as root (network namespaces need CAP_SYS_ADMIN and CAP_NET_ADMIN)");

    const dir = mkdtempSync(join(tmpdir(), "metadata-guard-"));
    const guard = join(dir, "guard.sh");
    writeFileSync(guard, userDataFile("/usr/local/bin/mindroom-metadata-guard.sh"));
    const r = spawnSync("unshare", ["-n", "-m", "--propagation", "private", "sh", "-c", nodeScript(dir, guard)], { encoding: "utf8", env: { ...process.env, PATH }, timeout: 50_000 });
    const out = `${r.stdout}${r.stderr}`;
    expect(r.status, out).to.equal(0);
    // Without the guard a pod reads the metadata service, as on today's nodes.
    expect(out).to.contain("before pod=200 host=200");
    // Run twice, inserted once.
    expect(out).to.contain("rules=1");
    // Pods are cut off; the node (and so hostNetwork pods) keeps access; other pod traffic flows.
    expect(out).to.contain("after pod=blocked host=200 pod-to-node=200");
  });

  it("the unit passes systemd-analyze verify (which flags a broken unit)", function () {
    this.timeout(30_000);
    requireTool("systemd-analyze", ["--version"], "install it: apt-get install -y systemd");
    const dir = mkdtempSync(join(tmpdir(), "metadata-guard-unit-"));
    const script = join(dir, "guard.sh");
    writeFileSync(script, userDataFile("/usr/local/bin/mindroom-metadata-guard.sh"), { mode: 0o700 });
    // verify checks that ExecStart exists, so point it at a copy of the script.
    const unit = userDataFile("/etc/systemd/system/mindroom-metadata-guard.service").replace("ExecStart=/usr/local/bin/mindroom-metadata-guard.sh", `ExecStart=${script}`);
    const verify = (text: string) => {
      const path = join(dir, "mindroom-metadata-guard.service");
      writeFileSync(path, text);
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", path], { encoding: "utf8" });
      return `${r.status}:${r.stdout}${r.stderr}`.trim();
    };
    expect(unit).to.contain(`ExecStart=${script}`);
    expect(verify(unit)).to.equal("0:");
    expect(verify(unit.replace("Type=oneshot", "Type=oneshoot"))).to.contain("Failed to parse service type");
  });
});
