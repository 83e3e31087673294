/**
 * Test entry point (`npm test`): every `*.test.ts` under test/ with mocha, ending with the
 * `N passed, N failed` line CI reads.
 * Usage: `npm test [-- --grep pattern] [-- test/components/instance ...]` (paths narrow the run).
 */
import { runMocha } from "./support/mocha-run";

// bench prints figures; engine needs the Go-built tools and runs as `npm run test:engine`.
runMocha({ root: __dirname, timeout: 20_000, skipDirs: ["bench", "engine"] });
