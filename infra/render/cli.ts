/**
 * `npm run --silent render -- <instance|platform|runtime> -f values.yaml [-f more.yaml] [--show-secrets]`
 *
 * Prints the Kubernetes objects a component registers as a multi-document YAML stream. Invalid
 * values: exit code 1, one line on stderr, nothing on stdout.
 */
import { Command } from "commander";
import { loadValuesFiles } from "../values/load";
import { renderYaml } from "./index";
import { targetNames } from "./targets";

const program = new Command()
  .name("render")
  .description("Render the Kubernetes objects a MindRoom component registers, offline (Pulumi mock runtime).")
  .argument("<target>", `what to render: ${targetNames().join(", ")}`)
  .option("-f, --values <file>", "values file (repeatable; later files win, as with helm -f)", (v: string, acc: string[]) => [...acc, v], [] as string[])
  .option("--show-secrets", "print secret values instead of REDACTED", false)
  .option("--release-name <name>", "release name (runtime target)")
  .option("-n, --namespace <ns>", "release namespace (runtime target)")
  .showHelpAfterError()
  .action(async (target: string, opts: { values: string[]; showSecrets: boolean; releaseName?: string; namespace?: string }) => {
    const values = loadValuesFiles(opts.values);
    const yaml = await renderYaml(target, values, opts);
    process.stdout.write(yaml);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`render: ${message.split("\n")[0]}\n`);
  process.exit(1);
});
