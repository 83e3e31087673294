/** Shared by the issue-11 feature tests: the one-line error of a values map, and "nothing registers". */
import { expect } from "chai";
import { recordProgram } from "../../../infra/render/record";
import { ValuesError } from "../../../infra/values/errors";
import { mergeValues } from "../../../infra/values/load";
import { MindroomRuntime, type MindroomRuntimeArgs } from "../../../components/runtime";
import { validateRuntimeValues } from "../../../components/runtime/values";
import { SQLITE } from "./helpers";

/** The one-line error for `values` (over the sqlite baseline), or "" when they are valid. */
export function errorOf(values: Record<string, unknown>): string {
  try {
    validateRuntimeValues(mergeValues(SQLITE, values));
    return "";
  } catch (err) {
    expect(err).to.be.instanceOf(ValuesError);
    const message = (err as Error).message;
    expect(message, "one line").to.not.contain("\n");
    return message;
  }
}

export const valid = (values: Record<string, unknown>) => expect(errorOf(values), JSON.stringify(values)).to.equal("");
export const invalid = (values: Record<string, unknown>, pattern: RegExp) => expect(errorOf(values)).to.match(pattern);

/** Constructing the component with invalid `values` throws the error and registers nothing. */
export async function refusedBeforeRegistering(values: Record<string, unknown>): Promise<string> {
  let caught: unknown;
  const regs = await recordProgram(() => {
    try {
      new MindroomRuntime("mindroom-runtime", mergeValues(SQLITE, values) as MindroomRuntimeArgs);
    } catch (err) {
      caught = err;
    }
  });
  expect(caught).to.be.instanceOf(ValuesError);
  expect(regs).to.have.length(0);
  return (caught as Error).message;
}
