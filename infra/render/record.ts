/**
 * Runs a Pulumi program under the SDK's mock runtime and records every resource it registers.
 *
 * This is the single seam behind both the offline renderer (`npm run render`) and the component
 * tests: the real components run, and what they would send to the engine is captured. There is
 * no second copy of any manifest logic.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import { generatedSecretsRepeatable, useSecretSource } from "../generated-secrets";
import { logRender } from "./render-log";

/** One `registerResource` call as the engine would have received it. */
export interface Registration {
  /** Type token, e.g. `kubernetes:apps/v1:Deployment` or `mindroom:instance:MindroomInstance`. */
  type: string;
  /** Pulumi logical name. */
  name: string;
  /** Full URN; its type chain shows the parents (`...$mindroom:instance:MindroomInstance$kubernetes:...`). */
  urn: string;
  /** Inputs after serialisation: secrets are wrapped with the SDK's secret signature. */
  inputs: Record<string, unknown>;
  /** False for component resources. */
  custom: boolean;
  /** Provider reference (`urn::id`) when the resource was given an explicit provider. */
  provider?: string;
}

/** Outputs a mock returns on top of the inputs, for resources whose outputs the program reads. */
export type MockState = (type: string, name: string, inputs: Record<string, unknown>) => Record<string, unknown>;

export interface RecordOptions {
  project?: string;
  stack?: string;
  /** Extra provider-computed outputs; the defaults cover `@pulumi/random` (only the cluster component still uses it). */
  state?: MockState;
  /** Answers invokes (`mocks.call`); defaults to echoing the inputs. */
  call?: (token: string, inputs: Record<string, unknown>) => Record<string, unknown>;
}

/**
 * Deterministic stand-in for values a provider would compute (random passwords and the like) and
 * for secrets a component generates in-process (`infra/generated-secrets.ts`), so a render is
 * repeatable and the program's `apply` callbacks see a known value. Never used by a real `up`.
 */
export function fakeRandom(seed: string, length: number): string {
  const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  let out = "";
  for (let block = 0; out.length < length; block++) {
    for (const byte of createHash("sha256").update(`${seed}:${block}`).digest()) {
      out += alphabet[byte % alphabet.length];
    }
  }
  return out.slice(0, length);
}

function defaultState(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
  if (type.startsWith("random:")) {
    const length = Number(inputs.length ?? inputs.byteLength ?? 32);
    const value = fakeRandom(`${type}/${name}`, length);
    return { result: value, hex: Buffer.from(value).toString("hex"), b64Url: value };
  }
  return {};
}

/**
 * Runs `program` under mocks (preview off) and resolves with every registration once all RPCs are done.
 * Mocha shares one module cache, so callers must construct resources inside `program`, never at import.
 */
export async function recordProgram(program: () => unknown, options: RecordOptions = {}): Promise<Registration[]> {
  const seen: Omit<Registration, "urn">[] = [];
  await pulumi.runtime.setMocks(
    {
      newResource(args: pulumi.runtime.MockResourceArgs) {
        const inputs = (args.inputs ?? {}) as Record<string, unknown>;
        seen.push({ type: args.type, name: args.name, inputs, custom: args.custom ?? true, provider: args.provider });
        const extra = { ...defaultState(args.type, args.name, inputs), ...options.state?.(args.type, args.name, inputs) };
        const ns = (inputs.metadata as { namespace?: string } | undefined)?.namespace;
        const metaName = (inputs.metadata as { name?: string } | undefined)?.name;
        const id = metaName ? (ns ? `${ns}/${metaName}` : metaName) : `${args.name}_id`;
        return { id, state: { ...inputs, ...extra } };
      },
      call(args: pulumi.runtime.MockCallArgs) {
        return options.call ? options.call(args.token, args.inputs) : args.inputs;
      },
    },
    options.project ?? "mindroom",
    options.stack ?? "render",
    false,
  );
  // In-process generated secrets repeat from one render to the next (keyed by what they are for).
  const restore = useSecretSource((label, length) => fakeRandom(`generated:${label}`, length));
  // The SDK reads a full stack trace for every resource (its source position, which the mock
  // monitor drops); under tsx each frame would be source-mapped, a third of a render's time. An
  // error's own trace is formatted when read, so one that escapes is still mapped.
  const sourceMaps = process.sourceMapsEnabled;
  process.setSourceMapsEnabled(false);
  let randomSecrets = false;
  try {
    program();
    await pulumi.runtime.disconnect();
    // A program may install the crypto source to test what `pulumi up` sees (the render log needs to know).
    randomSecrets = !generatedSecretsRepeatable();
  } finally {
    process.setSourceMapsEnabled(sourceMaps);
    restore();
  }
  const registrations = attachUrns(seen);
  logRender(registrations, randomSecrets);
  return registrations;
}

/** The mock monitor knows each URN; join it back so tests can check parents. */
function attachUrns(seen: Omit<Registration, "urn">[]): Registration[] {
  const monitor = pulumi.runtime.getMonitor() as unknown as { getRegisteredResources(): Map<string, unknown> };
  const urns = [...monitor.getRegisteredResources().keys()];
  return seen.map((r) => {
    const urn = urns.find((u) => u.endsWith(`::${r.name}`) && u.split("::")[2].split("$").pop() === r.type);
    return { ...r, urn: urn ?? "" };
  });
}
