/**
 * `npm run capacity -- --nodes cpx31:1,cx43:2 --mix free:10,pro:2 [--lb|--no-lb] [--json]`
 * prints how a tenant mix fits on the given nodes and what it costs per month.
 */
import { Command, InvalidArgumentError } from "commander";
import { capacityModel, type CapacityReport, type NodeSpec } from "./model";
import { PRICES_AS_OF, SERVER_TYPES } from "./prices";
import { LEGACY_TIERS, TIER_ERROR, TIERS } from "../tiers";

function pairs(flag: string, value: string): [string, number][] {
  return value.split(",").map((part) => {
    const m = /^([a-z0-9-]+):(\d+)$/.exec(part.trim());
    if (!m) throw new InvalidArgumentError(`${flag}: "${part}" must be name:count, e.g. ${flag === "--nodes" ? "cpx31:1" : "free:10"}`);
    return [m[1], Number(m[2])];
  });
}

export function parseNodes(value: string): NodeSpec[] {
  return pairs("--nodes", value).map(([type, count]) => {
    if (!SERVER_TYPES[type]) throw new InvalidArgumentError(`--nodes: unknown server type "${type}"; known: ${Object.keys(SERVER_TYPES).join(", ")}`);
    return { type, count };
  });
}

/** Tier counts; tiers as the provisioner API takes them (legacy names mapped), anything else refused. */
export function parseMix(value: string): Record<string, number> {
  const mix: Record<string, number> = {};
  for (const [name, count] of pairs("--mix", value)) {
    const tier = LEGACY_TIERS[name] ?? name;
    if (!(TIERS as readonly string[]).includes(tier)) throw new InvalidArgumentError(`--mix: ${TIER_ERROR} (got "${name}")`);
    mix[tier] = (mix[tier] ?? 0) + count;
  }
  return mix;
}

export function formatReport(r: CapacityReport): string {
  const tiers = [...new Set(r.nodes.flatMap((n) => Object.keys(n.placed)).concat(Object.keys(r.unplaced)))];
  const rows = [
    ["node", "type", "max small (limit)", "max pro (limit)", ...tiers.map((t) => `placed ${t}`)],
    ...r.nodes.map((n) => [n.name, n.type, `${n.maxSmall.tenants} (${n.maxSmall.binding})`, `${n.maxPro.tenants} (${n.maxPro.binding})`, ...tiers.map((t) => String(n.placed[t] ?? 0))]),
  ];
  const widths = rows[0].map((_, c) => Math.max(...rows.map((row) => row[c].length)));
  const table = rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c])).join("  ").trimEnd()).join("\n");
  const lines = [
    table,
    "",
    r.fits ? "fits: yes" : `fits: NO — unplaced ${Object.entries(r.unplaced).map(([t, n]) => `${t}:${n}`).join(",")}; binding limit: ${r.bindingLimit}`,
    `EUR/month: nodes ${r.eurPerMonth.nodes.toFixed(2)} + load balancer ${r.eurPerMonth.loadBalancer.toFixed(2)} + volumes ${r.eurPerMonth.volumes.toFixed(2)} = ${r.eurPerMonth.total.toFixed(2)}`,
    `EUR/month per tenant (average): ${r.eurPerTenant.toFixed(2)}`,
    `EUR/month per tenant by tier (node share + volumes): ${Object.entries(r.eurPerTenantByTier).map(([t, e]) => `${t} ${e === null ? "(does not fit on one node)" : e.toFixed(2)}`).join(", ")}`,
    `prices as of ${r.pricesAsOf} (second-hand quotes; check hetzner.com/cloud)`,
  ];
  return `${lines.join("\n")}\n`;
}

export function main(argv: string[]): void {
  const program = new Command()
    .name("capacity")
    .description(`Tenants per node and monthly cost (prices as of ${PRICES_AS_OF})`)
    .requiredOption("--nodes <type:count,...>", "server types and counts; the first node hosts the platform", parseNodes)
    .requiredOption("--mix <tier:count,...>", "tenants per tier (free, byok, hobby → small; pro, enterprise → pro)", parseMix)
    .option("--lb", "count an LB11 in front of ingress (default: with 2+ nodes)")
    .option("--no-lb", "count no load balancer")
    .option("--json", "print the report as JSON")
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  program.parse(argv);
  const opts = program.opts<{ nodes: NodeSpec[]; mix: Record<string, number>; lb?: boolean; json?: boolean }>();
  const report = capacityModel({ nodes: opts.nodes, mix: opts.mix, loadBalancer: opts.lb });
  process.stdout.write(opts.json ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report));
}

if (require.main === module) {
  try {
    main(process.argv);
  } catch (err) {
    const code = (err as { exitCode?: number }).exitCode;
    if (code === undefined) process.stderr.write(`${(err as Error).message}\n`);
    process.exit(code ?? 1);
  }
}
