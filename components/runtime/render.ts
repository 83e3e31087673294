/**
 * `npm run --silent render -- runtime -f values.yaml [--release-name R] [-n NS]`: the objects a
 * runtime-only release registers. Release `mindroom-runtime` in `mindroom` unless the flags say otherwise.
 */
import type { RenderTarget } from "../../infra/render/targets";
import { MindroomRuntime } from "./index";
import { parseRuntimeValues } from "./values";

export const renderTarget: RenderTarget = {
  description: "MindRoom runtime only (upstream runtime chart, core surface)",
  program(values, { releaseName, namespace }) {
    const args = parseRuntimeValues(values, { name: releaseName, namespace });
    return () => new MindroomRuntime(args.releaseName as string, args);
  },
};
