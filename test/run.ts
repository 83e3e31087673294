/**
 * Test entry point: runs every `*.test.ts` under test/ with mocha and ends with the
 * `N passed, N failed` line CI reads (CI does not parse mocha's own report).
 * Usage: `npm test [-- --grep pattern] [-- test/components/instance ...]` (paths narrow the run).
 */
import Mocha from "mocha";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    // bench prints figures; engine needs the Go-built tools and runs as `npm run test:engine`.
    if (statSync(path).isDirectory()) return entry === "bench" || entry === "engine" ? [] : testFiles(path);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

async function main(): Promise<void> {
  const grepAt = process.argv.indexOf("--grep");
  const mocha = new Mocha({
    timeout: 20_000,
    reporter: "spec",
    grep: grepAt > 0 ? process.argv[grepAt + 1] : undefined,
  });
  const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--grep");
  const roots = args.length > 0 ? args : [__dirname];
  const files = roots.flatMap((r) => (r.endsWith(".ts") ? [r] : testFiles(r)));
  for (const file of [...new Set(files)].sort()) mocha.addFile(file);
  await mocha.loadFilesAsync();
  let passed = 0;
  let failed = 0;
  const runner = mocha.run();
  runner.on("pass", () => passed++);
  runner.on("fail", () => failed++);
  runner.on("end", () => {
    console.log(`${passed} passed, ${failed} failed`);
    process.exit(failed > 0 ? 1 : 0);
  });
}

main().catch((err) => {
  console.error(err);
  console.log("0 passed, 1 failed");
  process.exit(1);
});
