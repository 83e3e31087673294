/**
 * Engine test entry point (`npm run test:engine`): every `*.test.ts` under test/engine with mocha,
 * against the real binaries of tools/engine (a control plane started once per run, see
 * support/cluster.ts), ending with the `N passed, N failed` line.
 * Usage: `npm run test:engine [-- --grep pattern] [-- test/engine/render-apply.test.ts ...]`.
 */
import type Mocha from "mocha";
import { runMocha } from "../support/mocha-run";
import { sharedCluster, stopSharedCluster } from "./support/cluster";

const started = Date.now();
runMocha({
  root: __dirname,
  // Tests drive real CLIs (pulumi up/destroy) against a real API server.
  timeout: 600_000,
  rootHooks: {
    beforeAll: async function (this: Mocha.Context) {
      this.timeout(180_000);
      const cluster = await sharedCluster();
      console.log(`  control plane ready in ${(cluster.startMs / 1000).toFixed(1)} s at ${cluster.server}`);
    },
  },
  teardown: async () => {
    await stopSharedCluster().catch((err) => console.error(`stopping the control plane: ${err}`));
    console.log(`engine tests took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  },
});
