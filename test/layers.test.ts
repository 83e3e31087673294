/**
 * The layers point down (docs/README "Layout"): `infra/` imports no component, stack or
 * provisioner code; components import no provisioner code; the provisioner's core (service, jobs)
 * imports no adapter. A string `require` counts as an import: the renderer once loaded components
 * from `infra/` that way, a cycle no type-check saw.
 */
import { expect } from "chai";
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

const ROOT = resolve(__dirname, "..");

function sources(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|cjs|js)$/.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

/**
 * Every relative module path a file names, as repo paths: any quoted "./…" or "../…" string, so an
 * import, a `require`, and a path handed to a loader function all count.
 */
function importsOf(file: string): string[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const specs = [...text.matchAll(/["'](\.\.?\/[^"'\s]+)["']/g)].map((m) => m[1]);
  return specs.map((s) => relative(ROOT, resolve(ROOT, dirname(file), s)));
}

function violations(dir: string, forbidden: string[]): string[] {
  return sources(dir).flatMap((file) =>
    importsOf(file)
      .filter((target) => forbidden.some((f) => target === f || target.startsWith(`${f}/`)))
      .map((target) => `${file} -> ${target}`),
  );
}

describe("layers: imports only point down", () => {
  it("infra/ imports nothing from components/, stacks/ or provisioner/", () => {
    expect(violations("infra", ["components", "stacks", "provisioner"])).to.deep.equal([]);
  });

  it("components/ import nothing from the provisioner or the stacks", () => {
    expect(violations("components", ["provisioner", "stacks"])).to.deep.equal([]);
  });

  it("the provisioner's services and jobs import no adapter (stacks, kube, mirror, fakes) and no HTTP code", () => {
    const adapters = ["provisioner/stacks", "provisioner/kube", "provisioner/mirror", "provisioner/fakes", "provisioner/http"];
    expect([...violations("provisioner/service", adapters), ...violations("provisioner/jobs", adapters)]).to.deep.equal([]);
  });

  it("finds a path handed to a loader as an import (the check can fail)", () => {
    expect(importsOf("components/render-targets.ts")).to.include.members(["components/instance/render", "infra/render/targets"]);
  });
});
