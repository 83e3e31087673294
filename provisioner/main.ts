/**
 * `npm start`: boots the provisioner with the real adapters. Configuration errors stop the boot
 * with one line; a missing Pulumi CLI or kubeconfig keeps the server up (health, status, metrics)
 * but answers provisioning with 503 and the one-line fix, and `/readyz` stays 503.
 */
import type { Server } from "node:http";
import type { AddressInfo } from "node:net";
import pino from "pino";
import { createApp } from "./app";
import { isProduction, loadConfig, type ProvisionerConfig } from "./config";
import { createTenantKube } from "./kube";
import { createInstanceMirror } from "./mirror";
import { EngineError, type TenantKube, type TenantStacks } from "./ports";
import { createTenantStacks, PulumiCliUnavailable, tenantStackName } from "./stacks";

/** Upstream's production log redaction (spec provisioner.md §12). */
export function redactLogText(text: string): string {
  return text
    .replace(/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "[UUID]")
    .replace(/[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}/g, "[EMAIL]")
    .replace(/Bearer\s+\S+/gi, "Bearer [TOKEN]")
    .replace(/((?:api_key|secret|token|password)\s*[:=]\s*)[A-Za-z0-9_\-.]{20,}/gi, "$1[REDACTED]");
}

function createLogger(config: ProvisionerConfig): pino.Logger {
  const production = isProduction(config);
  return pino({
    name: "provisioner",
    level: config.logLevel,
    ...(production
      ? {
          hooks: {
            logMethod(args, method) {
              method.apply(this, args.map((a) => (typeof a === "string" ? redactLogText(a) : a)) as Parameters<typeof method>);
            },
          },
        }
      : {}),
  });
}

/** Ports that fail every call with the boot-time reason, so the service stays up and says why. */
function unavailableStacks(config: ProvisionerConfig, reason: string): TenantStacks {
  const fail = async (): Promise<never> => {
    throw new EngineError(reason);
  };
  return {
    up: fail,
    preview: fail,
    destroy: fail,
    outputs: fail,
    list: fail,
    setDesiredState: fail,
    recover: fail,
    release: fail,
    changePassphrase: fail,
    stackName: (id) => tenantStackName(config.mindroomEnvironment, id),
  };
}

function unavailableKube(reason: string): TenantKube {
  const fail = async (): Promise<never> => {
    throw new Error(reason);
  };
  return { deploymentExists: fail, scale: fail, restart: fail, isRolledOut: fail, replicas: fail, mindroomReplicas: fail, readSecret: fail, pvcStorageClass: fail, deletePvc: fail, deleteHelmReleaseRecords: fail, podLogs: fail };
}

async function main(): Promise<void> {
  let config: ProvisionerConfig;
  try {
    config = loadConfig();
  } catch (err) {
    console.error(`provisioner: ${(err as Error).message}`);
    process.exit(1);
  }
  const log = createLogger(config);
  if (!config.apiKey) log.error("PROVISIONER_API_KEY is not configured: every /system request will be refused (401)");

  let kube: TenantKube;
  let kubeUnavailable: string | undefined;
  try {
    kube = createTenantKube();
  } catch (err) {
    const reason = `Kubernetes API unavailable: ${(err as Error).message.split("\n")[0]}; set KUBECONFIG or run in the cluster`;
    log.error(reason);
    kubeUnavailable = reason;
    kube = unavailableKube(reason);
  }

  let stacks: TenantStacks;
  let engineUnavailable: string | undefined;
  try {
    stacks = await createTenantStacks({
      environment: config.mindroomEnvironment,
      dataDir: config.dataDir,
      backendUrl: config.pulumiBackendUrl,
      passphrase: config.pulumiConfigPassphrase || undefined,
      previousPassphrase: config.pulumiPreviousConfigPassphrase || undefined,
      secretsProvider: config.pulumiSecretsProvider || undefined,
      pulumiCliPath: config.pulumiCliPath || undefined,
      pulumiHome: config.pulumiHome,
      workspacesDir: config.workDir,
      logger: log.child({ component: "stacks" }),
    });
  } catch (err) {
    if (!(err instanceof PulumiCliUnavailable)) throw err;
    engineUnavailable = err.message;
    log.error(engineUnavailable);
    stacks = unavailableStacks(config, engineUnavailable);
  }

  const mirror = createInstanceMirror({ supabaseUrl: config.supabaseUrl, serviceKey: config.supabaseServiceKey, dataDir: config.dataDir, logger: log.child({ component: "mirror" }) });
  const provisioner = await createApp({ config, stacks, kube, mirror, log, engineUnavailable, kubeUnavailable });

  const onListening = () => {
    // The bound port, not the configured one: PORT=0 (tests) asks the OS for a free port.
    const port = (server.address() as AddressInfo).port;
    log.info({ port, dataDir: config.dataDir, environment: config.mindroomEnvironment, concurrency: config.concurrency, mirror: mirror.enabled ? "on" : "off" }, "provisioner listening");
  };
  // Without HOST: every interface, as before (in a pod, probes come to the pod IP).
  const server: Server = config.host ? provisioner.app.listen(config.port, config.host, onListening) : provisioner.app.listen(config.port, onListening);
  // Longer than the Ingress read timeout, so a waiting request is cut by the proxy, not by us.
  server.requestTimeout = 0;
  server.headersTimeout = 60_000;

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, "shutting down: no new jobs; running ones get 25 s, queued ones resume on the next boot");
    server.close();
    await provisioner.shutdown(25_000);
    server.closeAllConnections();
    process.exit(0);
  };
  process.on("SIGTERM", () => void stop("SIGTERM"));
  process.on("SIGINT", () => void stop("SIGINT"));
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`provisioner: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    process.exit(1);
  });
}
