/**
 * Loads the parts of `@pulumi/pulumi` a render never uses only when something uses them.
 *
 * The SDK's index loads `automation` (the Automation API: js-yaml, and through `codePaths` npm's
 * arborist, pacote and sigstore) and `runtime` loads the closure serializer (the TypeScript
 * compiler) up front: ~580 of the ~770 modules `import "@pulumi/pulumi"` loads, 0.35–0.45 s of a
 * render's start-up, for features (Automation API, function serialization for dynamic providers)
 * that a program run under the mock runtime never touches. The SDK already defers the closure
 * serializer in `dynamic/` ("its dependencies are slow to load"); this does the same for the
 * other two entry points.
 *
 * Each deferred module is a stand-in in the module cache until first use: any property read
 * loads the real module and forwards to it. The names the SDK copies off a module while loading
 * (`exports.x = module_1.x`) are forwarding functions instead, so copying them loads nothing.
 * Import this first, before anything imports the SDK (the render CLI does); once the SDK is
 * loaded it is a no-op. Nothing changes for callers: `pulumi.automation.*` and
 * `pulumi.runtime.serializeFunction` work as before, just loaded on demand.
 */
import Module from "node:module";
import { dirname, join } from "node:path";

type Exports = Record<string | symbol, unknown>;

const SDK = dirname(require.resolve("@pulumi/pulumi/package.json"));

/**
 * What is deferred: the module's path in the SDK and the functions the SDK reads off it at load.
 * Checked against the installed SDK by test/infra/render-startup.test.ts.
 */
export const DEFERRED: ReadonlyArray<{ path: string; copiedAtLoad: string[] }> = [
  { path: "automation/index.js", copiedAtLoad: [] },
  { path: "runtime/closure/serializeClosure.js", copiedAtLoad: ["serializeFunction", "serializeFunctionAsync"] },
  { path: "runtime/closure/codePaths.js", copiedAtLoad: ["computeCodePaths"] },
];

function defer(file: string, copiedAtLoad: string[]): void {
  let real: Exports | undefined;
  const load = (): Exports => {
    if (!real) {
      delete require.cache[file];
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the real module, by path, on first use
      real = require(file) as Exports;
    }
    return real;
  };
  const forwarders: Exports = Object.fromEntries(
    copiedAtLoad.map((name) => [name, (...args: unknown[]) => (load()[name] as (...a: unknown[]) => unknown)(...args)]),
  );
  const exports = new Proxy({} as Exports, {
    // `__importStar` asks for `__esModule` and then keeps the namespace object: no load yet.
    get: (_t, key) => (key === "__esModule" ? true : key in forwarders ? forwarders[key] : load()[key]),
    has: (_t, key) => key in load(),
    ownKeys: () => Reflect.ownKeys(load()),
    getOwnPropertyDescriptor: (_t, key) => {
      const d = Object.getOwnPropertyDescriptor(load(), key);
      return d && { ...d, configurable: true };
    },
  });
  const stub = new Module(file);
  stub.filename = file;
  stub.loaded = true;
  stub.exports = exports;
  require.cache[file] = stub;
}

/** Installs the stand-ins unless the SDK is already loaded (then there is nothing left to save). */
export function deferUnusedSdkModules(): void {
  if (require.cache[join(SDK, "index.js")]) return;
  for (const { path, copiedAtLoad } of DEFERRED) {
    const file = join(SDK, path);
    if (!require.cache[file]) defer(file, copiedAtLoad);
  }
}

deferUnusedSdkModules();
