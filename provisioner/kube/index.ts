/**
 * `TenantKube` over @kubernetes/client-node: the direct Kubernetes actions of spec §1.2 (scale,
 * rollout restart, rollout status, live Secret and PVC reads, PVC delete), the removal of Helm
 * release records after adoption (§6.11) and pod logs (fleet.md) in `mindroom-instances`.
 * Errors are one line (`KubeApiError`: verb, object, HTTP status, the API server's message), never
 * a response body dump, because callers put them into HTTP details.
 */
import * as k8s from "@kubernetes/client-node";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { PassThrough, type Readable } from "node:stream";
import { PodNotFound, type PodLogOptions, type PodLogStream, type TenantKube } from "../ports";

import { TENANT_NAMESPACE } from "../../infra/tenant-names";

/** The shared tenant namespace (fixed, created by the root stack). */
export { TENANT_NAMESPACE };

/** Field manager of the provisioner's own patches (scale, restart), visible in managedFields. */
export const FIELD_MANAGER = "mindroom-provisioner";

/** Secret type of Helm 3's release records (helm pkg/storage/driver/secrets.go). */
export const HELM_RELEASE_TYPE = "helm.sh/release.v1";

/** Label selector of a release's records: Helm 3's storage driver sets `owner=helm` and `name=<release>`. */
export const helmRecordSelector = (release: string) => `owner=helm,name=${release}`;

export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = "KubeApiError";
  }
}

/** A Secret value that is not strict base64 of UTF-8 text (spec §6.7 treats it as a 500). */
export class InvalidSecretData extends Error {
  constructor(
    readonly secret: string,
    readonly key: string,
  ) {
    super(`Secret ${secret} has an invalid ${key} value (not base64-encoded UTF-8)`);
    this.name = "InvalidSecretData";
  }
}

export interface TenantKubeOptions {
  /** Kubeconfig contents or path. Default: KUBECONFIG, ~/.kube/config, then the pod's ServiceAccount. */
  kubeconfig?: string;
  /** Default `mindroom-instances`; overridable for tests and non-standard installs. */
  namespace?: string;
}

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Strict base64 (canonical alphabet and padding) then fatal UTF-8; undefined when either fails. */
export function decodeStrict(value: string): string | undefined {
  if (!STRICT_BASE64.test(value)) return undefined;
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(Buffer.from(value, "base64"));
  } catch {
    return undefined;
  }
}

