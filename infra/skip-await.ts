/**
 * The kubernetes provider waits for each object it applies to become ready (a Deployment rolled
 * out, a Service with endpoints, an Ingress with an address), and there is no provider-wide switch
 * (pulumi-kubernetes #1421). This transformation opts every Kubernetes child of a component out,
 * with the per-object annotation `pulumi.com/skipAwait: "true"`.
 *
 * For clusters where pods can never run (an API server without kubelets, as in the engine tests)
 * or where readiness is checked after `pulumi up` by other means. It skips waiting only: nothing
 * reports a workload ready that is not.
 */
import * as pulumi from "@pulumi/pulumi";

export const SKIP_AWAIT_ANNOTATION = "pulumi.com/skipAwait";

export const skipAwaitTransformation: pulumi.ResourceTransformation = (args) => {
  if (!args.type.startsWith("kubernetes:") || args.type.startsWith("kubernetes:helm.sh/")) return undefined;
  const metadata = (args.props.metadata ?? {}) as Record<string, unknown>;
  const annotations = pulumi
    .output(metadata.annotations as pulumi.Input<Record<string, string>> | undefined)
    .apply((a) => ({ ...(a ?? {}), [SKIP_AWAIT_ANNOTATION]: "true" }));
  return { props: { ...args.props, metadata: { ...metadata, annotations } }, opts: args.opts };
};

/** Resource options for a component: `providerAwait: false` adds the transformation. */
export function awaitOptions(providerAwait: boolean | undefined): pulumi.ComponentResourceOptions {
  return providerAwait === false ? { transformations: [skipAwaitTransformation] } : {};
}
