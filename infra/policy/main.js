// Entry of the policy pack for the Node.js policy host (`pulumi preview --policy-pack infra/policy`).
// The host's run-policy-pack requires this folder, so package.json's `main`; index.ts is loaded
// through tsx (a project dependency, as the root project's `--import tsx`), resolved from the repo's
// single node_modules: the pack has no dependencies of its own. Like tsx elsewhere, no type-check
// here; `npm run build` does that.
//
// tsx's hook is registered process-wide, not through its namespaced `require`: a namespace gets its
// own module cache, so @pulumi/pulumi's generated protobuf classes would load twice, and the
// analyzer's answers (GetPluginInfo's PluginInfo) would fail grpc-js's instanceof check
// ("Error serializing response").
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("tsx/cjs/api").register();
// eslint-disable-next-line @typescript-eslint/no-require-imports
require("./index.ts");
