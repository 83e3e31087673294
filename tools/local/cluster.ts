/**
 * The local Kubernetes cluster: kind or k3d, whichever is on PATH (kind first: Pulumi.local.yaml is
 * written for it), named `mindroom`, with the host's HTTP and HTTPS ports mapped to the node so
 * ingress-nginx's host ports answer on localhost. What `up` chose is kept in `<local dir>/cluster.json`
 * for `ports` and `down`.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MissingPrerequisite, runOk, which } from "./run";

export const CLUSTER_NAME = "mindroom";
export const CLUSTER_TOOLS = ["kind", "k3d"] as const;
export type ClusterTool = (typeof CLUSTER_TOOLS)[number];

export interface Ports {
  http: number;
  https: number;
}

export interface ClusterState {
  tool: ClusterTool;
  context: string;
  ports: Ports;
}

const INSTALL: Record<ClusterTool, string> = {
  kind: "https://kind.sigs.k8s.io/docs/user/quick-start/#installation",
  k3d: "https://k3d.io/#installation",
};

/** The kubeconfig context each tool writes for the cluster. */
export function contextOf(tool: ClusterTool): string {
  return `${tool}-${CLUSTER_NAME}`;
}

/** The cluster tool to use: `wanted` if given (it must be on PATH), else kind, else k3d. */
export function detectTool(path: string | undefined, wanted?: ClusterTool): { tool: ClusterTool; bin: string } {
  for (const tool of wanted ? [wanted] : CLUSTER_TOOLS) {
    const bin = which(tool, path);
    if (bin) return { tool, bin };
  }
  if (wanted) throw new MissingPrerequisite(`${wanted} not found on PATH: install it (${INSTALL[wanted]}) or leave out --tool, then rerun`);
  throw new MissingPrerequisite(`neither kind nor k3d found on PATH: install one (kind: ${INSTALL.kind}, k3d: ${INSTALL.k3d}) with Docker or Podman, then rerun npm run local:up`);
}

/**
 * The container runtime the tool runs its nodes in. kind uses Podman when Docker is absent (its
 * KIND_EXPERIMENTAL_PROVIDER); k3d talks to the Docker API, which Podman serves with its socket.
 */
export function containerEnv(tool: ClusterTool, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (which("docker", env.PATH)) return env;
  if (which("podman", env.PATH)) return tool === "kind" && !env.KIND_EXPERIMENTAL_PROVIDER ? { ...env, KIND_EXPERIMENTAL_PROVIDER: "podman" } : env;
  throw new MissingPrerequisite(`${tool} needs Docker or Podman, and neither docker nor podman is on PATH: install Docker (https://docs.docker.com/engine/install/) or Podman (https://podman.io/docs/installation), then rerun`);
}

export function kubectl(path: string | undefined): string {
  const bin = which("kubectl", path);
  if (!bin) throw new MissingPrerequisite("kubectl not found on PATH: install it (https://kubernetes.io/docs/tasks/tools/), then rerun");
  return bin;
}

/** The kind cluster config: one node, host ports → the node's 80/443 (ingress-nginx's host ports). */
export function kindConfig(ports: Ports): string {
  return [
    "kind: Cluster",
    "apiVersion: kind.x-k8s.io/v1alpha4",
    "nodes:",
    "- role: control-plane",
    "  extraPortMappings:",
    `  - {containerPort: 80, hostPort: ${ports.http}, protocol: TCP}`,
    `  - {containerPort: 443, hostPort: ${ports.https}, protocol: TCP}`,
    "",
  ].join("\n");
}

export async function clusterExists(tool: ClusterTool, bin: string, env: NodeJS.ProcessEnv): Promise<boolean> {
  if (tool === "kind") {
    const res = await runOk(bin, ["get", "clusters"], { env });
    return res.stdout.split("\n").some((line) => line.trim() === CLUSTER_NAME);
  }
  const res = await runOk(bin, ["cluster", "list", "--output", "json"], { env });
  const clusters = JSON.parse(res.stdout || "[]") as Array<{ name?: string }>;
  return clusters.some((c) => c.name === CLUSTER_NAME);
}

/**
 * Creates the cluster; `dir` holds kind's config file. k3d: the host ports go to its load balancer,
 * which forwards them to the node's 80/443; its bundled Traefik is off (the stack installs ingress-nginx).
 */
export async function createCluster(tool: ClusterTool, bin: string, ports: Ports, dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (tool === "kind") {
    mkdirSync(dir, { recursive: true });
    const config = join(dir, "kind.yaml");
    writeFileSync(config, kindConfig(ports));
    await runOk(bin, ["create", "cluster", "--name", CLUSTER_NAME, "--config", config, "--wait", "180s"], { env, output: "inherit" });
    return;
  }
  await runOk(
    bin,
    ["cluster", "create", CLUSTER_NAME, "--port", `${ports.http}:80@loadbalancer`, "--port", `${ports.https}:443@loadbalancer`, "--k3s-arg=--disable=traefik@server:0", "--wait", "--timeout", "180s"],
    { env, output: "inherit" },
  );
}

export async function deleteCluster(tool: ClusterTool, bin: string, env: NodeJS.ProcessEnv): Promise<void> {
  await runOk(bin, tool === "kind" ? ["delete", "cluster", "--name", CLUSTER_NAME] : ["cluster", "delete", CLUSTER_NAME], { env, output: "inherit" });
}

/** Waits until every node is Ready (a new cluster's node takes a moment after the tool returns). */
export async function waitForNodes(kubectlBin: string, context: string, env: NodeJS.ProcessEnv): Promise<void> {
  await runOk(kubectlBin, ["--context", context, "wait", "--for=condition=Ready", "node", "--all", "--timeout=180s"], { env });
}

export function readClusterState(dir: string): ClusterState | undefined {
  const file = join(dir, "cluster.json");
  if (!existsSync(file)) return undefined;
  return JSON.parse(readFileSync(file, "utf8")) as ClusterState;
}

export function writeClusterState(dir: string, state: ClusterState): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "cluster.json"), `${JSON.stringify(state, null, 2)}\n`);
}

/** Used by `down`: the state file goes with the cluster. */
export function forgetClusterState(dir: string): void {
  rmSync(join(dir, "cluster.json"), { force: true });
}
