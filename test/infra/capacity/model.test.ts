import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { formatReport, parseMix, parseNodes } from "../../../infra/capacity/cli";
import { capacityModel, nodeCapacity, PROFILES, profileOf, tenantsPerNode } from "../../../infra/capacity/model";
import { LB11_EUR_PER_MONTH, PRICES_AS_OF, SERVER_TYPES, VOLUME_EUR_PER_GB_MONTH } from "../../../infra/capacity/prices";
import { TIERS } from "../../../infra/tiers";

describe("capacity model", () => {
  it("tier profiles sum the three containers' requests (instance.md §15)", () => {
    expect(PROFILES.small).to.deep.equal({ cpuMillis: 600, memoryMiB: 1280, volumes: 2, volumeGiB: 10 });
    expect(PROFILES.pro).to.deep.equal({ cpuMillis: 1250, memoryMiB: 2560, volumes: 2, volumeGiB: 25 });
    expect(["free", "byok", "hobby", "starter"].map(profileOf)).to.deep.equal(["small", "small", "small", "small"]);
    expect(["pro", "enterprise"].map(profileOf)).to.deep.equal(["pro", "pro"]);
  });

  it("a cpx31 control plane holds 3 small tenants, bounded by memory", () => {
    // 8192 - 1800 reserved - 90 ingress - 2112 platform/system = 4190 MiB → 3 × 1280
    const cap = nodeCapacity("cpx31", 0);
    expect(cap).to.deep.equal({ cpuMillis: 2500, memoryMiB: 4190, volumes: 15 });
    expect(tenantsPerNode(cap, PROFILES.small)).to.deep.equal({ tenants: 3, binding: "memory" });
  });

  it("a big worker is bounded by the CSI limit: 16 volumes / 2 PVCs = 8 tenants", () => {
    expect(tenantsPerNode(nodeCapacity("cx53", 1), PROFILES.small)).to.deep.equal({ tenants: 8, binding: "volumes" });
    expect(tenantsPerNode(nodeCapacity("cx53", 0), PROFILES.small)).to.deep.equal({ tenants: 7, binding: "volumes" });
  });

  it("CPU binds for pro tenants on a cx43 worker", () => {
    // 8000 - 500 - 100 = 7400m → 5 × 1250m; memory 16384-1890 = 14494 → 5 × 2560 too, cpu checked first
    expect(tenantsPerNode(nodeCapacity("cx43", 1), PROFILES.pro)).to.deep.equal({ tenants: 5, binding: "cpu" });
    expect(tenantsPerNode(nodeCapacity("cpx22", 1), PROFILES.pro)).to.deep.equal({ tenants: 0, binding: "memory" });
  });

  it("reports what does not fit and the binding limit", () => {
    const r = capacityModel({ nodes: [{ type: "cpx31", count: 1 }], mix: { free: 10 } });
    expect(r.fits).to.equal(false);
    expect(r.unplaced).to.deep.equal({ free: 7 });
    expect(r.bindingLimit).to.equal("memory");
    expect(capacityModel({ nodes: [{ type: "cx53", count: 1 }], mix: { free: 10 } }).bindingLimit).to.equal("volumes");
  });

  it("places pro tenants first and spreads over nodes", () => {
    const r = capacityModel({ nodes: [{ type: "cpx31", count: 1 }, { type: "cx43", count: 2 }], mix: { free: 10, pro: 2 } });
    expect(r.fits).to.equal(true);
    expect(r.nodes.map((n) => n.placed)).to.deep.equal([{ pro: 1, free: 1 }, { pro: 1, free: 7 }, { free: 2 }]);
  });

  it("costs nodes, the LB (only with 2+ nodes by default) and tenant volumes at the dated prices", () => {
    const one = capacityModel({ nodes: [{ type: "cx33", count: 1 }], mix: { free: 2 } });
    const volumes = (2 * 2 * 10 + 10) * VOLUME_EUR_PER_GB_MONTH;
    expect(one.eurPerMonth.loadBalancer).to.equal(0);
    expect(one.eurPerMonth.total).to.be.closeTo(SERVER_TYPES.cx33.eurPerMonth + volumes, 0.01);
    expect(one.eurPerTenant).to.be.closeTo((SERVER_TYPES.cx33.eurPerMonth + volumes) / 2, 0.01);
    const two = capacityModel({ nodes: [{ type: "cx33", count: 2 }], mix: { free: 2 } });
    expect(two.eurPerMonth.loadBalancer).to.equal(LB11_EUR_PER_MONTH);
    expect(capacityModel({ nodes: [{ type: "cx33", count: 2 }], mix: {}, loadBalancer: false }).eurPerMonth.loadBalancer).to.equal(0);
    expect(one.pricesAsOf).to.equal(PRICES_AS_OF).and.to.match(/^\d{4}-\d{2}-\d{2}$/);
  });

  it("per-tier cost is a node share plus the tier's own volumes", () => {
    const r = capacityModel({ nodes: [{ type: "cx53", count: 1 }], mix: { free: 1, pro: 1 } });
    expect(r.eurPerTenantByTier.free).to.be.closeTo(SERVER_TYPES.cx53.eurPerMonth / 7 + 20 * VOLUME_EUR_PER_GB_MONTH, 0.01);
    expect(r.eurPerTenantByTier.pro).to.be.closeTo(SERVER_TYPES.cx53.eurPerMonth / 7 + 50 * VOLUME_EUR_PER_GB_MONTH, 0.01);
  });

  it("a tier that fits no node has no per-tenant price (null, printed as such), never Infinity", () => {
    const r = capacityModel({ nodes: [{ type: "cpx31", count: 1 }, { type: "cpx22", count: 1 }], mix: { pro: 1, free: 1 } });
    expect(r.eurPerTenantByTier.pro).to.equal(null);
    expect(r.eurPerTenantByTier.free).to.be.a("number");
    expect(JSON.parse(JSON.stringify(r.eurPerTenantByTier))).to.deep.equal(r.eurPerTenantByTier);
    expect(formatReport(r)).to.contain("pro (does not fit on one node)");
  });

  it("the CLI prints the table, and exits 1 with one line on stderr for a bad flag", function () {
    this.timeout(30_000);
    const cli = (...args: string[]) => spawnSync(process.execPath, ["--import", "tsx", "infra/capacity/cli.ts", ...args], { cwd: join(__dirname, "..", "..", ".."), encoding: "utf8" });
    const ok = cli("--nodes", "cpx31:1,cx43:1", "--mix", "free:10,pro:2");
    expect(ok.status, ok.stderr).to.equal(0);
    expect(ok.stdout).to.match(/^node\s+type\s+max small \(limit\)/);
    expect(ok.stdout).to.match(/node-2\s+cx43\s+8 \(volumes\)/);
    expect(ok.stdout).to.contain("load balancer 5.49");
    const bad = cli("--nodes", "cpx99:1", "--mix", "free:1");
    expect(bad.status).to.equal(1);
    expect(bad.stdout).to.equal("");
    expect(bad.stderr.trim().split("\n")).to.have.length(1);
    expect(bad.stderr).to.contain('unknown server type "cpx99"');
    // An unknown tier is refused as the provisioner API refuses it (POST /system/provision: 400).
    const tier = cli("--nodes", "cpx31:1", "--mix", "free:1,gold:2");
    expect(tier.status).to.equal(1);
    expect(tier.stdout).to.equal("");
    expect(tier.stderr.trim().split("\n")).to.have.length(1);
    expect(tier.stderr).to.contain('--mix: tier must be one of free, byok, hobby, pro, enterprise (got "gold")');
  });

  it("takes the API's tiers, maps its legacy names, and refuses any other name", () => {
    expect(parseMix("free:1,byok:2,hobby:3,pro:4,enterprise:5")).to.deep.equal({ free: 1, byok: 2, hobby: 3, pro: 4, enterprise: 5 });
    expect(parseMix("starter:1,byok:2,professional:3")).to.deep.equal({ byok: 3, pro: 3 });
    expect(() => parseMix("gold:1")).to.throw(`--mix: tier must be one of ${TIERS.join(", ")} (got "gold")`);
  });

  it("rejects unknown server types and malformed flags with the fix", () => {
    expect(() => nodeCapacity("cx99", 0)).to.throw(/unknown server type "cx99"/);
    expect(() => parseNodes("cpx31")).to.throw(/--nodes: "cpx31" must be name:count, e.g. cpx31:1/);
    expect(() => parseNodes("zz9:1")).to.throw(/unknown server type "zz9"/);
    expect(parseMix("free:10,pro:2")).to.deep.equal({ free: 10, pro: 2 });
    expect(() => capacityModel({ nodes: [], mix: {} })).to.throw(/give at least one node/);
  });

  it("prints a table with the binding limit per node", () => {
    const text = formatReport(capacityModel({ nodes: parseNodes("cpx31:1"), mix: parseMix("free:10,pro:2") }));
    expect(text).to.match(/control-plane\s+cpx31\s+3 \(memory\)\s+1 \(memory\)/);
    expect(text).to.contain("fits: NO");
    expect(text).to.contain(`prices as of ${PRICES_AS_OF}`);
  });
});
