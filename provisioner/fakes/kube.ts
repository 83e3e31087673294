/**
 * In-memory `TenantKube` for tests and benches: Deployments, Secrets, PVCs and Helm release records
 * of mindroom-instances as plain maps, every call recorded, and per-call failures injectable (`failOn`).
 */
import type { TenantKube } from "../ports";
import { tenantVolumes } from "../tenant-names";

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
    for (const name of [`mindroom-${id}`, `synapse-${id}`]) this.deployments.set(name, { replicas: 1, rolledOut: this.rolloutReady });
    const v = values as Record<string, unknown> & { matrixOidc?: { clientSecret?: string } };
    this.secrets.set(`mindroom-api-keys-${id}`, {
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

  /** What a tenant stack's `destroy` removes (Deviation 9): the Deployments; PVCs only with `deleteData`; never the Secret. */
  destroyTenant(id: string, deleteData: boolean): void {
    this.deployments.delete(`mindroom-${id}`);
    this.deployments.delete(`synapse-${id}`);
    if (deleteData) for (const pvc of tenantVolumes(id)) this.pvcs.delete(pvc);
  }

  /** Calls other than reads, for "the fakes saw nothing" assertions. */
  mutations(): string[] {
    return this.calls.filter((c) => /^(scale|restart|deletePvc|deleteHelmReleaseRecords):/.test(c));
  }
}
