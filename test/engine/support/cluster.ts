/**
 * A real control plane for the engine tests: etcd and kube-apiserver from tools/engine, on
 * 127.0.0.1 only, random free ports, everything in one temp dir that stop() removes.
 *
 * RBAC is enforced (--authorization-mode=RBAC); the admin is a static token in system:masters.
 * No kube-controller-manager runs, so: --enable-garbage-collector=false (the kubernetes provider
 * deletes with propagationPolicy Foreground and waits until the object is gone; with the GC
 * flag on, the apiserver would add the foregroundDeletion finalizer that only the controller
 * manager's GC removes), the StorageObjectInUseProtection admission plugin is off (its
 * pvc-protection finalizer is removed by a controller too; no pods run here) and namespaces are
 * finalized by ./namespaces.ts. Creates that wait on controllers (Deployment rollout, PVC Bound,
 * Service endpoints, Ingress address) never complete here; give such objects pulumi.com/skipAwait.
 */
import { KubeConfig } from "@kubernetes/client-node";
import type { ChildProcess } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { apiRequest, type ApiTarget } from "./api";
import { engineBinary } from "./engine";
import { startNamespaceFinalizer } from "./namespaces";
import { etcdHealthy, freePort, spawnLogged, stopChild, tail, waitUntil } from "./process";

export interface Cluster {
  server: string;
  /** The admin's bearer token (group system:masters). */
  token: string;
  /** PEM of the serving certificate's CA (the apiserver's self-signed pair in --cert-dir). */
  ca: string;
  kubeconfigPath: string;
  kubeconfig: string;
  dir: string;
  /** Milliseconds from spawning etcd to /readyz answering ok. */
  startMs: number;
  pids: { etcd: number; apiserver: number };
  /** A client-node KubeConfig: the admin's, or one that authenticates with `token`. */
  kubeConfig(token?: string): KubeConfig;
  /** A bound token for a ServiceAccount (TokenRequest: create serviceaccounts/token). */
  serviceAccountToken(namespace: string, name: string, expirationSeconds?: number): Promise<string>;
  /** The last `lines` lines of the apiserver's log. */
  apiserverLog(lines?: number): string;
  stop(): Promise<void>;
}

const live = new Set<{ children: ChildProcess[]; dir: string }>();
let exitHooked = false;

/** Children die with the test process, however it ends (short of SIGKILL). */
function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on("exit", () => {
    for (const c of live) {
      for (const child of c.children) child.kill("SIGKILL");
      rmSync(c.dir, { recursive: true, force: true });
    }
  });
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.once(sig, () => process.exit(sig === "SIGINT" ? 130 : 143));
}

function writeKubeconfig(dir: string, server: string, ca: string, token: string): { path: string; text: string } {
  const text = stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "engine", cluster: { server, "certificate-authority-data": Buffer.from(ca).toString("base64") } }],
    users: [{ name: "admin", user: { token } }],
    contexts: [{ name: "engine", context: { cluster: "engine", user: "admin" } }],
    "current-context": "engine",
  });
  const path = join(dir, "kubeconfig");
  writeFileSync(path, text, { mode: 0o600 });
  return { path, text };
}

export interface ClusterOptions {
  /** More kube-apiserver flags, given the cluster's temp dir (for files the flags name). */
  apiserverArgs?: (dir: string) => string[];
}

