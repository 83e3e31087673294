/**
 * What `npm run render -- <target>` can render. Each target parses chart-compatible values and
 * runs the real component program; the renderer adds nothing of its own to the objects.
 * A new target (platform, runtime) is one entry here.
 */
import type { Values } from "../values/load";

export interface RenderTarget {
  /** One line for `--help`. */
  description: string;
  /**
   * Validates `values` and returns the program that registers the objects. Must throw a one-line
   * error for invalid values before registering anything.
   */
  program(values: Values, options: { releaseName?: string; namespace?: string }): () => void;
}

const targets = new Map<string, () => RenderTarget>();

/** Registers a target; loaded lazily so `render instance` does not import the platform code. */
export function registerTarget(name: string, load: () => RenderTarget): void {
  targets.set(name, load);
}

export function targetNames(): string[] {
  return [...targets.keys()].sort();
}

export function getTarget(name: string): RenderTarget {
  const load = targets.get(name);
  if (!load) throw new Error(`unknown render target "${name}"; choose one of: ${targetNames().join(", ")}`);
  return load();
}
