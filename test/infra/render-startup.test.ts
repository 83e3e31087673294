/**
 * What makes `npm run render` start fast must not change what runs: tools/run-ts.cjs (transpile
 * and V8 code caches checked against the source) and infra/render/lazy-sdk.ts (the SDK's unused
 * parts load on first use). Both run in child processes: this process has the SDK loaded already.
 */
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { DEFERRED } from "../../infra/render/lazy-sdk";

const ROOT = join(__dirname, "../..");
const node = (args: string[]) => spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", timeout: 60_000 });

describe("render start-up", function () {
  this.timeout(60_000);

  describe("tools/run-ts.cjs", () => {
    it("runs the entry as the main module with tsx's argv, __dirname the source's", () => {
      const dir = mkdtempSync(join(tmpdir(), "run-ts-"));
      const entry = join(dir, "entry.ts");
      writeFileSync(entry, "const n: number = 1;\nconsole.log(JSON.stringify([require.main === module, __dirname, process.argv.slice(1), n]));\n");
      const run = node(["tools/run-ts.cjs", entry, "a", "--b"]);
      expect(run.stderr).to.equal("");
      expect(JSON.parse(run.stdout)).to.deep.equal([true, dir, [entry, "a", "--b"], 1]);
    });

    it("an edited file runs its new code, even at the same length (both caches key on the source)", () => {
      const dir = mkdtempSync(join(tmpdir(), "run-ts-"));
      const entry = join(dir, "entry.ts");
      const outputs = ["aa", "bb", "aa"].map((word) => {
        writeFileSync(entry, `console.log("${word}" as string);\n`);
        return node(["tools/run-ts.cjs", entry]).stdout.trim();
      });
      expect(outputs).to.deep.equal(["aa", "bb", "aa"]);
    });
  });

  describe("infra/render/lazy-sdk.ts", () => {
    it("a render loads neither the Automation API, nor TypeScript, nor npm's arborist; they still load on use", () => {
      const probe = `
        require("./infra/render/lazy-sdk");
        const pulumi = require("@pulumi/pulumi");
        require("./components/instance/render");
        const loaded = (re) => Object.keys(require.cache).some((f) => re.test(f));
        // The stand-ins sit in the cache under the deferred modules' own names; what they load would not.
        const heavy = () => ({ automation: loaded(/@pulumi\\/pulumi\\/automation\\/localWorkspace/), closure: loaded(/runtime\\/closure\\/createClosure/), typescript: loaded(/node_modules\\/typescript\\//), arborist: loaded(/@npmcli\\/arborist/) });
        const before = heavy();
        const onUse = [typeof pulumi.automation.LocalWorkspace, typeof pulumi.runtime.serializeFunction, typeof pulumi.runtime.computeCodePaths];
        console.log(JSON.stringify({ before, onUse, automationAfter: heavy().automation }));`;
      const run = node(["--import", "tsx", "-e", probe]);
      expect(run.stderr).to.equal("");
      expect(JSON.parse(run.stdout)).to.deep.equal({
        before: { automation: false, closure: false, typescript: false, arborist: false },
        onUse: ["function", "function", "function"],
        automationAfter: true,
      });
    });

    it("forwards exactly the functions the installed SDK copies off the deferred modules while loading", () => {
      // runtime/index.js: `exports.serializeFunction = serializeClosure_1.serializeFunction;` and so on.
      const sdk = dirname(require.resolve("@pulumi/pulumi/package.json"));
      const index = readFileSync(join(sdk, "runtime/index.js"), "utf8");
      for (const { path, copiedAtLoad } of DEFERRED) {
        const base = path.split("/").pop()!.replace(/\.js$/, "");
        const copied = [...index.matchAll(new RegExp(`= ${base}_1\\.(\\w+);`, "g"))].map((m) => m[1]);
        expect(copied.sort(), path).to.deep.equal([...copiedAtLoad].sort());
      }
    });
  });
});
