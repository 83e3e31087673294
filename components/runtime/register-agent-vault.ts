/**
 * Registers the Agent Vault objects (spec/agent-vault.ts) under the runtime component, in the
 * order Helm's install and hooks gave them (docs/runtime.md, Agent Vault: Jobs and ordering):
 *
 * - the bootstrap Job after its RBAC and, with the in-cluster server, after the server Deployment
 *   and Service are ready (the provider waits for a rollout before dependents start);
 * - the access-grants Job (upstream a post-install/post-upgrade hook) after its ConfigMap, the
 *   server and the bootstrap Job, which publishes the admin token Secret the grants Job mounts.
 *
 * Jobs are immutable: any change to a Job's spec replaces it (delete first, the name is fixed),
 * which runs it again. The grants Job also reads its ConfigMap, so the grants' hash is its
 * replacement trigger: changing a grant re-applies the grants, as each Helm upgrade did.
 */
import * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import type { RuntimeNames } from "./names";
import type { RuntimeValues } from "./schema";
import { agentVaultAccessGrantsSpecs, agentVaultBootstrapSpecs, agentVaultServerSpecs } from "./spec/agent-vault";

/** A Job runs once per spec: a changed spec means a new run, never a patch (the API refuses one). */
export const JOB_OPTIONS: pulumi.CustomResourceOptions = { replaceOnChanges: ["spec"], deleteBeforeReplace: true };

export function registerAgentVault(name: string, v: RuntimeValues, n: RuntimeNames, parent: pulumi.CustomResourceOptions): void {
  const id = `${name}-agent-vault`;
  const server = agentVaultServerSpecs(v, n);
  const serverReady: pulumi.Resource[] = [];
  if (server) {
    if (server.claim) new k8s.core.v1.PersistentVolumeClaim(`${id}-data`, server.claim, parent);
    serverReady.push(new k8s.apps.v1.Deployment(id, server.deployment, parent), new k8s.core.v1.Service(id, server.service, parent));
  }

  const bootstrap = agentVaultBootstrapSpecs(v, n);
  let bootstrapJob: k8s.batch.v1.Job | undefined;
  if (bootstrap) {
    const rbac = [
      new k8s.core.v1.ServiceAccount(`${id}-bootstrap`, bootstrap.serviceAccount, parent),
      new k8s.rbac.v1.Role(`${id}-bootstrap`, bootstrap.role, parent),
      new k8s.rbac.v1.RoleBinding(`${id}-bootstrap`, bootstrap.roleBinding, parent),
    ];
    bootstrapJob = new k8s.batch.v1.Job(`${id}-bootstrap`, bootstrap.job, { ...parent, ...JOB_OPTIONS, dependsOn: [...rbac, ...serverReady] });
  }

  const grants = agentVaultAccessGrantsSpecs(v, n);
  if (grants) {
    const config = new k8s.core.v1.ConfigMap(`${id}-access-grants`, grants.configMap, parent);
    new k8s.batch.v1.Job(`${id}-access-grants`, grants.job, {
      ...parent,
      ...JOB_OPTIONS,
      replacementTrigger: grants.inputsHash,
      dependsOn: [config, ...serverReady, ...(bootstrapJob ? [bootstrapJob] : [])],
    });
  }
}
