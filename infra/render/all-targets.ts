/**
 * Every render target the project ships, loaded lazily so `render instance` does not import the
 * platform code. Each entry points at the component's own `render.ts`.
 */
import { registerTarget, type RenderTarget } from "./targets";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = (path: string) => (): RenderTarget => require(path).renderTarget as RenderTarget;

registerTarget("instance", load("../../components/instance/render"));
registerTarget("platform", load("../../components/platform/render"));
registerTarget("runtime", load("../../components/runtime/render"));
