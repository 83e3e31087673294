/**
 * Rendering entry points shared by the CLI, tests and benchmarks. Targets come from whoever
 * registers them (`components/render-targets.ts` for the project's own): infra knows no component.
 */
import { getTarget } from "./targets";
import { kubeObjects, toYamlStream, type KubeObject } from "./manifests";
import { recordProgram, type Registration } from "./record";
import type { Values } from "../values/load";

export interface RenderOptions {
  showSecrets?: boolean;
  releaseName?: string;
  namespace?: string;
}

/** Runs a target's program under mocks and returns every registration. */
export async function renderRegistrations(target: string, values: Values, options: RenderOptions = {}): Promise<Registration[]> {
  const program = getTarget(target).program(values, options);
  return recordProgram(program);
}

/** The Kubernetes objects a target registers, secrets redacted unless `showSecrets`. */
export async function renderObjects(target: string, values: Values, options: RenderOptions = {}): Promise<KubeObject[]> {
  return kubeObjects(await renderRegistrations(target, values, options), options.showSecrets ?? false);
}

/** The same objects as a multi-document YAML stream. */
export async function renderYaml(target: string, values: Values, options: RenderOptions = {}): Promise<string> {
  return toYamlStream(await renderObjects(target, values, options));
}
