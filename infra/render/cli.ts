/**
 * `npm run --silent render -- <instance|platform|runtime> -f values.yaml [-f more.yaml] [--show-secrets]`
 *
 * Prints the Kubernetes objects a component registers as a multi-document YAML stream. Any error
 * (invalid values, a missing or unreadable -f file, bad YAML, an unknown target, a usage mistake):
 * exit code 1, one line on stderr, nothing on stdout, so `render … > out.yaml` never leaves a
 * half-written or misleading file behind. A reader that stops early (`render … | head`) ends the
 * command quietly with exit code 0, as it would any other stream writer.
 *
 * The targets are registered by the caller before {@link runRenderCli} (components/render-cli.ts).
 */
// First: keeps the SDK's Automation API and closure serializer from loading (see lazy-sdk.ts).
import "./lazy-sdk";
import { Command, CommanderError } from "commander";
import { loadValuesFiles } from "../values/load";
import { ValuesError } from "../values/errors";
import { renderYaml } from "./index";
import { targetNames } from "./targets";

/** Parses `argv` (process.argv shape), prints the YAML stream or one error line, and exits on failure. */
export function runRenderCli(argv: string[]): void {
  const program = new Command()
    .name("render")
    .description("Render the Kubernetes objects a MindRoom component registers, offline (Pulumi mock runtime).")
    .argument("<target>", `what to render: ${targetNames().join(", ")}`)
    .option("-f, --values <file>", "values file (required, repeatable; later files win, as with helm -f)", (v: string, acc: string[]) => [...acc, v], [] as string[])
    .option("--show-secrets", "print secret values instead of REDACTED", false)
    .option("--release-name <name>", "release name (runtime target)")
    .option("-n, --namespace <ns>", "release namespace (runtime target; the platform target checks it is mindroom-{environment})")
    // Usage errors surface through the catch below as one line, like every other error.
    .exitOverride()
    .configureOutput({ outputError: () => undefined })
    .action(async (target: string, opts: { values: string[]; showSecrets: boolean; releaseName?: string; namespace?: string }) => {
      // Unlike `helm template`, no -f is a mistake: chart defaults would render a made-up tenant ("demo").
      if (!targetNames().includes(target)) throw new ValuesError(`unknown render target "${target}"; choose one of: ${targetNames().join(", ")}`);
      if (opts.values.length === 0) throw new ValuesError(`no values file; pass -f values.yaml (docs/${target}.md lists the keys)`);
      const values = loadValuesFiles(opts.values);
      const yaml = await renderYaml(target, values, opts);
      process.stdout.write(yaml);
    });

  // With the reader gone, a pipe write fails with EPIPE (Node ignores SIGPIPE); without this
  // listener it surfaced as an unhandled 'error' event: a stack trace and exit code 1.
  process.stdout.on("error", (err: NodeJS.ErrnoException) => {
    if (err.code === "EPIPE") process.exit(0);
    process.stderr.write(`render: cannot write the output: ${err.message}\n`);
    process.exit(1);
  });

  program.parseAsync(argv).catch((err: unknown) => {
    // --help and --version end through exitOverride too; they already printed to stdout.
    if (err instanceof CommanderError && err.exitCode === 0) process.exit(0);
    const raw = err instanceof Error ? err.message : String(err);
    const message = err instanceof CommanderError ? `${raw.replace(/^error: /, "")} (render --help for usage)` : raw;
    process.stderr.write(`render: ${message.split("\n")[0]}\n`);
    process.exit(1);
  });
}
