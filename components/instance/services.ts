/** ClusterIP Services `mindroom-{c}` (api 8765) and `synapse-{c}` (http 8008), spec §3. */
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, SKIP_AWAIT, type InstanceNames } from "./names";

type Service = k8s.types.input.core.v1.Service;

function service(name: string, app: "mindroom" | "synapse", port: number, portName: string, r: ResolvedInstance): Service {
  return {
    metadata: { name, namespace: NAMESPACE, labels: appLabels(app, r), annotations: SKIP_AWAIT },
    spec: { type: "ClusterIP", selector: appLabels(app, r), ports: [{ name: portName, port, targetPort: port }] },
  };
}

export const mindroomService = (r: ResolvedInstance, n: InstanceNames): Service => service(n.mindroom, "mindroom", 8765, "api", r);
export const synapseService = (r: ResolvedInstance, n: InstanceNames): Service => service(n.synapse, "synapse", 8008, "http", r);
