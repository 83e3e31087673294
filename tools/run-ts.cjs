"use strict";
/* eslint-disable @typescript-eslint/no-require-imports */
/**
 * `node tools/run-ts.cjs <entry.ts> [args...]`: runs a TypeScript entry point in one plain Node
 * process, for commands where start-up is most of the cost (`npm run render`).
 *
 * Why not `tsx <entry.ts>`: tsx starts a second Node process, routes every `require` (the SDKs'
 * ~430 JavaScript files too) through its resolver and its ESM loader thread, and turns source
 * maps on, which makes Node read the `.js.map` of every SDK file it loads: ~0.3 s per command.
 *
 * Two caches, both in node_modules/.cache/mindroom-ts/, both checked against the source on every
 * load, so an edit (or a reinstalled package) never runs stale code:
 * - the project's `.ts` files, transpiled once by the esbuild tsx itself uses, with tsx's settings
 *   (CommonJS, keepNames, the tsconfig). Modules keep their real `.ts` filename, so `__dirname`,
 *   relative requires and stack frames are the source's. Source maps are inline but, as with
 *   plain `node`, off unless `--enable-source-maps`. Like tsx, this does not type-check.
 * - V8's code cache of every CommonJS module (what Node 22 does with `module.enableCompileCache()`;
 *   Node 20 has no such switch): parsing and compiling the ~430 modules is a quarter of a render's
 *   start-up, and the cache holds the code the previous run compiled, lazily compiled functions
 *   included. Rewritten at exit when the run compiled a module it did not have.
 */
const crypto = require("node:crypto");
const fs = require("node:fs");
const Module = require("node:module");
const path = require("node:path");
const vm = require("node:vm");

const ROOT = path.resolve(__dirname, "..");
const CACHE = path.join(ROOT, "node_modules", ".cache", "mindroom-ts");

const hash = (...parts) => crypto.createHash("sha1").update(parts.join("\0")).digest("base64url");

/** Writes aside and renames, so a concurrent run never reads a half-written file. Best effort. */
function writeAtomically(file, data) {
  try {
    fs.mkdirSync(CACHE, { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, data);
    fs.renameSync(tmp, file);
  } catch {
    // A read-only checkout still runs; it just compiles again next time.
  }
}

// --- TypeScript: one cache file per source path, first line the hash of what it was built from.

const ESBUILD_DIR = path.dirname(require.resolve("esbuild/package.json", { paths: [path.dirname(require.resolve("tsx/package.json"))] }));
const OPTIONS = {
  loader: "ts",
  format: "cjs",
  platform: "node",
  target: `node${process.versions.node}`,
  keepNames: true,
  sourcemap: "inline",
  tsconfigRaw: fs.readFileSync(path.join(ROOT, "tsconfig.json"), "utf8"),
};
/** Everything besides the source that shapes the output. */
const SALT = JSON.stringify([require(path.join(ESBUILD_DIR, "package.json")).version, OPTIONS]);
let esbuild;

function transpiled(filename) {
  const source = fs.readFileSync(filename, "utf8");
  const stamp = `//${hash(SALT, source)}\n`;
  const file = path.join(CACHE, `${hash(filename)}.js`);
  try {
    const cached = fs.readFileSync(file, "utf8");
    if (cached.startsWith(stamp)) return cached.slice(stamp.length);
  } catch {
    // not cached yet
  }
  esbuild ??= require(ESBUILD_DIR);
  const code = esbuild.transformSync(source, { ...OPTIONS, sourcefile: filename }).code;
  writeAtomically(file, stamp + code);
  return code;
}

require.extensions[".ts"] = (module, filename) => module._compile(transpiled(filename), filename);

// --- V8 code cache: one file, an entry per module path with the hash of the source it is for.

const CODE_CACHE = path.join(CACHE, `v8-${process.version}-${process.arch}.bin`);
/** filename → { key, data } as read at start, then updated with what this run compiled. */
const entries = new Map();
/** filename → { key, script } compiled this run without a usable cache entry. */
const compiled = new Map();

try {
  const blob = fs.readFileSync(CODE_CACHE);
  const headerLength = blob.readUInt32LE(0);
  let offset = 4 + headerLength;
  for (const [filename, key, length] of JSON.parse(blob.subarray(4, offset).toString("utf8"))) {
    entries.set(filename, { key, data: blob.subarray(offset, offset + length) });
    offset += length;
  }
} catch {
  // no cache yet, or an unreadable one: this run compiles everything and writes it
}

/** The `require` Node gives a module (lib/internal/modules/helpers.js makeRequireFunction). */
function requireFunction(module) {
  const require = (id) => module.require(id);
  require.resolve = (request, options) => Module._resolveFilename(request, module, false, options);
  require.resolve.paths = (request) => Module._resolveLookupPaths(request, module);
  require.main = process.mainModule;
  require.extensions = Module._extensions;
  require.cache = Module._cache;
  return require;
}

const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename, format) {
  // Left to Node: ES modules, and sources a wrapped script cannot hold (a hashbang, import()).
  if (format === "module" || content.startsWith("#!") || /\bimport\s*\(/.test(content)) return compile.call(this, content, filename, format);
  const key = hash(content);
  const entry = entries.get(filename);
  const cachedData = entry?.key === key ? entry.data : undefined;
  let script;
  try {
    script = new vm.Script(Module.wrap(content), { filename, cachedData });
  } catch {
    return compile.call(this, content, filename, format); // a syntax error, or ESM syntax in a .js file: Node's call
  }
  if (!cachedData || script.cachedDataRejected) compiled.set(filename, { key, script });
  const wrapper = script.runInThisContext({ displayErrors: true });
  return Reflect.apply(wrapper, this.exports, [this.exports, requireFunction(this), this, filename, path.dirname(filename)]);
};

process.once("exit", () => {
  if (compiled.size === 0) return;
  // After the run, so the entries hold the functions V8 compiled lazily while it ran.
  for (const [filename, { key, script }] of compiled) entries.set(filename, { key, data: script.createCachedData() });
  // Every run reads the whole file: drop the entries of files that are gone (temporary entry points).
  for (const filename of entries.keys()) if (!fs.existsSync(filename)) entries.delete(filename);
  const header = Buffer.from(JSON.stringify([...entries].map(([filename, { key, data }]) => [filename, key, data.length])));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(header.length);
  writeAtomically(CODE_CACHE, Buffer.concat([length, header, ...[...entries.values()].map((e) => e.data)]));
});

// --- The entry runs as the main module, with the argv it would have under `tsx <entry.ts>`.

const [entry, ...args] = process.argv.slice(2);
if (!entry) {
  process.stderr.write("usage: node tools/run-ts.cjs <entry.ts> [args...]\n");
  process.exit(2);
}
process.argv = [process.argv[0], path.resolve(entry), ...args];
Module.runMain();
