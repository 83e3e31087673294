/**
 * `npm run --silent render -- instance -f values.yaml`: the real component under Pulumi's mock
 * runtime. Values are parsed eagerly, so invalid values fail with one line before anything runs.
 * Everything lands in `mindroom-instances` whatever `--namespace` says, as upstream hard-codes it.
 */
import { Provider } from "@pulumi/kubernetes/provider";
import type { RenderTarget } from "../../infra/render/targets";
import { MindroomInstance } from "./index";
import { parseInstanceValues } from "./values";

export const renderTarget: RenderTarget = {
  description: "one hosted tenant (upstream chart cluster/k8s/instance)",
  program(values) {
    const args = parseInstanceValues(values);
    return () => {
      const provider = new Provider("tenant", { enableServerSideApply: true });
      new MindroomInstance(`instance-${String(args.customer)}`, args, { providers: [provider] });
    };
  },
};
