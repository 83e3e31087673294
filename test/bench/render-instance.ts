/**
 * `npx tsx test/bench/render-instance.ts`: evaluates 50 different tenants one at a time through
 * `recordProgram` in a warm process (the provisioner's situation) and prints the time per tenant
 * and the resources each registers. Figures only; the target (≤ 25 ms per tenant warm) is in
 * issue 11. `npm run --silent bench:render` also times the whole command (render-command.ts).
 */
import { cpus, loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { recordProgram } from "../../infra/render/record";
import { kubeObjects } from "../../infra/render/manifests";
import { renderTarget } from "../../components/instance/render";

const TENANTS = 50;
const WARMUP = 5;

/** Tenant i: a mix of plain, pro-profile, OIDC and kubernetes-worker tenants, each with its own secrets. */
function tenantValues(i: number): Record<string, unknown> {
  const values: Record<string, unknown> = {
    customer: 1000 + i,
    baseDomain: "staging.mindroom.chat",
    accountId: `acc-${i}`,
    instanceSecrets: { name: `mindroom-api-keys-${1000 + i}`, hash: `hash-${i}` },
    openrouter_key: `sk-or-${i}`,
    sandbox_proxy_token: `token-${i}`,
    credentials_encryption_key: `key-${i}`,
    matrixRegistrationSharedSecret: `reg-${i}`,
    authorizationGlobalUsers: [`@owner${i}:${1000 + i}.staging.mindroom.chat`],
  };
  if (i % 3 === 1) Object.assign(values, { storage: "25Gi", mindroomResources: { requests: { memory: "1Gi", cpu: "500m" }, limits: { memory: "4Gi", cpu: "2000m" } } });
  if (i % 4 === 2) Object.assign(values, { matrixOidc: { enabled: "true", issuer: "https://api.staging.mindroom.chat/matrix-oidc" }, matrixAutoJoinRoomKeys: ["lobby", "dev"] });
  if (i % 5 === 3) Object.assign(values, { workerBackend: "kubernetes", controlPlaneNodeName: "node-1" });
  return values;
}

interface Run { ms: number; cpuMs: number; kube: number; total: number }

async function evaluate(i: number): Promise<Run> {
  const start = performance.now();
  const cpu = process.cpuUsage();
  const regs = await recordProgram(renderTarget.program(tenantValues(i), {}));
  const used = process.cpuUsage(cpu);
  const ms = performance.now() - start;
  return { ms, cpuMs: (used.user + used.system) / 1000, kube: kubeObjects(regs).length, total: regs.length };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];

async function pass(label: string): Promise<void> {
  for (let i = 0; i < WARMUP; i++) await evaluate(-1 - i);
  const runs: Run[] = [];
  for (let i = 0; i < TENANTS; i++) runs.push(await evaluate(i));
  const times = runs.map((r) => r.ms).sort((a, b) => a - b);
  const cpu = runs.map((r) => r.cpuMs).sort((a, b) => a - b);
  const counts = (key: "kube" | "total") => [...new Set(runs.map((r) => r[key]))].sort((a, b) => a - b).join("/");
  console.log(`${label}`);
  console.log(`  tenants evaluated:          ${TENANTS} (after ${WARMUP} warm-up)`);
  console.log(`  wall time per tenant:       median ${quantile(times, 0.5).toFixed(1)} ms, p90 ${quantile(times, 0.9).toFixed(1)} ms (min ${times[0].toFixed(1)}, max ${times[times.length - 1].toFixed(1)})`);
  // CPU time is what one tenant costs on an idle core; wall time also carries other processes' load.
  console.log(`  CPU time per tenant:        median ${quantile(cpu, 0.5).toFixed(1)} ms, p90 ${quantile(cpu, 0.9).toFixed(1)} ms`);
  console.log(`  kubernetes objects/tenant:  ${counts("kube")} (static_runner / kubernetes workers)`);
  console.log(`  registrations/tenant:       ${counts("total")} (incl. provider, component, random passwords)`);
}

async function main(): Promise<void> {
  console.log(`load average (1 min): ${loadavg()[0].toFixed(2)} on ${cpus().length} CPUs`);
  // Under tsx source maps are on; recordProgram turns them off while a program runs, because the
  // SDK reads a full stack trace per resource and mapping every frame was a third of the time.
  await pass(`in-process, warm (tsx; source maps ${process.sourceMapsEnabled ? "on" : "off"} outside recordProgram)`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
