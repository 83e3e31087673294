/**
 * `npm run local:up|ports|down` (tools/local/cli.ts) as a child process, with PATH holding only
 * fake kind/k3d/kubectl/docker/pulumi executables: the one-line errors and exit code 2 for each
 * missing prerequisite, the tool preference, and the exact command lines the fakes receive (secrets
 * on stdin and in the environment, never in argv; the clone's Pulumi.local.yaml never written).
 */
import { expect } from "chai";
import { createHash } from "node:crypto";
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { fakes, line, ROOT, type Fakes } from "./fakes";

const PASS = { PULUMI_CONFIG_PASSPHRASE: "local-test-passphrase-7Hk2" };
const cloneStackFile = () => createHash("sha256").update(readFileSync(join(ROOT, "Pulumi.local.yaml"))).digest("hex");

describe("tools/local: npm run local:up | local:ports | local:down", function () {
  this.timeout(60_000);
  let f: Fakes;
  afterEach(() => f.remove());

  describe("missing prerequisites: one line with the fix, exit code 2, nothing run", () => {
    it("neither kind nor k3d on PATH", async () => {
      f = fakes(["kubectl", "docker", "pulumi"]);
      const res = await f.cli(["up"], PASS);
      expect(res.code).to.equal(2);
      expect(res.stderr).to.equal(
        "neither kind nor k3d found on PATH: install one (kind: https://kind.sigs.k8s.io/docs/user/quick-start/#installation, k3d: https://k3d.io/#installation) with Docker or Podman, then rerun npm run local:up\n",
      );
      expect(f.calls()).to.deep.equal([]);
    });

    it("--tool k3d when only kind is there", async () => {
      f = fakes(["kind", "kubectl", "docker", "pulumi"]);
      const res = await f.cli(["up", "--tool", "k3d"], PASS);
      expect(res.code).to.equal(2);
      expect(res.stderr).to.equal("k3d not found on PATH: install it (https://k3d.io/#installation) or leave out --tool, then rerun\n");
    });

    it("no Docker nor Podman for kind", async () => {
      f = fakes(["kind", "kubectl", "pulumi"]);
      const res = await f.cli(["up"], PASS);
      expect(res.code).to.equal(2);
      expect(res.stderr).to.match(/^kind needs Docker or Podman, and neither docker nor podman is on PATH: install Docker \(.*\) or Podman \(.*\), then rerun\n$/);
      expect(f.calls()).to.deep.equal([]);
    });

    it("no kubectl", async () => {
      f = fakes(["kind", "docker", "pulumi"]);
      const res = await f.cli(["up"], PASS);
      expect([res.code, res.stderr]).to.deep.equal([2, "kubectl not found on PATH: install it (https://kubernetes.io/docs/tasks/tools/), then rerun\n"]);
    });

    it("no pulumi CLI on PATH nor in the engine cache", async () => {
      f = fakes(["kind", "kubectl", "docker"]);
      const res = await f.cli(["up"], PASS);
      expect(res.code).to.equal(2);
      expect(res.stderr).to.equal(
        "pulumi CLI not found on PATH nor in the engine cache: install a release (https://www.pulumi.com/docs/iac/download-install/) or build it with bash tools/engine/build.sh, then rerun\n",
      );
      expect(f.calls()).to.deep.equal([]);
    });

    it("no PULUMI_CONFIG_PASSPHRASE", async () => {
      f = fakes(["kind", "kubectl", "docker", "pulumi"]);
      const res = await f.cli(["up"]);
      expect(res.code).to.equal(2);
      expect(res.stderr).to.match(/^PULUMI_CONFIG_PASSPHRASE is not set: export PULUMI_CONFIG_PASSPHRASE=<a passphrase of your choice> .*then rerun\n$/);
    });
  });

  it("the pulumi CLI is found in the engine cache (MINDROOM_ENGINE_BIN) when PATH has none", async () => {
    f = fakes(["kind", "kubectl", "docker"]);
    const engine = fakes(["pulumi"]);
    try {
      const res = await f.cli(["up"], { ...PASS, MINDROOM_ENGINE_BIN: engine.dir, FAKE_DIR: f.dir });
      expect(res.code, res.stderr).to.equal(0);
      expect(f.calls().filter((c) => c.name === "pulumi").map((c) => c.args[0])).to.include("up");
    } finally {
      engine.remove();
    }
  });

  it("prefers kind when both are on PATH; --tool k3d picks k3d", async () => {
    f = fakes(["kind", "k3d", "kubectl", "docker", "pulumi"]);
    expect((await f.cli(["up"], PASS)).code).to.equal(0);
    expect(f.calls()[0].name).to.equal("kind");
    expect(f.calls().some((c) => c.name === "k3d")).to.equal(false);
    expect((await f.cli(["down"], PASS)).code).to.equal(0);
    const before = f.calls().length;
    expect((await f.cli(["up", "--tool", "k3d"], PASS)).code).to.equal(0);
    const later = f.calls().slice(before);
    expect(later[0].name).to.equal("k3d");
    expect(later.some((c) => c.name === "kind")).to.equal(false);
  });

  it("up on kind: creates the cluster with the host ports, waits for the node, selects the stack, sets its secrets on stdin, applies it and prints the URLs", async () => {
    f = fakes(["kind", "kubectl", "docker", "pulumi"]);
    const cloneBefore = cloneStackFile();
    const res = await f.cli(["up", "--https-port", "8443", "--http-port", "8080"], PASS);
    expect(res.code, res.stderr).to.equal(0);
    const project = join(f.localDir, "project");
    const calls = f.calls();
    expect(calls.map(line)).to.deep.equal([
      "kind get clusters",
      `kind create cluster --name mindroom --config ${join(f.localDir, "kind.yaml")} --wait 180s`,
      "kubectl --context kind-mindroom wait --for=condition=Ready node --all --timeout=180s",
      "pulumi stack select --create --secrets-provider passphrase --stack local --non-interactive",
      "pulumi config set --secret provisionerApiKey --stack local --non-interactive",
      "pulumi config set --secret tenantStacksPassphrase --stack local --non-interactive",
      "pulumi up --yes --stack local --non-interactive",
      "pulumi stack output --json --stack local --non-interactive",
    ]);
    expect(readFileSync(join(f.dir, "kind-config.yaml"), "utf8")).to.include("{containerPort: 80, hostPort: 8080, protocol: TCP}").and.include("{containerPort: 443, hostPort: 8443, protocol: TCP}");
    const pulumiCalls = calls.filter((c) => c.name === "pulumi");
    for (const c of pulumiCalls) {
      expect(c.cwd).to.equal(project);
      expect(c.env.PULUMI_CONFIG_PASSPHRASE).to.equal(PASS.PULUMI_CONFIG_PASSPHRASE);
      expect(c.env.PULUMI_BACKEND_URL).to.equal(`file://${join(f.localDir, "state")}`);
    }
    const secrets = pulumiCalls.filter((c) => c.args[0] === "config").map((c) => c.stdin);
    expect(secrets.every((s) => /^[0-9a-f]{64}$/.test(s))).to.equal(true);
    expect(secrets[0]).to.not.equal(secrets[1]);
    const argv = calls.flatMap((c) => c.args).join(" ");
    for (const secret of [...secrets, PASS.PULUMI_CONFIG_PASSPHRASE]) expect(argv).to.not.include(secret);
    expect(res.stdout).to.include("The local stack is up on kind cluster mindroom. Open:");
    expect(res.stdout).to.include("app:          https://app.mindroom.localhost:8443");
    expect(res.stdout).to.include("api:          https://api.mindroom.localhost:8443");
    expect(res.stdout).to.include("kubectl --context kind-mindroom -n mindroom-local port-forward svc/mindroom-provisioner 8080:8080");
    const stackFile = parse(readFileSync(join(project, "Pulumi.local.yaml"), "utf8")) as { config: Record<string, Record<string, unknown>> };
    expect(stackFile.config["mindroom:local"]).to.deep.equal({ context: "kind-mindroom" });
    expect((stackFile.config["mindroom:platform"].provisioner as Record<string, unknown>).instanceStorageClassName).to.equal("standard");
    expect(cloneStackFile(), "the clone's Pulumi.local.yaml is not written").to.equal(cloneBefore);

    // A second run reuses the cluster (and its ports) and the secrets.
    const before = calls.length;
    const again = await f.cli(["up"], PASS);
    expect(again.code, again.stderr).to.equal(0);
    expect(again.stdout).to.include("using the existing kind cluster mindroom (context kind-mindroom)");
    expect(f.calls().slice(before).map(line)).to.deep.equal([
      "kind get clusters",
      "kubectl --context kind-mindroom wait --for=condition=Ready node --all --timeout=180s",
      "pulumi stack select --create --secrets-provider passphrase --stack local --non-interactive",
      "pulumi up --yes --stack local --non-interactive",
      "pulumi stack output --json --stack local --non-interactive",
    ]);
    expect(again.stdout).to.include("app:          https://app.mindroom.localhost:8443");
  });

  it("up on k3d: its load balancer gets the host ports, Traefik is off, the stack uses context k3d-mindroom and storage class local-path", async () => {
    f = fakes(["k3d", "kubectl", "docker", "pulumi"]);
    const res = await f.cli(["up"], PASS);
    expect(res.code, res.stderr).to.equal(0);
    expect(f.calls().map(line).slice(0, 3)).to.deep.equal([
      "k3d cluster list --output json",
      "k3d cluster create mindroom --port 80:80@loadbalancer --port 443:443@loadbalancer --k3s-arg=--disable=traefik@server:0 --wait --timeout 180s",
      "kubectl --context k3d-mindroom wait --for=condition=Ready node --all --timeout=180s",
    ]);
    const stackFile = parse(readFileSync(join(f.localDir, "project", "Pulumi.local.yaml"), "utf8")) as { config: Record<string, Record<string, unknown>> };
    expect(stackFile.config["mindroom:local"]).to.deep.equal({ context: "k3d-mindroom" });
    expect((stackFile.config["mindroom:platform"].provisioner as Record<string, unknown>).instanceStorageClassName).to.equal("local-path");
    expect(res.stdout).to.include("app:          https://app.mindroom.localhost\n");
  });

  it("kind with Podman only runs kind with KIND_EXPERIMENTAL_PROVIDER=podman", async () => {
    f = fakes(["kind", "kubectl", "podman", "pulumi"]);
    expect((await f.cli(["up"], PASS)).code).to.equal(0);
    const kind = f.calls().filter((c) => c.name === "kind");
    expect(kind.length).to.be.greaterThan(0);
    expect(kind.every((c) => c.env.KIND_EXPERIMENTAL_PROVIDER === "podman")).to.equal(true);
  });

  it("ports: the mapped ports and URLs of the running stack; exit 1 with the fix when nothing runs", async () => {
    f = fakes(["kind", "kubectl", "docker", "pulumi"]);
    const none = await f.cli(["ports"], PASS);
    expect(none.code).to.equal(1);
    expect(none.stderr).to.equal(`no local cluster recorded in ${f.localDir}: run npm run local:up\n`);
    expect((await f.cli(["up", "--https-port", "9443"], PASS)).code).to.equal(0);
    const res = await f.cli(["ports"], PASS);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.include("kind cluster mindroom: host port 80 → ingress HTTP, 9443 → ingress HTTPS (context kind-mindroom)");
    expect(res.stdout).to.include("webhooks:     https://webhooks.mindroom.localhost:9443");
  });

  it("down: forgets the stack and deletes the cluster (its resources go with it; no destroy the protected Namespace would refuse); with the cluster gone, only forgets", async () => {
    f = fakes(["kind", "kubectl", "docker", "pulumi"]);
    expect((await f.cli(["up"], PASS)).code).to.equal(0);
    let before = f.calls().length;
    const res = await f.cli(["down"], PASS);
    expect(res.code, res.stderr).to.equal(0);
    expect(res.stdout).to.include("the stack's resources go with the kind cluster mindroom: forgetting the stack");
    expect(f.calls().slice(before).map(line)).to.deep.equal([
      "kind get clusters",
      "pulumi stack ls --json --non-interactive",
      "pulumi stack rm --force --yes --stack local --non-interactive",
      "kind delete cluster --name mindroom",
    ]);
    expect((await f.cli(["ports"], PASS)).code, "nothing recorded after down").to.equal(1);

    expect((await f.cli(["up"], PASS)).code).to.equal(0);
    before = f.calls().length;
    rmSync(join(f.dir, "cluster")); // the cluster was deleted behind our back
    const gone = await f.cli(["down"], PASS);
    expect(gone.code, gone.stderr).to.equal(0);
    expect(gone.stdout).to.include("the kind cluster mindroom is gone, and its resources with it: forgetting the stack");
    expect(f.calls().slice(before).map(line)).to.include("pulumi stack rm --force --yes --stack local --non-interactive").and.not.include("kind delete cluster --name mindroom");
  });
});
