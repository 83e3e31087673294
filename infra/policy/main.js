// Entry of the policy pack for the Node.js policy host (`pulumi preview --policy-pack infra/policy`).
// The host's run-policy-pack requires this folder, so package.json's `main`; index.ts is loaded
// with tsx (a project dependency, as the root project's `--import tsx`), resolved from the repo's
// single node_modules: the pack has no dependencies of its own. Like tsx elsewhere, no type-check
// here; `npm run build` does that.
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("tsx/cjs/api").require("./index.ts", __filename);
