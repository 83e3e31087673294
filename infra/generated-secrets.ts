/**
 * Secret values generated in-process (node:crypto), for the few values no root secret can derive:
 * the runtime's event-cache PostgreSQL password, and a tenant's registration secret when none is
 * given. No provider and no state resource: callers keep such a value stable themselves (see
 * docs/instance.md and docs/runtime.md, "Generated and derived secrets") and wrap it in
 * `pulumi.secret`.
 *
 * The offline renderer swaps the source for a repeatable one (`recordProgram`), so two renders of
 * the same values print the same objects; a real `pulumi up` always draws fresh random bytes.
 */
import { randomInt } from "node:crypto";

export const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** Produces `length` alphanumeric characters for `label` (which names the value, never holds one). */
export type SecretSource = (label: string, length: number) => string;

/** Uniform over the 62 alphanumerics (crypto.randomInt rejects biased draws). */
export const cryptoSource: SecretSource = (_label, length) => {
  let out = "";
  for (let i = 0; i < length; i++) out += ALPHANUMERIC[randomInt(ALPHANUMERIC.length)];
  return out;
};

let source: SecretSource = cryptoSource;
let repeatable = false;

/** A fresh alphanumeric secret of `length` characters (repeatable only under the renderer). */
export function generateSecret(label: string, length: number): string {
  if (!Number.isInteger(length) || length < 1) throw new Error(`generateSecret(${label}): length must be a positive integer`);
  return source(label, length);
}

/** True while a repeatable source is installed (offline render): a generated value then is not random. */
export function generatedSecretsRepeatable(): boolean {
  return repeatable;
}

/**
 * Installs `next` (a repeatable source) or, with `undefined`, the crypto source again. Returns a
 * function restoring what was installed before. Used by the renderer around one program run.
 */
export function useSecretSource(next: SecretSource | undefined): () => void {
  const saved = { source, repeatable };
  source = next ?? cryptoSource;
  repeatable = next !== undefined;
  return () => {
    source = saved.source;
    repeatable = saved.repeatable;
  };
}
