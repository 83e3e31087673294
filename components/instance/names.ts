/**
 * Object names and labels of one tenant. Names are a contract: the provisioner, Ingress backends,
 * DNS and Helm-era objects (adoption) all address them, so they are exactly upstream's, built
 * from the customer id's string form (Deviation 1).
 */
import { tenantObjectNames } from "../../infra/tenant-names";
import type { ResolvedInstance } from "./resolve";

export interface InstanceNames {
  networkPolicy: string;
  apiKeysSecret: string;
  workerAuthSecret: string;
  workerManager: string;
  mindroomConfig: string;
  synapseConfig: string;
  /** Project object (issue 9): the Synapse secrets that upstream inlined in `synapse-config-{c}`. */
  synapseSecrets: string;
  mindroomStorage: string;
  synapseStorage: string;
  mindroom: string;
  synapse: string;
  ingress: string;
  tlsSecret: string;
  hosts: { frontend: string; api: string; matrix: string };
  matrixServerName: string;
}

export function instanceNames(r: ResolvedInstance): InstanceNames {
  const c = r.customer;
  const bd = r.baseDomain;
  const tenant = tenantObjectNames(c);
  return {
    networkPolicy: `instance-traffic-controls-${c}`,
    apiKeysSecret: r.instanceSecrets.name,
    workerAuthSecret: `mindroom-worker-auth-${c}`,
    workerManager: `mindroom-worker-manager-${c}`,
    mindroomConfig: `mindroom-config-${c}`,
    synapseConfig: `synapse-config-${c}`,
    synapseSecrets: `synapse-secrets-${c}`,
    mindroomStorage: tenant.mindroomStorage,
    synapseStorage: tenant.synapseStorage,
    mindroom: tenant.mindroom,
    synapse: tenant.synapse,
    ingress: `${c}-ingress`,
    tlsSecret: `mindroom-${c}-tls`,
    hosts: { frontend: `${c}.${bd}`, api: `${c}.api.${bd}`, matrix: `${c}.matrix.${bd}` },
    matrixServerName: `${c}.${bd}`,
  };
}

/** `app={app}`, `customer={c}`: the selector and label pair of the tenant's workloads. */
export function appLabels(app: "mindroom" | "synapse", r: ResolvedInstance): Record<string, string> {
  return { app, customer: r.customer };
}

/** Tooling metadata only: the provisioner observes readiness itself, as upstream did after Helm. */
export const SKIP_AWAIT = { "pulumi.com/skipAwait": "true" } as const;
