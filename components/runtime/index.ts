/**
 * `MindroomRuntime`: the MindRoom runtime alone (upstream "runtime" chart, core surface), for a
 * cluster that already provides Matrix, ingress, model gateways and most Secrets.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generateSecret } from "../../infra/generated-secrets";
import { runtimeNames } from "./names";
import { apiNetworkPolicySpec, configMapSpec, pdbSpec, proxyTokenSecretSpec, serviceAccountSpec, serviceSpec, storageClaimSpec } from "./spec/core";
import { deploymentSpec } from "./spec/deployment";
import { postgresSpecs } from "./spec/postgres";
import { stateClaimSpec } from "./spec/state-storage";
import { workerSpecs } from "./spec/workers";
import type { MindroomRuntimeArgs } from "./args";
import { DEFAULT_NAMESPACE, parsedValuesOf, validateRelease, validateRuntimeValues } from "./values";
// approvedEgress, agentVault (issue 11)
import { registerAgentVault } from "./register-agent-vault";
import { registerApprovedEgress } from "./register-approved-egress";
import { validateAgentVaultRelease } from "./schema-agent-vault";

export type { MindroomRuntimeArgs } from "./args";
export type { RuntimeValues } from "./schema";
export { parseRuntimeValues } from "./values";

/**
 * Options of the chart PostgreSQL's auth Secret. A generated password changes on every run, so the
 * Secret then ignores changes to `data`/`stringData` (both: the provider stores `stringData` checked
 * into `data`), and Pulumi keeps the value in state, which the database was initialised with. A given
 * `auth.password` is applied as it changes.
 */
