/**
 * The tenant program: one stack per tenant (project `mindroom-tenant`), run by the provisioner
 * through the Automation API as an inline program. Values are the upstream instance chart's,
 * secrets included; they reach the program through its closure, never through stack config.
 */
import * as pulumi from "@pulumi/pulumi";
import * as k8s from "@pulumi/kubernetes";
import { MindroomInstance, type MindroomInstanceArgs } from "../components/instance";
import { parseInstanceValues } from "../components/instance/values";
import { ValuesError } from "../infra/values/errors";

export type TenantKubeAccess =
  | { mode: "in-cluster" }
  | { mode: "kubeconfig"; kubeconfig: string }
  | { mode: "stack-reference"; stack: string; output?: string /* default "kubeconfig" */ };

/**
 * Project settings for tenant objects (spec pulumi.md §5.1): server-side apply; ConfigMaps and
 * Secrets updated in place as Helm did; patch-force so a re-provision wins `replicas` back after a
 * stop (the pinned provider ignores `enablePatchForce` and reads PULUMI_K8S_ENABLE_PATCH_FORCE,
 * which the provisioner sets: provisioner/stacks/index.ts); upsert so kept PVCs/Secrets and
 * Helm-era tenants are adopted, not rejected.
 */
const TENANT_PROVIDER_SETTINGS = {
  enableServerSideApply: true,
  enableConfigMapMutable: true,
  enableSecretMutable: true,
  enablePatchForce: true,
  upsertExistingObjects: true,
} as const;

const SA_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/**
 * The pod's own ServiceAccount as an explicit kubeconfig. `tokenFile` (not the token) keeps the
 * rotating projected token out of state and lets client-go re-read it; being explicit means a
 * stray KUBECONFIG or ~/.kube/config can never point a tenant at another cluster.
 */
function inClusterKubeconfig(): string {
  const host = process.env.KUBERNETES_SERVICE_HOST;
  const port = process.env.KUBERNETES_SERVICE_PORT ?? "443";
  if (!host) {
    throw new ValuesError("kube access in-cluster: KUBERNETES_SERVICE_HOST is not set, so this process is not running in a pod; run the provisioner in the cluster or use kubeconfig / stack-reference access");
  }
  const server = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "in-cluster", cluster: { server, "certificate-authority": `${SA_DIR}/ca.crt` } }],
    users: [{ name: "service-account", user: { tokenFile: `${SA_DIR}/token` } }],
    contexts: [{ name: "in-cluster", context: { cluster: "in-cluster", user: "service-account" } }],
    "current-context": "in-cluster",
  });
}

/** The tenant's Kubernetes provider with the project settings of spec pulumi.md §5.1. Call inside a program. */
export function tenantProvider(access: TenantKubeAccess): k8s.Provider {
  switch (access.mode) {
    case "in-cluster":
      return new k8s.Provider("tenant", { ...TENANT_PROVIDER_SETTINGS, kubeconfig: inClusterKubeconfig() });
    case "kubeconfig":
      return new k8s.Provider("tenant", { ...TENANT_PROVIDER_SETTINGS, kubeconfig: pulumi.secret(access.kubeconfig) });
    case "stack-reference": {
      const cluster = new pulumi.StackReference("cluster", { name: access.stack });
      const kubeconfig = cluster.requireOutput(access.output ?? "kubeconfig") as pulumi.Output<string>;
      return new k8s.Provider("tenant", { ...TENANT_PROVIDER_SETTINGS, kubeconfig: pulumi.secret(kubeconfig) });
    }
  }
}

export interface TenantProgramOptions {
  kube: TenantKubeAccess;
  /** Deviation 9; default true: destroying the stack keeps both PVCs (and their volumes). */
  retainData?: boolean;
}

function checkKubeAccess(kube: TenantKubeAccess): void {
  if (kube.mode === "in-cluster") inClusterKubeconfig();
  else if (kube.mode === "kubeconfig" && kube.kubeconfig.trim() === "") {
    throw new ValuesError("kube access kubeconfig: the kubeconfig is empty; pass the cluster's kubeconfig contents");
  } else if (kube.mode === "stack-reference" && kube.stack.trim() === "") {
    throw new ValuesError("kube access stack-reference: no stack named; pass the cluster stack, e.g. organization/mindroom/staging");
  }
}

/** The component args a tenant stack runs with: parsed values plus the stack's own options. */
export function tenantInstanceArgs(values: Record<string, unknown>, options: Pick<TenantProgramOptions, "retainData">): MindroomInstanceArgs {
  return { ...parseInstanceValues(values), retainData: options.retainData ?? true };
}

/**
 * Validates `values` and the kube access NOW (throws a one-line ValuesError) and returns the
 * inline program for LocalWorkspace. Outputs: customer, namespace, urls, secretName, volumes, deployments.
 */
export function tenantProgram(values: Record<string, unknown>, options: TenantProgramOptions): () => Promise<Record<string, unknown>> {
  const args = tenantInstanceArgs(values, options);
  checkKubeAccess(options.kube);
  return async () => {
    const provider = tenantProvider(options.kube);
    // Logical name = upstream's Helm release name, so URNs read like the release they replace.
    const tenant = new MindroomInstance(`instance-${String(args.customer)}`, args, { providers: [provider] });
    return {
      customer: tenant.customer,
      namespace: tenant.namespace,
      urls: tenant.urls,
      secretName: tenant.secretName,
      volumes: tenant.volumes,
      deployments: tenant.deployments,
    };
  };
}
