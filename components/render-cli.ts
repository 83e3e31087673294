/**
 * Entry point of `npm run --silent render -- <target> -f values.yaml …` (the command itself is
 * `infra/render/cli.ts`): the component side registers the targets, the renderer runs them.
 */
// First: keeps the SDK's Automation API and closure serializer from loading (see lazy-sdk.ts).
import "../infra/render/lazy-sdk";
import "./render-targets";
import { runRenderCli } from "../infra/render/cli";

runRenderCli(process.argv);
