/**
 * `npm run --silent render -- platform -f values.yaml [-n mindroom-<env>]`: the platform chart's
 * objects. Values are parsed and validated here, eagerly, so invalid values print one line and no
 * YAML. The release name is ignored: every platform name is fixed by upstream.
 */
import type { RenderTarget } from "../../infra/render/targets";
import { Platform } from "./platform";
import { parsePlatformValues } from "./values";

export const renderTarget: RenderTarget = {
  description: "SaaS platform (upstream chart cluster/k8s/platform) plus the provisioner workload",
  program(values, options) {
    const args = parsePlatformValues(options.namespace === undefined ? values : { ...values, namespace: options.namespace });
    return () => {
      new Platform("platform", args);
    };
  },
};
