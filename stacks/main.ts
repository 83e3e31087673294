/**
 * Entry point Pulumi runs for the root project (`Pulumi.yaml` main). Reads and validates the stack
 * config and its secrets, runs {@link mainProgram} and exports its outputs.
 * Tests import `stacks/main/program.ts` and `stacks/config.ts` instead: importing this file runs it.
 */
import * as pulumi from "@pulumi/pulumi";
import { ValuesError } from "../infra/values/errors";
import { parseStackConfig, rawStackConfig } from "./config";
import { mainProgram } from "./main/program";
import { engineConfigSource, readStackSecrets } from "./main/secrets";

function run(): Record<string, unknown> {
  try {
    const config = parseStackConfig(rawStackConfig(pulumi.runtime.allConfig()));
    return mainProgram(config, readStackSecrets(config, engineConfigSource()));
  } catch (err) {
    // A RunError is printed as its message alone; any other error comes with a stack trace that
    // buries the line naming the key to fix.
    if (err instanceof ValuesError) throw new pulumi.RunError(err.message);
    throw err;
  }
}

export = run();
