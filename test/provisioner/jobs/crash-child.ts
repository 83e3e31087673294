/**
 * Child process of group-commit.test.ts: the app with the in-memory fakes on the data dir given as
 * argv[2], on a free port; prints `READY <url>` and serves until the test kills it.
 */
import { startHarness } from "../http/harness";

void startHarness({ dataDir: process.argv[2] }).then((h) => process.stdout.write(`READY ${h.url}\n`));
