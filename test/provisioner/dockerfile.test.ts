import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const root = join(__dirname, "../..");
const dockerfile = readFileSync(join(root, "provisioner/Dockerfile"), "utf8");
const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { dependencies: Record<string, string> };

const arg = (name: string) => dockerfile.match(new RegExp(`^ARG ${name}=(\\S+)$`, "m"))?.[1];

describe("provisioner image (provisioner/Dockerfile)", () => {
  it("pins the CLI and plugins to the SDK versions in package.json, so inline tenant programs and engine agree", () => {
    expect(arg("PULUMI_VERSION")).to.equal(pkg.dependencies["@pulumi/pulumi"]);
    expect(arg("KUBERNETES_PLUGIN_VERSION")).to.equal(pkg.dependencies["@pulumi/kubernetes"]);
    expect(arg("RANDOM_PLUGIN_VERSION")).to.equal(pkg.dependencies["@pulumi/random"]);
  });

  it("copies every source folder the provisioner imports, and runs as the Deployment's uid with the CLI path set", () => {
    for (const dir of ["components", "infra", "stacks", "provisioner"]) expect(dockerfile).to.match(new RegExp(`^COPY ${dir} \\./${dir}$`, "m"));
    expect(dockerfile).to.match(/^USER 1000:1000$/m);
    expect(dockerfile).to.contain("PULUMI_CLI_PATH=/opt/pulumi/bin/pulumi");
    // The release tarball's top folder is `pulumi/` (no bin/): strip it so the CLI lands where PULUMI_CLI_PATH points.
    expect(dockerfile).to.contain("tar -xz -C /opt/pulumi/bin --strip-components=1");
    expect(dockerfile).to.contain('CMD ["node", "--import", "tsx", "provisioner/main.ts"]');
  });
});
