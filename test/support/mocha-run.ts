/**
 * The one mocha entry point behind `npm test` and `npm run test:engine`: collects `*.test.ts`
 * under a root (or the paths given on the command line), honours `--grep`, and ends with the
 * `N passed, N failed` line CI reads (CI does not parse mocha's own report).
 */
import Mocha from "mocha";
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";

export interface RunOptions {
  /** Folder searched when no path is given on the command line. */
  root: string;
  /** Per-test timeout in ms. */
  timeout: number;
  /** Folder names not descended into. */
  skipDirs?: string[];
  rootHooks?: Mocha.RootHookObject;
  /** Runs after the last test, before the counts line (e.g. stopping servers). */
  teardown?: () => Promise<void>;
}

function testFiles(dir: string, skip: string[]): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return skip.includes(entry) ? [] : testFiles(path, skip);
    return entry.endsWith(".test.ts") ? [path] : [];
  });
}

export function runMocha(options: RunOptions): void {
  const main = async () => {
    const argv = process.argv;
    const grepAt = argv.indexOf("--grep");
    const mocha = new Mocha({ timeout: options.timeout, reporter: "spec", grep: grepAt > 0 ? argv[grepAt + 1] : undefined });
    const args = argv.slice(2).filter((a, i, all) => !a.startsWith("--") && all[i - 1] !== "--grep");
    const roots = args.length > 0 ? args : [options.root];
    const files = roots.flatMap((r) => (r.endsWith(".ts") ? [r] : testFiles(r, options.skipDirs ?? [])));
    for (const file of [...new Set(files)].sort()) mocha.addFile(file);
    await mocha.loadFilesAsync();
    if (options.rootHooks) mocha.rootHooks(options.rootHooks);
    let passed = 0;
    let failed = 0;
    const runner = mocha.run();
    runner.on("pass", () => passed++);
    runner.on("fail", () => failed++);
    runner.on("end", () => {
      void (options.teardown ?? (async () => undefined))()
        .catch((err) => console.error(`teardown: ${err}`))
        .finally(() => {
          console.log(`${passed} passed, ${failed} failed`);
          process.exit(failed > 0 ? 1 : 0);
        });
    });
  };
  main().catch((err) => {
    console.error(err);
    console.log("0 passed, 1 failed");
    process.exit(1);
  });
}
