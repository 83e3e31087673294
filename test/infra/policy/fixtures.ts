/** Small hand-made objects for the policy rule tests: each passes every rule until a test changes it. */
import type { KubeObject, Obj } from "../../../infra/policy/kube";

/** A Deployment that meets baseline and restricted, in `namespace`, labelled customer=42 and selected by `networkPolicy()`. */
export function deployment(overrides: { name?: string; namespace?: string; labels?: Record<string, string> } = {}): KubeObject & Obj {
  const labels = overrides.labels ?? { app: "web", customer: "42" };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: overrides.name ?? "web", namespace: overrides.namespace ?? "mindroom-instances", labels: { ...labels } },
    spec: {
      selector: { matchLabels: { ...labels } },
      template: {
        metadata: { labels: { ...labels } },
        spec: {
          automountServiceAccountToken: false,
          securityContext: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: "RuntimeDefault" } },
          initContainers: [{ name: "init", image: "busybox", securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } } }],
          containers: [
            {
              name: "app",
              image: "example/app:1",
              ports: [{ containerPort: 8080 }],
              env: [
                { name: "PORT", value: "8080" },
                { name: "API_KEY", valueFrom: { secretKeyRef: { name: "app", key: "api_key" } } },
                { name: "API_KEY_FILE", value: "/etc/secrets/api_key" },
              ],
              securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } },
              volumeMounts: [{ name: "data", mountPath: "/data" }],
            },
          ],
          volumes: [{ name: "data", persistentVolumeClaim: { claimName: "data" } }],
        },
      },
    },
  };
}

/** The pod spec of `deployment()`, to change in place. */
export const podSpec = (d: Obj): Obj => d.spec.template.spec;
/** Its main container. */
export const app = (d: Obj): Obj => podSpec(d).containers[0];

export function networkPolicy(podSelector: Obj = { matchLabels: { customer: "42" } }, policyTypes?: string[]): KubeObject {
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "NetworkPolicy",
    metadata: { name: "instance-traffic-controls-42", namespace: "mindroom-instances", labels: { customer: "42" } },
    spec: { podSelector, ...(policyTypes ? { policyTypes } : {}) },
  };
}

export function pvc(storageClassName?: string, namespace = "mindroom-instances"): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: "mindroom-storage-42", namespace, labels: { app: "mindroom", customer: "42" } },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } }, ...(storageClassName !== undefined ? { storageClassName } : {}) },
  };
}

export function ingress(spec: Obj): KubeObject {
  return { apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: { name: "42-ingress", namespace: "mindroom-instances" }, spec };
}

export const rule = (host: string) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix", backend: { service: { name: "web", port: { number: 80 } } } }] } });