export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const etcdBin = engineBinary("etcd");
  const apiserverBin = engineBinary("kube-apiserver");
  hookExit();
  const started = Date.now();
  const dir = mkdtempSync(join(tmpdir(), "mindroom-engine-"));
  const entry = { children: [] as ChildProcess[], dir };
  live.add(entry);
  try {
    const [etcdPort, peerPort, apiPort] = [await freePort(), await freePort(), await freePort()];
    const etcdLog = join(dir, "etcd.log");
    const client = `http://127.0.0.1:${etcdPort}`;
    const peer = `http://127.0.0.1:${peerPort}`;
    const etcd = spawnLogged(etcdBin, [
      "--name=engine", `--data-dir=${join(dir, "etcd")}`, "--log-level=warn", "--unsafe-no-fsync",
      `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=engine=${peer}`,
    ], etcdLog);
    entry.children.push(etcd);
    await waitUntil("etcd", etcd, etcdLog, 30_000, () => etcdHealthy(etcdPort));

    const token = randomBytes(24).toString("hex");
    writeFileSync(join(dir, "tokens.csv"), `${token},admin,admin,system:masters\n`, { mode: 0o600 });
    const sa = generateKeyPairSync("ec", { namedCurve: "prime256v1", publicKeyEncoding: { type: "spki", format: "pem" }, privateKeyEncoding: { type: "sec1", format: "pem" } });
    writeFileSync(join(dir, "sa.pub"), sa.publicKey);
    writeFileSync(join(dir, "sa.key"), sa.privateKey, { mode: 0o600 });
    const certDir = join(dir, "pki");
    const apiLog = join(dir, "kube-apiserver.log");
    const apiserver = spawnLogged(apiserverBin, [
      "--bind-address=127.0.0.1", `--secure-port=${apiPort}`, "--advertise-address=127.0.0.1", `--cert-dir=${certDir}`,
      `--etcd-servers=${client}`, "--service-cluster-ip-range=10.96.0.0/16",
      "--authorization-mode=RBAC", `--token-auth-file=${join(dir, "tokens.csv")}`,
      `--service-account-key-file=${join(dir, "sa.pub")}`, `--service-account-signing-key-file=${join(dir, "sa.key")}`,
      "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
      "--enable-garbage-collector=false", "--disable-admission-plugins=StorageObjectInUseProtection", "--profiling=false",
      // As k3s runs it: privileged pods pass API validation, so only admission policy can refuse them.
      "--allow-privileged=true",
      ...(options.apiserverArgs?.(dir) ?? []),
    ], apiLog);
    entry.children.push(apiserver);
    const server = `https://127.0.0.1:${apiPort}`;
    const certFile = join(certDir, "apiserver.crt");
    let target: ApiTarget = { server, ca: "", token };
    await waitUntil("kube-apiserver", apiserver, apiLog, 120_000, async () => {
      if (!target.ca) target = { ...target, ca: existsSync(certFile) ? readFileSync(certFile, "utf8") : "" };
      if (!target.ca) return false;
      const res = await apiRequest(target, "GET", "/readyz");
      return res.status === 200 && res.text.trim() === "ok";
    });
    const ca = target.ca;
    const kc = writeKubeconfig(dir, server, ca, token);
    const finalizer = startNamespaceFinalizer(target);
    let stopped = false;
    return {
      server, token, ca, dir, kubeconfigPath: kc.path, kubeconfig: kc.text, startMs: Date.now() - started,
      pids: { etcd: etcd.pid as number, apiserver: apiserver.pid as number },
      kubeConfig(as?: string) {
        const config = new KubeConfig();
        if (as === undefined) config.loadFromString(kc.text);
        else config.loadFromOptions({
          clusters: [{ name: "engine", server, caData: Buffer.from(ca).toString("base64"), skipTLSVerify: false }],
          users: [{ name: "bearer", token: as }],
          contexts: [{ name: "engine", cluster: "engine", user: "bearer" }],
          currentContext: "engine",
        });
        return config;
      },
      async serviceAccountToken(namespace, name, expirationSeconds = 3600) {
        const path = `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`;
        const res = await apiRequest(target, "POST", path, { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds } });
        if (res.status !== 201) throw new Error(`TokenRequest for ${namespace}/${name}: HTTP ${res.status} ${res.body?.message ?? res.text}`);
        return res.body.status.token as string;
      },
      apiserverLog: (lines = 30) => tail(apiLog, lines),
      async stop() {
        if (stopped) return;
        stopped = true;
        await finalizer.stop();
        await stopChild(apiserver);
        await stopChild(etcd);
        rmSync(dir, { recursive: true, force: true });
        live.delete(entry);
      },
    };
  } catch (err) {
    for (const child of entry.children) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
    live.delete(entry);
    throw err;
  }
}

let shared: Promise<Cluster> | undefined;

/** One control plane per test run, started by the first test that asks; run.ts stops it. */
export function sharedCluster(): Promise<Cluster> {
  shared ??= startCluster();
  return shared;
}

export async function stopSharedCluster(): Promise<void> {
  if (!shared) return;
  const pending = shared;
  shared = undefined;
  await (await pending.catch(() => undefined))?.stop();
}
