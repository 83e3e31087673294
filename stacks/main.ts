/**
 * Entry point Pulumi runs for the root project (`package.json` "main"). Reads and validates the
 * stack config, reads the secrets, runs {@link mainProgram} and exports its outputs.
 * Tests import `stacks/main/program.ts` and `stacks/config.ts` instead: importing this file runs it.
 */
import * as pulumi from "@pulumi/pulumi";
import { PLATFORM_SECRET_KEYS, parseStackConfig, rawStackConfig } from "./config";
import { mainProgram } from "./main/program";

function run(): Record<string, unknown> {
  const config = parseStackConfig(rawStackConfig(pulumi.runtime.allConfig()));
  const cfg = new pulumi.Config();
  const platform = Object.entries(PLATFORM_SECRET_KEYS).flatMap(([key, path]) => {
    const value = cfg.getSecret(key);
    return value ? [{ path, value }] : [];
  });
  // The hcloud provider also accepts HCLOUD_TOKEN; the in-cluster Secret needs the same token.
  const envToken = process.env.HCLOUD_TOKEN ? pulumi.secret(process.env.HCLOUD_TOKEN) : undefined;
  return mainProgram(config, { hcloudToken: new pulumi.Config("hcloud").getSecret("token") ?? envToken, platform });
}

export = run();
