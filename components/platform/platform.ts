/**
 * `Platform`: the SaaS control plane (upstream chart `cluster/k8s/platform`, platform.md) plus the
 * Express provisioner's workload.
 *
 * Usage from the root stack (`stacks/main.ts`):
 *
 * ```ts
 * import { Platform, parsePlatformValues } from "../components/platform";
 * const values = {
 *   ...config.requireObject<Record<string, unknown>>("platform"),   // chart-compatible keys
 *   supabase: { url, anonKey, serviceKey: config.requireSecret("supabaseServiceKey") },
 *   provisioner: { enabled: true, apiKey: config.requireSecret("provisionerApiKey"),
 *                  pulumiConfigPassphrase: config.getSecret("tenantStacksPassphrase") ?? "" },  // "" → generated
 * };
 * const platform = new Platform("platform", parsePlatformValues(values), { providers: [k8sProvider], dependsOn: [instancesNs] });
 * ```
 *
 * Secret values may be plain strings or `pulumi.Output<string>`; they are wrapped with
 * `pulumi.secret` and land only in Kubernetes Secrets (and encrypted state). With
 * `platformSecrets.create=false` no secret value may be passed: the pods mount pre-created Secrets
 * `platformSecrets.name` (13 keys, platform.md §5) and `provisioner.secretName`
 * (`pulumi_config_passphrase`, the tenant stacks' own passphrase, never the platform stack's).
 *
 * The component never registers Namespace `mindroom-instances`; the caller creates it and passes
 * it in `opts.dependsOn`, which the component forwards to every child (Pulumi does not).
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { generateSecret } from "../../infra/generated-secrets";
import { podSecurityLabels } from "../../infra/pod-security";
import type { PlatformArgs } from "./args";
import { configMapData, platformSecretData } from "./config";
import { platformIngress, rootRedirectIngress } from "./ingress";
import { provisionerServiceMonitor, securityAlerts, serviceMonitor, type CustomObject } from "./monitoring";
import {
  BACKEND_NAME,
  CONFIG_MAP_NAME,
  FRONTEND_NAME,
  PROVISIONER_NAME,
  PROVISIONER_PORT,
  SERVICE_ACCOUNT_NAME,
  TENANT_RBAC_NAME,
  platformNamespace,
  workerAdmissionManagerName,
} from "./names";
import { acmeSolverPolicy, backendPolicy, defaultDenyPolicy, dnsPolicy, frontendPolicy, provisionerPolicy, type PlatformNetworkPolicy } from "./network-policy";
import { hasPreviousPassphrase, PASSPHRASE_KEY, PREVIOUS_PASSPHRASE_KEY, provisionerDataClaim, provisionerDeployment, provisionerService } from "./provisioner";
import { BACKEND_ROLE_RULES, TENANT_RBAC_RULES, WORKER_ADMISSION_RULES, clusterRole, clusterRoleBinding, role, roleBinding, serviceAccount } from "./rbac";
import { validatePlatformArgs } from "./validate";
import { backendDeployment, backendService, frontendDeployment, frontendService, hpa } from "./workloads";

/** Alphanumerics of a generated tenant-stacks passphrase: 48 × log2(62) ≈ 285 bits. */
const GENERATED_PASSPHRASE_LENGTH = 48;

export class Platform extends pulumi.ComponentResource {
  /** `mindroom-{environment}`. */
  public readonly namespace: pulumi.Output<string>;
  /** In-cluster URL of the backend (`http://platform-backend.<ns>.svc:8000`). */
  public readonly backendUrl: pulumi.Output<string>;
  /** In-cluster URL of the provisioner, when enabled. */
  public readonly provisionerUrl: pulumi.Output<string | undefined>;

