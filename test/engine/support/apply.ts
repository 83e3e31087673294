/**
 * Rendered objects onto the test API server: the renderer CLI's YAML stream (read as YAML 1.1,
 * as Kubernetes reads it), server-side apply through client-node's KubernetesObjectApi, GETs.
 */
import * as k8s from "@kubernetes/client-node";
import { execFile } from "node:child_process";
import { join } from "node:path";
import { promisify } from "node:util";
import { parseAllDocuments } from "yaml";

const ROOT = join(__dirname, "../../..");
const run = promisify(execFile);

export type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> } } & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export const id = (o: Obj) => `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`;

/** `npm run render -- <target> -f … --show-secrets …`, parsed. Throws with the CLI's stderr line. */
export async function render(target: string, files: string[], args: string[] = []): Promise<Obj[]> {
  const argv = ["--import", "tsx", "components/render-cli.ts", target, ...files.flatMap((f) => ["-f", f]), "--show-secrets", ...args];
  const out = await run(process.execPath, argv, { cwd: ROOT, maxBuffer: 64 << 20 }).catch((err: { stderr?: string }) => {
    throw new Error(`render ${target} ${files.join(" ")}: ${err.stderr?.trim() || String(err)}`);
  });
  return parseAllDocuments(out.stdout, { version: "1.1" }).map((d) => d.toJS() as Obj);
}

/**
 * A KubernetesObjectApi whose PATCH sends `body` verbatim with fieldValidation=Strict: the
 * client's typed serializer would otherwise drop fields it does not know before the API server
 * could reject them, and the server's default (Warn) would drop unknown fields silently.
 */
function objectApi(kc: k8s.KubeConfig, body: string): k8s.KubernetesObjectApi {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const config = k8s.createConfiguration({
    baseServer: new k8s.ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [
      {
        pre: async (ctx) => {
          if (ctx.getHttpMethod() === k8s.HttpMethod.PATCH) {
            ctx.setBody(body);
            ctx.setQueryParam("fieldValidation", "Strict");
          }
          return ctx;
        },
        post: async (res) => res,
      },
    ],
  });
  return new k8s.KubernetesObjectApi(config);
}

/** Server-side apply (application/apply-patch+yaml, force) as `fieldManager`. */
export function apply(kc: k8s.KubeConfig, obj: Obj, fieldManager: string): Promise<Obj> {
  return objectApi(kc, JSON.stringify(obj)).patch(obj, undefined, undefined, fieldManager, true, k8s.PatchStrategy.ServerSideApply) as Promise<Obj>;
}

export function read(kc: k8s.KubeConfig, obj: Obj): Promise<Obj> {
  const ref = { apiVersion: obj.apiVersion, kind: obj.kind, metadata: { name: obj.metadata.name, namespace: obj.metadata.namespace } };
  return k8s.KubernetesObjectApi.makeApiClient(kc).read(ref) as Promise<Obj>;
}

/** HTTP status of a client-node error, if it is an API answer. */
export function statusOf(err: unknown): number | undefined {
  return err instanceof k8s.ApiException ? err.code : undefined;
}

/** One line: HTTP status and the API server's message (its Status object), or the error. */
export function reason(err: unknown): string {
  if (!(err instanceof k8s.ApiException)) return err instanceof Error ? err.message : String(err);
  let body: unknown = err.body;
  if (typeof body === "string") {
    try {
      body = JSON.parse(body);
    } catch {
      // not a Status object
    }
  }
  const message = (body as { message?: string } | undefined)?.message ?? String(body);
  return `HTTP ${err.code}: ${message}`;
}

/** Applies `objects` in order; returns one line per object the server rejected (empty: all applied). */
export async function applyAll(kc: k8s.KubeConfig, objects: Obj[], fieldManager: string): Promise<string[]> {
  const rejected: string[] = [];
  for (const o of objects) {
    try {
      await apply(kc, o, fieldManager);
    } catch (err) {
      rejected.push(`${id(o)}: ${reason(err)}`);
    }
  }
  return rejected;
}

/**
 * Deletes `objects` (missing ones are fine). Engine test files share one control plane: objects a
 * file applied into a namespace another file's stack also writes (the platform's RBAC in
 * mindroom-instances) must go, or that stack's server-side apply meets a foreign field manager.
 */
export async function removeAll(kc: k8s.KubeConfig, objects: Obj[]): Promise<void> {
  const api = k8s.KubernetesObjectApi.makeApiClient(kc);
  for (const o of objects) {
    const ref = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace } };
    await api.delete(ref).catch((err: unknown) => {
      if (statusOf(err) !== 404) throw err;
    });
  }
}