function statusOf(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

function reasonOf(err: unknown): string {
  if (err instanceof k8s.ApiException) {
    let body: unknown = err.body;
    if (typeof body === "string") {
      try {
        body = JSON.parse(body);
      } catch {
        // not a Status object
      }
    }
    const message = (body as { message?: unknown } | undefined)?.message;
    return `HTTP ${err.code}${typeof message === "string" ? `: ${message}` : ""}`;
  }
  return (err as Error)?.message?.split("\n")[0] ?? String(err);
}

/** A Deployment's `spec.selector` as a label selector string (`a=b,c in (d,e),!f`). */
export function selectorString(selector: k8s.V1LabelSelector | undefined): string {
  const parts = Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`);
  for (const e of selector?.matchExpressions ?? []) {
    if (e.operator === "In") parts.push(`${e.key} in (${(e.values ?? []).join(",")})`);
    else if (e.operator === "NotIn") parts.push(`${e.key} notin (${(e.values ?? []).join(",")})`);
    else if (e.operator === "Exists") parts.push(e.key);
    else if (e.operator === "DoesNotExist") parts.push(`!${e.key}`);
    else throw new KubeApiError(`unsupported label selector operator ${e.operator}`);
  }
  return parts.join(",");
}

const createdAt = (p: k8s.V1Pod) => new Date(p.metadata?.creationTimestamp ?? 0).getTime();

/** The pod logs are read from: the newest running, not terminating pod, else the newest at all. */
export function newestPod(pods: k8s.V1Pod[]): k8s.V1Pod | undefined {
  const newest = [...pods].sort((a, b) => createdAt(b) - createdAt(a) || (b.metadata?.name ?? "").localeCompare(a.metadata?.name ?? ""));
  return newest.find((p) => p.status?.phase === "Running" && !p.metadata?.deletionTimestamp) ?? newest[0];
}

/**
 * Why the kubelet would refuse this container's log, or undefined when it has one: the container
 * is not in the pod, or has neither run nor is running (the kubelet's own rule: a waiting container
 * with a terminated predecessor shows that one's log).
 */
export function notReadable(pod: k8s.V1Pod, container: string): string | undefined {
  const name = pod.metadata?.name ?? "";
  const spec = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])].map((c) => c.name);
  if (!spec.includes(container)) return `pod ${name} has no container ${container} (it has ${spec.join(", ")})`;
  const status = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].find((c) => c.name === container);
  if (status?.state?.running || status?.state?.terminated || status?.lastState?.terminated) return undefined;
  const why = status?.state?.waiting?.reason ?? `pod ${pod.status?.phase ?? "Pending"}`;
  return `container ${container} of pod ${name} has not started yet (${why})`;
}

function loadConfig(kubeconfig?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  if (!kubeconfig) {
    // loadFromDefault silently falls back to http://localhost:8080; say plainly that nothing was found instead.
    const found = process.env.KUBECONFIG || process.env.KUBERNETES_SERVICE_HOST || existsSync(join(homedir(), ".kube", "config"));
    if (!found) throw new Error("no Kubernetes credentials found (no KUBECONFIG, ~/.kube/config or in-cluster ServiceAccount)");
    kc.loadFromDefault();
  }
  else if (/\n|^\s*[{]/.test(kubeconfig)) kc.loadFromString(kubeconfig);
  else if (!existsSync(kubeconfig)) throw new Error(`kubeconfig ${kubeconfig} does not exist: pass the file's path or its contents`);
  else kc.loadFromFile(kubeconfig);
  return kc;
}

export function createTenantKube(options: TenantKubeOptions = {}): TenantKube {
  const kc = loadConfig(options.kubeconfig);
  const namespace = options.namespace ?? TENANT_NAMESPACE;
  const apps = kc.makeApiClient(k8s.AppsV1Api);
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const patchAs = (strategy: k8s.PatchStrategy) => k8s.setHeaderOptions("Content-Type", strategy);
  const logs = new k8s.Log(kc);

  async function call<T>(what: string, op: () => Promise<T>, missing?: () => T): Promise<T> {
    try {
      return await op();
    } catch (err) {
      if (missing && statusOf(err) === 404) return missing();
      throw new KubeApiError(`${what} failed: ${reasonOf(err)}`, statusOf(err));
    }
  }
  const readDeployment = (name: string) =>
    call(`reading deployment/${name}`, () => apps.readNamespacedDeployment({ name, namespace }), () => null);

  return {
    async deploymentExists(name) {
      // Upstream counts every read failure as "missing" (spec §4.2, §8); kept.
      return (await readDeployment(name).catch(() => null)) !== null;
    },

    async scale(name, replicas) {
      await call(`scaling deployment/${name}`, () =>
        apps.patchNamespacedDeploymentScale(
          { name, namespace, body: { spec: { replicas } }, fieldManager: FIELD_MANAGER },
          patchAs(k8s.PatchStrategy.MergePatch),
        ),
      );
    },

    async restart(name) {
      // What `kubectl rollout restart` does: a new pod-template annotation (RFC 3339, seconds).
      const restartedAt = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
      const body = { spec: { template: { metadata: { annotations: { "kubectl.kubernetes.io/restartedAt": restartedAt } } } } };
      await call(`restarting deployment/${name}`, () =>
        apps.patchNamespacedDeployment(
          { name, namespace, body, fieldManager: FIELD_MANAGER },
          patchAs(k8s.PatchStrategy.StrategicMergePatch),
        ),
      );
    },

    async isRolledOut(name) {
      // `kubectl rollout status` semantics (spec §6.12); any error means "not ready".
      const d = await readDeployment(name).catch(() => null);
      if (!d) return false;
      const status = d.status ?? {};
      if ((status.observedGeneration ?? 0) < (d.metadata?.generation ?? 0)) return false;
      const desired = d.spec?.replicas ?? 1;
      const updated = status.updatedReplicas ?? 0;
      return updated >= desired && (status.replicas ?? 0) <= updated && (status.availableReplicas ?? 0) >= updated;
    },

    async replicas(name) {
      const d = await readDeployment(name);
      return d ? (d.spec?.replicas ?? 0) : null;
    },

    async mindroomReplicas() {
      const { items } = await call("listing the MindRoom deployments", () => apps.listNamespacedDeployment({ namespace, labelSelector: "app=mindroom" }));
      return new Map(items.map((d) => [d.metadata?.name ?? "", d.spec?.replicas ?? 0]));
    },

    async readSecret(name) {
      const secret = await call(`reading secret/${name}`, () => core.readNamespacedSecret({ name, namespace }), () => null);
      if (!secret) return null;
      const out: Record<string, string> = {};
      for (const [key, value] of Object.entries(secret.data ?? {})) {
        const decoded = decodeStrict(value);
        if (decoded === undefined) throw new InvalidSecretData(name, key);
        out[key] = decoded;
      }
      return out;
    },

    async pvcStorageClass(name) {
      const pvc = await call(
        `reading persistentvolumeclaim/${name}`,
        () => core.readNamespacedPersistentVolumeClaim({ name, namespace }),
        () => null,
      );
      return pvc ? (pvc.spec?.storageClassName ?? "") : null;
    },

    async deletePvc(name) {
      await call(
        `deleting persistentvolumeclaim/${name}`,
        async () => void (await core.deleteNamespacedPersistentVolumeClaim({ name, namespace })),
        () => undefined,
      );
    },

    async deleteHelmReleaseRecords(release) {
      const list = await call(`listing Helm release records of ${release}`, () =>
        core.listNamespacedSecret({ namespace, labelSelector: helmRecordSelector(release), fieldSelector: `type=${HELM_RELEASE_TYPE}` }),
      );
      // The type is checked here too: a Secret that only borrows Helm's labels is not a release record.
      const records = list.items.filter((s) => s.type === HELM_RELEASE_TYPE && s.metadata?.name);
      const deleted: string[] = [];
      for (const record of records) {
        const name = record.metadata!.name!;
        // The uid precondition deletes exactly the record listed, not a Secret recreated under its name since.
        const uid = record.metadata?.uid;
        const gone = await call(
          `deleting secret/${name}`,
          async () => (await core.deleteNamespacedSecret({ name, namespace, body: uid ? { preconditions: { uid } } : undefined }), false),
          () => true,
        );
        if (!gone) deleted.push(name);
      }
      return deleted;
    },

    async podLogs(deployment, options) {
      const d = await readDeployment(deployment);
      if (!d) throw new PodNotFound(deployment, `deployment/${deployment} not found`);
      const labelSelector = selectorString(d.spec?.selector);
      // An empty selector would list every pod of the namespace: never read another tenant's log.
      if (!labelSelector) throw new KubeApiError(`deployment/${deployment} has an empty selector`);
      const { items } = await call(`listing pods of deployment/${deployment}`, () => core.listNamespacedPod({ namespace, labelSelector }));
      const pod = options.pod ? items.find((p) => p.metadata?.name === options.pod) : newestPod(items);
      if (!pod) {
        throw new PodNotFound(deployment, options.pod ? `pod ${options.pod} is not a pod of deployment/${deployment}` : `deployment/${deployment} has no pod`);
      }
      const why = notReadable(pod, options.container);
      if (why) throw new PodNotFound(deployment, why);
      return openLog(pod.metadata!.name!, options);
    },
  };

  async function openLog(pod: string, options: PodLogOptions): Promise<PodLogStream> {
    const what = `reading the log of pod/${pod} container ${options.container}`;
    const { signal } = options;
    if (signal?.aborted) throw new KubeApiError(`${what} failed: aborted`);
    const stream = new PassThrough();
    // `Log` pipes the response body into `stream` but leaves the body's errors unhandled (node-fetch
    // emits them on abort and on a broken connection): handle them here, or they crash the process.
    stream.once("pipe", (body: Readable) => {
      body.on("error", (err) => {
        if (signal?.aborted || stream.destroyed) stream.end();
        else stream.destroy(new KubeApiError(`${what} failed: ${reasonOf(err)}`));
      });
    });
    const controller = await call(what, () =>
      logs.log(namespace, pod, options.container, stream, { follow: options.follow ?? false, tailLines: options.tailLines, sinceSeconds: options.sinceSeconds }),
    );
    const stop = () => controller.abort();
    signal?.addEventListener("abort", stop, { once: true });
    stream.once("close", () => {
      signal?.removeEventListener("abort", stop);
      stop();
    });
    if (signal?.aborted) stop();
    return { pod, stream };
  }
}
