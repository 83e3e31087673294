/**
 * Entry point of the `mindroom` CLI: `npm run --silent cli -- list`, `npx tsx provisioner/cli/main.ts list`,
 * or the `mindroom` bin (bin.js). Exits once stdout has drained, so piped output is never cut.
 */
import { run } from "./program";

// `mindroom logs 42 | head` closes the pipe early: that is the reader's choice, not a failure.
process.stdout.on("error", (err: NodeJS.ErrnoException) => {
  if (err.code === "EPIPE") process.exit(0);
  throw err;
});

void run(process.argv).then((code) => {
  process.stdout.write("", () => process.exit(code));
});
