/**
 * Local development in one step (docs/local.md):
 *   npm run local:up     kind or k3d cluster `mindroom` (created if missing), then the root
 *                        project's `local` stack on it; prints the URLs to open
 *   npm run local:ports  the URLs and ports of the running local stack
 *   npm run local:down   deletes the cluster and forgets the stack
 * Options after `--`, e.g. `npm run local:up -- --tool k3d --https-port 8443`.
 * Exit codes: 0 done, 1 a command failed (its output is above), 2 a prerequisite is missing (one
 * line naming the fix). State: MINDROOM_LOCAL_DIR (default ~/.cache/mindroom-local).
 */
import { homedir } from "node:os";
import { join } from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import {
  CLUSTER_NAME,
  CLUSTER_TOOLS,
  clusterExists,
  containerEnv,
  contextOf,
  createCluster,
  deleteCluster,
  detectTool,
  forgetClusterState,
  kubectl,
  readClusterState,
  waitForNodes,
  writeClusterState,
  type ClusterTool,
  type Ports,
} from "./cluster";
import { CommandFailed, MissingPrerequisite } from "./run";
import { findPulumi, LocalStack, platformOf, requirePassphrase } from "./stack";
import { urlLines } from "./urls";

const localDir = () => process.env.MINDROOM_LOCAL_DIR || join(homedir(), ".cache", "mindroom-local");
const say = (line: string) => process.stdout.write(`${line}\n`);

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError("must be a port number (1-65535)");
  return n;
}

async function up(o: { tool?: ClusterTool; httpPort: number; httpsPort: number }): Promise<void> {
  const env = process.env;
  const dir = localDir();
  const previous = readClusterState(dir);
  const { tool, bin } = detectTool(env.PATH, o.tool ?? previous?.tool);
  if (previous && previous.tool !== tool) {
    throw new MissingPrerequisite(`the local stack runs on the ${previous.tool} cluster: run npm run local:down first to move it to ${tool}, or leave out --tool`);
  }
  const toolEnv = containerEnv(tool, env);
  const kubectlBin = kubectl(env.PATH);
  const pulumi = findPulumi(env);
  requirePassphrase(env);

  const context = contextOf(tool);
  let ports: Ports = { http: o.httpPort, https: o.httpsPort };
  if (await clusterExists(tool, bin, toolEnv)) {
    // The host ports were mapped when the cluster was created.
    if (previous) ports = previous.ports;
    say(`using the existing ${tool} cluster ${CLUSTER_NAME} (context ${context})`);
  } else {
    await createCluster(tool, bin, ports, dir, toolEnv);
  }
  writeClusterState(dir, { tool, context, ports });
  await waitForNodes(kubectlBin, context, env);

  const stack = new LocalStack(pulumi, dir, env);
  stack.prepare({ context, instanceStorageClassName: tool === "k3d" ? "local-path" : undefined });
  await stack.select();
  await stack.ensureSecrets();
  await stack.up();
  say("");
  say(`The local stack is up on ${tool} cluster ${CLUSTER_NAME}. Open:`);
  for (const line of urlLines({ outputs: await stack.outputs(), ports, context, platform: platformOf(stack.configText() ?? "") })) say(`  ${line}`);
}

async function ports(): Promise<void> {
  const env = process.env;
  const dir = localDir();
  const state = readClusterState(dir);
  if (!state) throw new CommandFailed(`no local cluster recorded in ${dir}: run npm run local:up`);
  const { bin } = detectTool(env.PATH, state.tool);
  if (!(await clusterExists(state.tool, bin, containerEnv(state.tool, env)))) throw new CommandFailed(`the ${state.tool} cluster ${CLUSTER_NAME} is not running: run npm run local:up`);
  const stack = new LocalStack(findPulumi(env), dir, env);
  requirePassphrase(env);
  if (!(await stack.exists())) throw new CommandFailed(`the ${state.tool} cluster ${CLUSTER_NAME} runs, but the local stack does not exist: run npm run local:up`);
  const outputs = await stack.outputs();
  if (Object.keys(outputs).length === 0) throw new CommandFailed("the local stack has no outputs yet (its last update did not finish): run npm run local:up");
  say(`${state.tool} cluster ${CLUSTER_NAME}: host port ${state.ports.http} → ingress HTTP, ${state.ports.https} → ingress HTTPS (context ${state.context})`);
  for (const line of urlLines({ outputs, ports: state.ports, context: state.context, platform: platformOf(stack.configText() ?? "") })) say(`  ${line}`);
}

async function down(o: { tool?: ClusterTool }): Promise<void> {
  const env = process.env;
  const dir = localDir();
  const state = readClusterState(dir);
  const { tool, bin } = detectTool(env.PATH, o.tool ?? state?.tool);
  const toolEnv = containerEnv(tool, env);
  const stack = new LocalStack(findPulumi(env), dir, env);
  requirePassphrase(env);
  const running = await clusterExists(tool, bin, toolEnv);
  if (await stack.exists()) {
    // Every resource of the local stack lives in this cluster, so deleting the cluster deletes them;
    // a `pulumi destroy` first would only be refused by the protected mindroom-instances Namespace.
    say(running ? `the stack's resources go with the ${tool} cluster ${CLUSTER_NAME}: forgetting the stack` : `the ${tool} cluster ${CLUSTER_NAME} is gone, and its resources with it: forgetting the stack`);
    await stack.forget();
  }
  if (running) await deleteCluster(tool, bin, toolEnv);
  else say(`no ${tool} cluster ${CLUSTER_NAME} to delete`);
  forgetClusterState(dir);
  say("local stack and cluster removed");
}

const program = new Command("local")
  .description("MindRoom on a local kind or k3d cluster (docs/local.md)")
  .showHelpAfterError()
  .configureOutput({ outputError: (text, write) => write(text) });
const toolOption = () => new Option("--tool <tool>", "kind or k3d (default: the one on PATH, kind first)").choices(CLUSTER_TOOLS);

program
  .command("up")
  .description("create the cluster if missing, bring up the local stack, print the URLs")
  .addOption(toolOption())
  .addOption(new Option("--http-port <port>", "host port for the ingress's HTTP (new clusters only)").argParser(port).default(80))
  .addOption(new Option("--https-port <port>", "host port for the ingress's HTTPS (new clusters only)").argParser(port).default(443))
  .action(up);
program.command("ports").description("print the URLs and ports of the running local stack").action(ports);
program.command("down").description("delete the local cluster and forget the stack (its resources go with the cluster)").addOption(toolOption()).action(down);

program.exitOverride();
program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof MissingPrerequisite || err instanceof CommandFailed) {
    process.stderr.write(`${err.message}\n`);
    process.exit(err.exitCode);
  }
  const code = (err as { code?: string; exitCode?: number }).code;
  if (typeof code === "string" && code.startsWith("commander.")) {
    // Help and version exit 0; usage errors (already printed) exit 2.
    process.exit(code === "commander.helpDisplayed" || code === "commander.version" || code === "commander.help" ? 0 : 2);
  }
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
