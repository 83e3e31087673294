/**
 * The rules of the policy pack, each a pure function over plain Kubernetes objects, and their
 * `@pulumi/policy` handlers. `index.ts` hands `policies` to a `PolicyPack`; the tests call the same
 * rules over rendered objects (`violations`) and the handlers with hand-made arguments.
 */
import type { PolicyConfigSchema, ReportViolation, ResourceValidationArgs, ResourceValidationPolicy, StackValidationArgs, StackValidationPolicy } from "@pulumi/policy";
import { ingressTlsViolations } from "./ingress";
import { kubeObjectFromResource, ref, type KubeObject } from "./kube";
import { platformNetworkPolicyViolations } from "./platform";
import { baselineViolations, restrictedViolations } from "./pod-security";
import { secretLiteralViolations } from "./secrets";
import { customerLabelViolations, DEFAULT_TENANT_STORAGE_CLASSES, defaultTokenViolations, networkPolicyCoverageViolations, storageClassViolations, type StackViolation } from "./tenant";

/** Per-rule settings, as `pulumi preview --policy-pack-config <file>` passes them. */
export type RuleConfig = Record<string, unknown>;

export interface ResourceRule {
  name: string;
  description: string;
  check: (obj: KubeObject, config: RuleConfig) => string[];
  configSchema?: PolicyConfigSchema;
}

export interface StackRule {
  name: string;
  description: string;
  check: (objects: KubeObject[]) => StackViolation[];
}

export const RESOURCE_RULES: ResourceRule[] = [
  {
    name: "pod-security-baseline",
    description: "Pod templates meet Pod Security baseline: no privileged, host namespaces, hostPath, host ports, added capabilities beyond the baseline set, unsafe procMount, SELinux, AppArmor, seccomp or sysctls.",
    check: (obj) => baselineViolations(obj),
  },
  {
    name: "pod-security-restricted",
    description: "Pod templates meet the Pod Security restricted items the project meets (allowPrivilegeEscalation=false, seccomp RuntimeDefault, drop ALL, runAsNonRoot, no uid 0, restricted volume types), except the documented per-workload exceptions.",
    check: (obj) => restrictedViolations(obj),
  },
  {
    name: "no-secret-literals",
    description: "No container env var or argument holds a secret literal: key/secret/token/password values come from a Secret (valueFrom) or a mounted file.",
    check: (obj) => secretLiteralViolations(obj),
  },
  {
    name: "tenant-customer-label",
    description: "Objects in mindroom-instances (and their pod templates) carry the label customer, except the documented upstream-contract objects.",
    check: (obj) => customerLabelViolations(obj),
  },
  {
    name: "tenant-storage-class",
    description: "Tenant volume claims in mindroom-instances name an allowed storage class (default: hcloud-volumes).",
    check: (obj, config) => storageClassViolations(obj, storageClasses(config)),
    configSchema: {
      properties: {
        storageClasses: { type: "array", items: { type: "string" }, default: DEFAULT_TENANT_STORAGE_CLASSES },
      },
    },
  },
  {
    name: "tenant-no-default-token",
    description: "Tenant pods in mindroom-instances that run as ServiceAccount default set automountServiceAccountToken: false.",
    check: (obj) => defaultTokenViolations(obj),
  },
  {
    name: "ingress-tls",
    description: "Every Ingress lists each rule host in spec.tls with a certificate Secret.",
    check: (obj) => ingressTlsViolations(obj),
  },
];

export const STACK_RULES: StackRule[] = [
  {
    name: "tenant-network-policy",
    description: "Every tenant pod in mindroom-instances is selected by a NetworkPolicy of that namespace that governs its ingress.",
    check: (objects) => networkPolicyCoverageViolations(objects),
  },
  {
    name: "platform-network-policy",
    description: "Every pod in the platform namespace (where Deployment platform-backend lives) is selected by a NetworkPolicy of that namespace for ingress and for egress.",
    check: (objects) => platformNetworkPolicyViolations(objects),
  },
];

function storageClasses(config: RuleConfig): string[] {
  const v = config.storageClasses;
  return Array.isArray(v) && v.every((s) => typeof s === "string") ? (v as string[]) : DEFAULT_TENANT_STORAGE_CLASSES;
}

/** One finding of `violations`: the rule, the object and the message. */
export interface Finding {
  rule: string;
  object: string;
  message: string;
}

/** Every rule over `objects` (all of one stack or render), as the pack would report them. */
export function violations(objects: KubeObject[], config: Record<string, RuleConfig> = {}): Finding[] {
  const out: Finding[] = [];
  for (const obj of objects) {
    for (const rule of RESOURCE_RULES) {
      for (const message of rule.check(obj, config[rule.name] ?? {})) out.push({ rule: rule.name, object: ref(obj), message });
    }
  }
  for (const rule of STACK_RULES) {
    for (const v of rule.check(objects)) out.push({ rule: rule.name, object: ref(objects[v.index]), message: v.message });
  }
  return out;
}

/** The `@pulumi/policy` handler of a resource rule: Kubernetes objects only, everything else passes. */
export function resourcePolicy(rule: ResourceRule): ResourceValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    ...(rule.configSchema ? { configSchema: rule.configSchema } : {}),
    validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
      const obj = kubeObjectFromResource(args.type, args.props);
      if (!obj) return;
      const config = rule.configSchema ? args.getConfig<RuleConfig>() : {};
      for (const message of rule.check(obj, config)) reportViolation(message);
    },
  };
}

/** The `@pulumi/policy` handler of a stack rule: the stack's Kubernetes objects, each finding on its resource's URN. */
export function stackPolicy(rule: StackRule): StackValidationPolicy {
  return {
    name: rule.name,
    description: rule.description,
    enforcementLevel: "mandatory",
    validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
      const objects: KubeObject[] = [];
      const urns: string[] = [];
      for (const r of args.resources) {
        const obj = kubeObjectFromResource(r.type, r.props);
        if (!obj) continue;
        objects.push(obj);
        urns.push(r.urn);
      }
      for (const v of rule.check(objects)) reportViolation(v.message, urns[v.index]);
    },
  };
}

/** Every policy of the pack, mandatory. */
export const policies: (ResourceValidationPolicy | StackValidationPolicy)[] = [...RESOURCE_RULES.map(resourcePolicy), ...STACK_RULES.map(stackPolicy)];
