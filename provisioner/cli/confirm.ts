/**
 * Confirmation of destructive or fleet-wide commands: `--yes` skips it; on a terminal the
 * question is asked on stderr; without a terminal (scripts, CI) the command refuses, so a
 * forgotten `--yes` never blocks on a read nor goes ahead unasked.
 */
import { createInterface } from "node:readline/promises";
import { CliError, EXIT, UsageError } from "./errors";

export async function confirm(question: string, what: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY) throw new UsageError(`refusing to ${what} without --yes: stdin is not a terminal, so nothing can be confirmed; nothing was changed`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`${question} [y/N] `)).trim().toLowerCase();
    if (answer !== "y" && answer !== "yes") throw new CliError("not confirmed; nothing was changed", EXIT.failed);
  } finally {
    rl.close();
  }
}