export function postgresSecretOptions(generatedPassword: boolean, parent: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions {
  return generatedPassword ? { ...parent, ignoreChanges: ["data", "stringData"] } : parent;
}

export class MindroomRuntime extends pulumi.ComponentResource {
  /** `{fullname}`: the Deployment, Service (and, by default, ServiceAccount) name. */
  public readonly fullname: string;
  /** Release namespace the runtime runs in. */
  public readonly namespace: string;
  /** Namespace of dedicated worker pods (equals `namespace` unless `workers.kubernetes.namespace`). */
  public readonly workerNamespace: string;
  /** In-cluster API address, `http://{fullname}.{namespace}.svc:{service.port}`. */
  public readonly apiUrl: string;
  /** PVC holding agent data (created or existing). */
  public readonly storageClaimName: string;

  /**
   * Validates everything first (one-line error naming the value and the fix), then registers the
   * objects. `args` are chart values; anything unset takes the chart default.
   */
  constructor(name: string, args: MindroomRuntimeArgs, opts?: pulumi.ComponentResourceOptions) {
    const { releaseName, namespace, ...values } = args;
    // Parsed args (the stack, the renderer) are already merged and validated: once is Helm's semantics.
    const v = parsedValuesOf(args) ?? validateRuntimeValues(values);
    validateRelease(releaseName || name, namespace || DEFAULT_NAMESPACE);
    validateAgentVaultRelease(v, namespace || DEFAULT_NAMESPACE); // agentVault: the squid-first rule needs the namespace
    const n = runtimeNames(v, releaseName || name, namespace || DEFAULT_NAMESPACE);
    super("mindroom:runtime:MindroomRuntime", name, {}, opts);
    const parent = { parent: this };

    this.fullname = n.fullname;
    this.namespace = n.namespace;
    this.workerNamespace = n.workerNamespace;
    this.apiUrl = `http://${n.fullname}.${n.namespace}.svc:${v.service.port}`;
    this.storageClaimName = n.storageClaimName;

    const sa = serviceAccountSpec(v, n);
    if (sa) new k8s.core.v1.ServiceAccount(`${name}-sa`, sa, parent);
    const cm = configMapSpec(v, n);
    if (cm) new k8s.core.v1.ConfigMap(`${name}-config`, cm, parent);
    const pvc = storageClaimSpec(v, n);
    if (pvc) new k8s.core.v1.PersistentVolumeClaim(`${name}-storage`, pvc, parent);
    const statePvc = stateClaimSpec(v, n);
    if (statePvc) new k8s.core.v1.PersistentVolumeClaim(`${name}-state`, statePvc, parent);
    const proxySecret = proxyTokenSecretSpec(v, n);
    if (proxySecret) new k8s.core.v1.Secret(`${name}-sandbox-proxy`, proxySecret, parent);

    const workers = workerSpecs(v, n);
    if (workers.serviceAccount) new k8s.core.v1.ServiceAccount(`${name}-worker`, workers.serviceAccount, parent);
    if (workers.authSecret) {
      // The runtime merge-patches per-worker tokens into this Secret; Pulumi must never prune them.
      new k8s.core.v1.Secret(`${name}-worker-auth`, workers.authSecret, { ...parent, ignoreChanges: ["data", "stringData"] });
    }
    if (workers.role) new k8s.rbac.v1.Role(`${name}-worker-manager`, workers.role, parent);
    if (workers.roleBinding) new k8s.rbac.v1.RoleBinding(`${name}-worker-manager`, workers.roleBinding, parent);
    if (workers.networkPolicy) new k8s.networking.v1.NetworkPolicy(`${name}-workers`, workers.networkPolicy, parent);

    const auth = v.eventCache.postgres.auth;
    let password: pulumi.Input<string> | undefined;
    const generatedPassword = n.postgres?.createsSecret === true && auth.password === "";
    if (n.postgres?.createsSecret) {
      // No root secret to derive from here: generated in-process, kept stable by the Secret's state below.
      password = generatedPassword ? pulumi.secret(generateSecret(`${n.namespace}/${n.postgres.secretName}:password`, 32)) : auth.password;
    }
    const pg = postgresSpecs(v, n, password);
    if (pg) {
      // With a generated password the engine keeps the Secret's data from its state (the value of the
      // first `up`, or the RandomPassword of older stacks): a fresh draw never reaches the cluster.
      if (pg.secret) new k8s.core.v1.Secret(`${name}-event-cache-postgres-auth`, pg.secret, postgresSecretOptions(generatedPassword, parent));
      new k8s.core.v1.Service(`${name}-event-cache-postgres`, pg.service, parent);
      new k8s.apps.v1.StatefulSet(`${name}-event-cache-postgres`, pg.statefulSet, parent);
      if (pg.networkPolicy) new k8s.networking.v1.NetworkPolicy(`${name}-event-cache-postgres`, pg.networkPolicy, parent);
    }

    const deployment = deploymentSpec(v, n);
    if (deployment.droppedExtraEnv.length > 0) {
      const list = deployment.droppedExtraEnv.map((d) => `${d.name} (${d.reason})`).join(", ");
      pulumi.log.warn(`workers.kubernetes.extraEnv: dropped ${list}; the worker runtime owns these (MINDROOM_SANDBOX_RUNNER_SUBPROCESS_TIMEOUT_SECONDS is the one sandbox setting allowed)`, this);
    }
    new k8s.apps.v1.Deployment(`${name}`, deployment.args, parent);
    new k8s.core.v1.Service(`${name}`, serviceSpec(v, n), parent);
    const pdb = pdbSpec(v, n);
    if (pdb) new k8s.policy.v1.PodDisruptionBudget(`${name}`, pdb, parent);
    const np = apiNetworkPolicySpec(v, n);
    if (np) new k8s.networking.v1.NetworkPolicy(`${name}`, np, parent);
    registerApprovedEgress(name, v, n, parent); // approvedEgress
    registerAgentVault(name, v, n, parent); // agentVault

    this.registerOutputs({
      fullname: this.fullname,
      namespace: this.namespace,
      workerNamespace: this.workerNamespace,
      apiUrl: this.apiUrl,
      storageClaimName: this.storageClaimName,
    });
  }
}
