/**
 * The environment the engine tests start the real provisioner with: the test runner's own
 * environment without anything that configures the provisioner, Pulumi or Kubernetes, then the
 * engine's bin dir first on PATH (CLI, language host and provider are found there), the test
 * control plane's kubeconfig, plugin downloads off, and the caller's settings last.
 */
import { engineBinDir } from "./engine";

/** Variables of the test runner's own environment that must not reach the provisioner. */
const INHERITED_DROP = /^(PULUMI_|KUBECONFIG$|KUBERNETES_|MINDROOM_|PROVISIONER_|INSTANCE_|SUPABASE_|OPENROUTER_|SANDBOX_PROXY_TOKEN)/;

export interface ProvisionerEnvOptions {
  port: number;
  dataDir: string;
  kubeconfigPath: string;
  environment: string;
  apiKey: string;
  rootSecret: string;
  /** Applied last: readiness waits, extra settings of one test. */
  overrides?: Record<string, string | undefined>;
}

export function provisionerEnv(o: ProvisionerEnvOptions): NodeJS.ProcessEnv {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !INHERITED_DROP.test(k)));
  return {
    ...inherited,
    PATH: `${engineBinDir()}:${process.env.PATH}`,
    PORT: String(o.port),
    HOST: "127.0.0.1",
    MINDROOM_DATA_DIR: o.dataDir,
    MINDROOM_ENVIRONMENT: o.environment,
    ENVIRONMENT: "test",
    PROVISIONER_API_KEY: o.apiKey,
    INSTANCE_CREDENTIALS_ENCRYPTION_SECRET: o.rootSecret,
    INSTANCE_BASE_DOMAIN: "mindroom.test",
    KUBECONFIG: o.kubeconfigPath,
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    LOG_LEVEL: "debug",
    ...o.overrides,
  };
}
