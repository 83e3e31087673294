/**
 * In-memory `TenantKube` for tests and benches: Deployments, their pods and logs, Secrets, PVCs and
 * Helm release records of mindroom-instances as plain maps, every call recorded, and per-call failures injectable (`failOn`).
 */
import { PassThrough } from "node:stream";
import { PodNotFound, type PodLogOptions, type PodLogStream, type TenantKube } from "../ports";
import { tenantObjectNames, tenantVolumes } from "../../infra/tenant-names";

export interface FakeDeployment {
  replicas: number;
  rolledOut: boolean;
  restartedAt?: string;
}

/** Labels and type of a Secret that may be a Helm release record. */
export interface FakeLabelledSecret {
  labels: Record<string, string>;
  type: string;
}

/** A pod of a fake Deployment: its containers' logs so far, and whether it runs. */
export interface FakePod {
  deployment: string;
  /** Container name → log text so far (a container not listed is not in the pod). */
  logs: Record<string, string>;
  running: boolean;
  /** Newer pods win, as in the adapter. */
  createdAt: number;
}

/** One `podLogs` call as the fake saw it (no signal), and the stream it handed out. */
export interface FakeLogRequest {
  deployment: string;
  pod: string;
  container: string;
  tailLines?: number;
  sinceSeconds?: number;
  follow: boolean;
  stream: PassThrough;
  /** Set when the caller's signal aborted or the stream was destroyed: the "upstream" request ended. */
  aborted: boolean;
}

let podSerial = 0;

export class FakeTenantKube implements TenantKube {
  readonly deployments = new Map<string, FakeDeployment>();
  readonly secrets = new Map<string, Record<string, string>>();
  /** Secrets by name with their labels and type: Helm's release records and look-alikes. */
  readonly labelledSecrets = new Map<string, FakeLabelledSecret>();
  readonly pvcs = new Map<string, string>();
  readonly calls: string[] = [];
  /** `"<method>:<name>"` → error thrown by that call. */
  readonly failOn = new Map<string, Error>();
  /** Whether Deployments created by the stacks fake report rolled out. */
  rolloutReady = true;
  /** Pods by name; `applyTenant` adds one per Deployment, scaling to 0 removes them. */
  readonly pods = new Map<string, FakePod>();
  /** Every `podLogs` call that opened a stream, oldest first. */
  readonly logRequests: FakeLogRequest[] = [];

  private check(method: string, name: string): void {
    this.calls.push(`${method}:${name}`);
    const err = this.failOn.get(`${method}:${name}`);
    if (err) throw err;
  }

  async deploymentExists(name: string): Promise<boolean> {
    this.check("deploymentExists", name);
    return this.deployments.has(name);
  }

  async scale(name: string, replicas: number): Promise<void> {
    this.check("scale", name);
    const d = this.deployments.get(name);
    if (!d) throw new Error(`deployments.apps "${name}" not found`);
    d.replicas = replicas;
    if (replicas === 0) for (const [pod, p] of this.pods) if (p.deployment === name) this.pods.delete(pod);
    if (replicas > 0 && ![...this.pods.values()].some((p) => p.deployment === name)) this.addPod(name);
  }

  async restart(name: string): Promise<void> {
    this.check("restart", name);
    const d = this.deployments.get(name);
    if (!d) throw new Error(`deployments.apps "${name}" not found`);
    d.restartedAt = new Date().toISOString();
  }

  async isRolledOut(name: string): Promise<boolean> {
    this.check("isRolledOut", name);
    return this.deployments.get(name)?.rolledOut ?? false;
  }

  async mindroomReplicas(): Promise<Map<string, number>> {
    this.check("mindroomReplicas", "*");
    return new Map([...this.deployments].filter(([name]) => name.startsWith("mindroom-")).map(([name, d]) => [name, d.replicas]));
  }

  async replicas(name: string): Promise<number | null> {
    this.check("replicas", name);
    return this.deployments.get(name)?.replicas ?? null;
  }

  async readSecret(name: string): Promise<Record<string, string> | null> {
    this.check("readSecret", name);
    const data = this.secrets.get(name);
    return data ? { ...data } : null;
  }

  async pvcStorageClass(name: string): Promise<string | null> {
    this.check("pvcStorageClass", name);
    return this.pvcs.has(name) ? this.pvcs.get(name)! : null;
  }

  async deletePvc(name: string): Promise<void> {
    this.check("deletePvc", name);
    this.pvcs.delete(name);
  }

  async deleteHelmReleaseRecords(release: string): Promise<string[]> {
    this.check("deleteHelmReleaseRecords", release);
    const deleted: string[] = [];
    for (const [name, s] of this.labelledSecrets) {
      if (s.labels.owner === "helm" && s.labels.name === release && s.type === "helm.sh/release.v1") {
        this.labelledSecrets.delete(name);
        deleted.push(name);
      }
    }
    return deleted;
  }

