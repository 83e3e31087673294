/**
 * `npx tsx test/bench/render-command.ts [runs]`: the whole render command, as an operator types
 * it, spawned `runs` times (default 10) for one tenant; prints the median and spread of wall time
 * and the CPU time the child used. Figures only; the target (≤ 0.5 s wall) is in issue 11.
 *
 * `helm template` of the upstream instance chart is timed beside it in the same run when
 * HELM=<helm binary> and UPSTREAM_INSTANCE_CHART=<chart dir> are set (helm is not part of the
 * project's tools; it builds from Go modules: `go install helm.sh/helm/v3/cmd/helm`); otherwise the
 * issue's figure (0.055 s) is the reference. For scale it also prints the floors any Node command
 * pays (`node -e 0`, npm's own start for `npm run --silent`) and the command as it ran before (`tsx`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const ROOT = join(__dirname, "../..");
const RUNS = Number(process.argv[2] ?? 10);
const TENANT = ["instance", "-f", "test/fixtures/instance/tenant.yaml"];
const HELM = process.env.HELM;
const CHART = process.env.UPSTREAM_INSTANCE_CHART;
let helmTemplateS = 0.055; // issue 11: `helm template` of the upstream instance chart

/** Children's CPU seconds so far (Linux /proc/self/stat cutime + cstime; null elsewhere). */
function childCpu(): number | null {
  try {
    const fields = readFileSync("/proc/self/stat", "utf8").split(") ")[1].split(" ");
    return (Number(fields[13]) + Number(fields[14])) / 100; // USER_HZ is 100 on Linux
  } catch {
    return null;
  }
}

interface Figures { median: number; min: number; max: number; cpu: number | null }

function time(cmd: string, args: string[], runs = RUNS): Figures {
  const walls: number[] = [];
  const cpu0 = childCpu();
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const run = spawnSync(cmd, args, { cwd: ROOT, stdio: ["ignore", "ignore", "pipe"] });
    walls.push((performance.now() - start) / 1000);
    if (run.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${run.status}: ${run.stderr}`);
  }
  const cpu1 = childCpu();
  walls.sort((a, b) => a - b);
  return { median: walls[Math.floor(walls.length / 2)], min: walls[0], max: walls[walls.length - 1], cpu: cpu0 === null || cpu1 === null ? null : (cpu1 - cpu0) / runs };
}

function line(label: string, f: Figures): string {
  const cpu = f.cpu === null ? "" : `, CPU ${f.cpu.toFixed(3)} s`;
  const ratio = (f.median / helmTemplateS).toFixed(1);
  return `  ${label.padEnd(44)} median ${f.median.toFixed(3)} s (min ${f.min.toFixed(3)}, max ${f.max.toFixed(3)})${cpu}  = ${ratio}× helm template`;
}

function main(): void {
  console.log(`load average (1 min): ${loadavg()[0].toFixed(2)} on ${cpus().length} CPUs; ${RUNS} runs each, one tenant (test/fixtures/instance/tenant.yaml)`);
  // Warm the transpile cache and the page cache once, so every figure is a warm start.
  time("npm", ["run", "--silent", "render", "--", ...TENANT], 1);
  if (HELM && CHART) {
    const helm = time(HELM, ["template", "t1", CHART, "-f", "test/fixtures/instance/tenant.yaml"]);
    helmTemplateS = helm.median;
    console.log(line("helm template <upstream instance chart> -f …", helm));
  } else {
    console.log(`  ${"helm template (issue 11's figure, not run here)".padEnd(44)} ${helmTemplateS.toFixed(3)} s`);
  }
  console.log(line("node -e 0 (Node start-up floor)", time(process.execPath, ["-e", "0"])));
  console.log(line("npm run --silent env (npm's own start)", time("npm", ["run", "--silent", "env"])));
  console.log(line("npm run --silent render -- instance -f …", time("npm", ["run", "--silent", "render", "--", ...TENANT])));
  console.log(line("tools/render instance -f … (no npm)", time(join(ROOT, "tools/render"), TENANT)));
  console.log(line("tsx components/render-cli.ts (the old script)", time(join(ROOT, "node_modules/.bin/tsx"), ["components/render-cli.ts", ...TENANT])));
}

main();
