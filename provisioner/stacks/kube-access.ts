/**
 * How a tenant stack reaches Kubernetes (design.md "The three things we run"): in-cluster
 * ServiceAccount when the provisioner runs in a pod, else the KUBECONFIG file's contents (a
 * developer machine), else the root stack's `kubeconfig` output through a StackReference.
 */
import { readFileSync } from "node:fs";
import type { TenantKubeAccess } from "../../stacks/tenant";
import type { Env } from "./environment";

export function resolveKubeAccess(env: Env, environment: string): TenantKubeAccess {
  if (env.KUBERNETES_SERVICE_HOST) return { mode: "in-cluster" };
  const kubeconfigPath = env.KUBECONFIG?.split(":").find((p) => p);
  if (kubeconfigPath) {
    try {
      return { mode: "kubeconfig", kubeconfig: readFileSync(kubeconfigPath, "utf8") };
    } catch (err) {
      throw new Error(
        `KUBECONFIG=${kubeconfigPath} is not readable (${(err as NodeJS.ErrnoException).code ?? "error"}): fix the path or unset it`,
      );
    }
  }
  return { mode: "stack-reference", stack: `organization/mindroom/${environment}`, output: "kubeconfig" };
}
