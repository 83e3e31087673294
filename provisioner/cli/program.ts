/**
 * The `mindroom` operator CLI: commander program over the provisioner HTTP API (docs/fleet.md).
 * `run(argv)` resolves to the exit code; nothing here calls process.exit.
 */
import { Command, CommanderError } from "commander";
import { registerFleet } from "./commands/fleet";
import { registerInstances } from "./commands/instances";
import { registerJobs } from "./commands/jobs";
import { registerLogs } from "./commands/logs";
import { registerProvision } from "./commands/provision";
import { registerRekey } from "./commands/rekey";
import type { Run } from "./commands/register";
import { CliError, EXIT } from "./errors";
import { version } from "../../package.json";

export const EXIT_HELP = `
Exit codes:
  0  ok
  1  the operation failed: a failed job, or an API error (its detail is printed)
  2  usage or configuration error (bad option, MINDROOM_API_URL/KEY missing, --yes needed)
  3  cannot reach the provisioner at MINDROOM_API_URL
  4  timed out waiting (--timeout); the job goes on: mindroom watch <job>
  5  a rollout finished with failed or skipped tenants

Configuration (the environment wins over ./.env; --api-url over both):
  MINDROOM_API_URL   the provisioner, e.g. http://127.0.0.1:8080 (kubectl -n mindroom-<env> port-forward svc/mindroom-provisioner 8080)
  MINDROOM_API_KEY   its PROVISIONER_API_KEY (never an option, so it stays out of argv and shell history)

Examples:
  mindroom list
  mindroom status 42
  mindroom logs 42 -f
  mindroom provision --subscription <uuid> --account <uuid> --tier pro --wait
  mindroom upgrade --all --image ghcr.io/mindroom-ai/mindroom:<tag> --yes --wait
  mindroom preview 42
  mindroom deprovision 42 --yes
`;

export function buildProgram(exit: { code: number }): Command {
  const program = new Command("mindroom");
  program
    .description("Operate MindRoom tenants through the provisioner API.")
    .version(version, "-V, --version")
    .option("--api-url <url>", "the provisioner's URL (default: MINDROOM_API_URL)")
    .exitOverride()
    .showHelpAfterError("(add --help for usage and examples)")
    .configureHelp({ showGlobalOptions: true, sortSubcommands: false })
    .addHelpText("after", EXIT_HELP);
  const run: Run = (fn) => async (...args) => {
    exit.code = (await fn(...args)) ?? EXIT.ok;
  };
  registerInstances(program, run);
  registerProvision(program, run);
  registerFleet(program, run);
  registerJobs(program, run);
  registerLogs(program, run);
  registerRekey(program, run);
  for (const cmd of program.commands) cmd.addHelpText("after", "\nExit codes: 0 ok, 1 failed, 2 usage/config, 3 unreachable, 4 timed out, 5 rollout with failures (mindroom --help).\n");
  return program;
}

/** Parses and runs; resolves to the exit code. Errors are printed as one line on stderr. */
export async function run(argv: string[]): Promise<number> {
  const exit = { code: EXIT.ok as number };
  const program = buildProgram(exit);
  try {
    await program.parseAsync(argv);
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; any other parse error (already printed by commander) is a usage error.
      return err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (err instanceof CliError) {
      process.stderr.write(`error: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`error: unexpected: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return EXIT.failed;
  }
}
