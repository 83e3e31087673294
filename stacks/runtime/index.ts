/** Entry point of the `mindroom-runtime` project: Pulumi calls the exported program function. */
import { runtimeStack } from "../runtime";

export = runtimeStack;