  constructor(name: string, args: PlatformArgs, opts?: pulumi.ComponentResourceOptions) {
    // Before super(): an invalid configuration registers nothing, not even the component.
    validatePlatformArgs(args);
    super("mindroom:platform:Platform", name, {}, opts);

    const env = args.environment;
    const nsName = platformNamespace(env);
    const child = (extra?: pulumi.CustomResourceOptions): pulumi.CustomResourceOptions => ({ parent: this, ...extra });
    const id = (kubeName: string) => `${name}-${kubeName}`;

    // Children do not inherit the component's dependsOn (e.g. the caller's mindroom-instances
    // Namespace, cluster services): every child gets it, directly or through our Namespace.
    const afterCaller = () => child({ dependsOn: opts?.dependsOn });
    // Pod Security baseline enforced, restricted warned and audited (docs/platform.md).
    const ns = new k8s.core.v1.Namespace(id(nsName), { metadata: { name: nsName, labels: podSecurityLabels() } }, afterCaller());
    const inNs = (deps: pulumi.Resource[] = []) => child({ dependsOn: [ns, ...deps] });

    // Default deny, then each workload's peers (docs/platform.md, "NetworkPolicies").
    const netpol = (p: PlatformNetworkPolicy) => new k8s.networking.v1.NetworkPolicy(id(`networkpolicy-${p.metadata.name}`), p, inNs());
    [defaultDenyPolicy, dnsPolicy, acmeSolverPolicy, frontendPolicy, backendPolicy].forEach((build) => netpol(build(args)));

    const config = new k8s.core.v1.ConfigMap(id(CONFIG_MAP_NAME), { metadata: { name: CONFIG_MAP_NAME, namespace: nsName }, data: configMapData(args) }, inNs());
    const mounted: pulumi.Resource[] = [config];
    if (args.platformSecrets.create) {
      mounted.push(
        new k8s.core.v1.Secret(
          id(args.platformSecrets.name),
          { metadata: { name: args.platformSecrets.name, namespace: nsName }, type: "Opaque", stringData: pulumi.secret(platformSecretData(args)) },
          inNs(),
        ),
      );
    }

    new k8s.core.v1.ServiceAccount(id(`sa-${SERVICE_ACCOUNT_NAME}`), serviceAccount(env), inNs());
    new k8s.rbac.v1.Role(id(`role-${BACKEND_NAME}`), role(BACKEND_NAME, BACKEND_ROLE_RULES), afterCaller());
    new k8s.rbac.v1.RoleBinding(id(`rolebinding-${BACKEND_NAME}`), roleBinding(BACKEND_NAME, env), afterCaller());
    new k8s.rbac.v1.Role(id(`role-${TENANT_RBAC_NAME}`), role(TENANT_RBAC_NAME, TENANT_RBAC_RULES), afterCaller());
    new k8s.rbac.v1.RoleBinding(id(`rolebinding-${TENANT_RBAC_NAME}`), roleBinding(TENANT_RBAC_NAME, env), afterCaller());
    new k8s.rbac.v1.ClusterRole(id("namespace-manager"), clusterRole(env), afterCaller());
    new k8s.rbac.v1.ClusterRoleBinding(id("namespace-manager"), clusterRoleBinding(env), afterCaller());
    const admission = workerAdmissionManagerName(env);
    new k8s.rbac.v1.ClusterRole(id("worker-admission"), clusterRole(env, admission, WORKER_ADMISSION_RULES), afterCaller());
    new k8s.rbac.v1.ClusterRoleBinding(id("worker-admission"), clusterRoleBinding(env, admission), afterCaller());

    new k8s.apps.v1.Deployment(id(FRONTEND_NAME), frontendDeployment(args), inNs([config]));
    new k8s.core.v1.Service(id(FRONTEND_NAME), frontendService(args), inNs());
    new k8s.apps.v1.Deployment(id(BACKEND_NAME), backendDeployment(args), inNs(mounted));
    new k8s.core.v1.Service(id(BACKEND_NAME), backendService(args), inNs());
    if (args.autoscaling.enabled) {
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(id(`hpa-${FRONTEND_NAME}`), hpa(args, FRONTEND_NAME, args.autoscaling.frontend), inNs());
      new k8s.autoscaling.v2.HorizontalPodAutoscaler(id(`hpa-${BACKEND_NAME}`), hpa(args, BACKEND_NAME, args.autoscaling.backend), inNs());
    }

    new k8s.networking.v1.Ingress(id("platform-ingress"), platformIngress(args), inNs());
    if (args.apexRedirect.enabled) new k8s.networking.v1.Ingress(id("platform-root-redirect"), rootRedirectIngress(args), inNs());

    const monitor = (obj: CustomObject) => new k8s.apiextensions.CustomResource(id(`${obj.kind.toLowerCase()}-${obj.metadata.name}`), obj, inNs());
    if (args.monitoring.enabled) {
      monitor(serviceMonitor(args));
      monitor(securityAlerts(args));
    }

    if (args.provisioner.enabled) {
      const provisionerMounted = [...mounted];
      if (args.platformSecrets.create) {
        // The tenant stacks' own passphrase, never the platform stack's (docs/rekey.md). Unset, it is
        // generated in-process and the Secret keeps the first value from its state (ignoreChanges, as
        // the runtime's generated password): a later up never rotates it, which would lock every
        // tenant stack. A given value is applied as it changes (a move: docs/rekey.md).
        const given = args.provisioner.pulumiConfigPassphrase;
        const generated = typeof given === "string" && given === "";
        const passphrase = generated ? pulumi.secret(generateSecret(`${nsName}/${args.provisioner.secretName}:${PASSPHRASE_KEY}`, GENERATED_PASSPHRASE_LENGTH)) : given;
        const data: Record<string, pulumi.Input<string>> = { [PASSPHRASE_KEY]: passphrase };
        if (hasPreviousPassphrase(args)) data[PREVIOUS_PASSPHRASE_KEY] = args.provisioner.previousPulumiConfigPassphrase;
        provisionerMounted.push(
          new k8s.core.v1.Secret(
            id(args.provisioner.secretName),
            { metadata: { name: args.provisioner.secretName, namespace: nsName }, type: "Opaque", stringData: pulumi.secret(pulumi.all(data)) },
            generated ? { ...inNs(), ignoreChanges: ["data", "stringData"] } : inNs(),
          ),
        );
      }
      if (args.provisioner.storage.enabled) {
        // The claim holds every tenant stack's state with the file backend: a replaced or deleted
        // platform must not take it along.
        new k8s.core.v1.PersistentVolumeClaim(id("mindroom-provisioner-data"), provisionerDataClaim(args), child({ dependsOn: [ns], retainOnDelete: true }));
      }
      new k8s.apps.v1.Deployment(id(PROVISIONER_NAME), provisionerDeployment(args), inNs(provisionerMounted));
      new k8s.core.v1.Service(id(PROVISIONER_NAME), provisionerService(args), inNs());
      netpol(provisionerPolicy(args));
      if (args.monitoring.enabled) monitor(provisionerServiceMonitor(args));
    }

    this.namespace = ns.metadata.name;
    this.backendUrl = pulumi.output(`http://${BACKEND_NAME}.${nsName}.svc:8000`);
    this.provisionerUrl = pulumi.output(args.provisioner.enabled ? `http://${PROVISIONER_NAME}.${nsName}.svc:${PROVISIONER_PORT}` : undefined);
    this.registerOutputs({ namespace: this.namespace, backendUrl: this.backendUrl, provisionerUrl: this.provisionerUrl });
  }
}