  async podLogs(deployment: string, options: PodLogOptions): Promise<PodLogStream> {
    this.check("podLogs", deployment);
    if (!this.deployments.has(deployment)) throw new PodNotFound(deployment, `deployment/${deployment} not found`);
    const mine = [...this.pods].filter(([, p]) => p.deployment === deployment).sort(([, a], [, b]) => b.createdAt - a.createdAt);
    const found = options.pod ? mine.find(([name]) => name === options.pod) : (mine.find(([, p]) => p.running) ?? mine[0]);
    if (!found) throw new PodNotFound(deployment, options.pod ? `pod ${options.pod} is not a pod of deployment/${deployment}` : `deployment/${deployment} has no pod`);
    const [pod, p] = found;
    const text = p.logs[options.container];
    if (text === undefined) throw new PodNotFound(deployment, `pod ${pod} has no container ${options.container} (it has ${Object.keys(p.logs).join(", ")})`);
    const stream = new PassThrough();
    const request: FakeLogRequest = { deployment, pod, container: options.container, tailLines: options.tailLines, sinceSeconds: options.sinceSeconds, follow: options.follow ?? false, stream, aborted: false };
    this.logRequests.push(request);
    const stop = () => {
      if (stream.writableEnded) return;
      request.aborted = true;
      stream.end();
    };
    if (options.signal?.aborted) stop();
    options.signal?.addEventListener("abort", stop, { once: true });
    stream.once("close", () => {
      if (!stream.writableFinished) request.aborted = true;
    });
    const lines = text.split(/(?<=\n)/).filter(Boolean);
    stream.write(lines.slice(options.tailLines ? -options.tailLines : 0).join(""));
    if (!request.follow) stream.end();
    return { pod, stream };
  }

  /** Adds a running pod to a Deployment (default containers by its name) and returns its name. */
  addPod(deployment: string, opts: { logs?: Record<string, string>; running?: boolean; name?: string } = {}): string {
    const serial = ++podSerial;
    const name = opts.name ?? `${deployment}-${serial.toString(36).padStart(5, "0")}`;
    const logs = opts.logs ?? (deployment.startsWith("synapse-") ? { synapse: "" } : { "wait-for-synapse": "", mindroom: "" });
    this.pods.set(name, { deployment, logs, running: opts.running ?? true, createdAt: serial });
    return name;
  }

  /** The open (following) log stream of a pod's container: write to it, `end()` it as the container stopping would. */
  following(pod: string, container: string): FakeLogRequest | undefined {
    return [...this.logRequests].reverse().find((r) => r.pod === pod && r.container === container && r.follow && !r.stream.writableEnded);
  }

  /** What `helm install` then `helm upgrade`s leave: records `sh.helm.release.v1.<release>.v1…v<revisions>`. */
  addHelmRelease(release: string, revisions = 1): string[] {
    const names: string[] = [];
    for (let v = 1; v <= revisions; v++) {
      const name = `sh.helm.release.v1.${release}.v${v}`;
      this.labelledSecrets.set(name, { labels: { owner: "helm", name: release, status: v === revisions ? "deployed" : "superseded", version: String(v) }, type: "helm.sh/release.v1" });
      names.push(name);
    }
    return names;
  }

  /** Helm release record names still present. */
  helmRecords(): string[] {
    return [...this.labelledSecrets].filter(([, s]) => s.type === "helm.sh/release.v1").map(([name]) => name);
  }

  /**
   * What a tenant stack's `up` leaves in the cluster: both Deployments, the tenant Secret from the
   * values' secret keys, and the PVCs (an existing PVC keeps its class, as a bound claim does).
   */
  applyTenant(id: string, values: Record<string, unknown>): void {
    const n = tenantObjectNames(id);
    // A stopped tenant (values `stopped: true`) is rendered at 0 replicas: no pods.
    const replicas = values.stopped === true ? 0 : 1;
    for (const name of [n.mindroom, n.synapse]) {
      this.deployments.set(name, { replicas, rolledOut: this.rolloutReady });
      if (replicas > 0 && ![...this.pods.values()].some((p) => p.deployment === name)) this.addPod(name);
    }
    const v = values as Record<string, unknown> & { matrixOidc?: { clientSecret?: string } };
    this.secrets.set(n.apiKeysSecret, {
      openai_key: String(v.openai_key ?? ""),
      anthropic_key: String(v.anthropic_key ?? ""),
      google_key: String(v.google_key ?? ""),
      deepseek_key: String(v.deepseek_key ?? ""),
      openrouter_key: String(v.openrouter_key ?? ""),
      supabase_service_key: String(v.supabaseServiceKey ?? ""),
      sandbox_proxy_token: String(v.sandbox_proxy_token ?? ""),
      credentials_encryption_key: String(v.credentials_encryption_key ?? ""),
      matrix_oidc_client_secret: String(v.matrixOidc?.clientSecret ?? ""),
      matrix_registration_shared_secret: String(v.matrixRegistrationSharedSecret ?? ""),
    });
    const cls = typeof v.storageClassName === "string" ? v.storageClassName : "hcloud-volumes";
    for (const pvc of tenantVolumes(id)) if (!this.pvcs.has(pvc)) this.pvcs.set(pvc, cls);
  }

  /** What a tenant stack's `destroy` removes (Deviation 9): the Deployments; never the PVCs or the Secret. */
  destroyTenant(id: string): void {
    const n = tenantObjectNames(id);
    this.deployments.delete(n.mindroom);
    this.deployments.delete(n.synapse);
    for (const [pod, p] of this.pods) if (p.deployment === n.mindroom || p.deployment === n.synapse) this.pods.delete(pod);
  }

  /** Calls other than reads, for "the fakes saw nothing" assertions. */
  mutations(): string[] {
    return this.calls.filter((c) => /^(scale|restart|deletePvc|deleteHelmReleaseRecords):/.test(c));
  }
}
