/**
 * Engine test entry point (`npm run test:engine`): every `*.test.ts` under test/engine with mocha,
 * against the real binaries of tools/engine (a control plane started once per run, see
 * support/cluster.ts), ending with the `N passed, N failed` line.
 * Usage: `npm run test:engine [-- --grep pattern] [-- test/engine/render-apply.test.ts ...]`.
 */
import Mocha from "mocha";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { sharedCluster, stopSharedCluster } from "./support/cluster";

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return testFiles(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

async function main(): Promise<void> {
  const grepAt = process.argv.indexOf("--grep");
  const mocha = new Mocha({
    // Tests drive real CLIs (pulumi up/destroy) against a real API server.
    timeout: 600_000,
    reporter: "spec",
    grep: grepAt > 0 ? process.argv[grepAt + 1] : undefined,
  });
  const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--grep");
  const roots = args.length > 0 ? args : [__dirname];
  const files = roots.flatMap((r) => (r.endsWith(".ts") ? [r] : testFiles(r)));
  for (const file of [...new Set(files)].sort()) mocha.addFile(file);
  await mocha.loadFilesAsync();
  mocha.rootHooks({
    beforeAll: async function (this: Mocha.Context) {
      this.timeout(180_000);
      const cluster = await sharedCluster();
      console.log(`  control plane ready in ${(cluster.startMs / 1000).toFixed(1)} s at ${cluster.server}`);
    },
  });
  let passed = 0;
  let failed = 0;
  const started = Date.now();
  const runner = mocha.run();
  runner.on("pass", () => passed++);
  runner.on("fail", () => failed++);
  runner.on("end", () => {
    void stopSharedCluster()
      .catch((err) => console.error(`stopping the control plane: ${err}`))
      .finally(() => {
        console.log(`engine tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
        console.log(`${passed} passed, ${failed} failed`);
        process.exit(failed > 0 ? 1 : 0);
      });
  });
}

main().catch((err) => {
  console.error(err);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
