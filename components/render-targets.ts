/**
 * The render targets the project ships, registered from the component side: `infra/render` knows
 * no component (layers point down). Each target loads on first use, so `render instance` never
 * imports the platform or runtime code (module loading is most of the command's time).
 */
import { registerTarget, type RenderTarget } from "../infra/render/targets";

type TargetModule = { renderTarget: RenderTarget };

/* eslint-disable @typescript-eslint/no-require-imports -- lazy on purpose, see above; typed by the module's own export */
registerTarget("instance", () => (require("./instance/render") as TargetModule).renderTarget);
registerTarget("platform", () => (require("./platform/render") as TargetModule).renderTarget);
registerTarget("runtime", () => (require("./runtime/render") as TargetModule).renderTarget);
/* eslint-enable @typescript-eslint/no-require-imports */
