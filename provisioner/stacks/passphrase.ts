/**
 * The passphrase secrets provider's own check, done in this process: does a passphrase open a
 * stack's secrets-provider state? The state (`encryptionsalt` in `Pulumi.<stack>.yaml`, and
 * `secrets_providers.state.salt` in the stack's checkpoint) is `v1:<base64 salt>:v1:<base64
 * nonce>:<base64 ciphertext>`: the word `pulumi` sealed with AES-256-GCM under PBKDF2-SHA256
 * (1,000,000 rounds, 32 bytes) of the passphrase and the salt, exactly as the CLI writes it
 * (pkg/secrets/passphrase, sdk/go/common/resource/config/crypt.go). No CLI call is needed, no
 * plaintext secret is read, and a wrong passphrase is told from a right one without parsing the
 * CLI's error text. Used by the passphrase move (`TenantStacks.changePassphrase`, docs/rekey.md).
 */
import { createCipheriv, createDecipheriv, pbkdf2, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { promisify } from "node:util";

const derive = promisify(pbkdf2);
const ROUNDS = 1_000_000;
const CHECK = "pulumi";

/** Where the CLI gets a passphrase: the variables it reads, file preferred (the value is then in no environment). */
export interface PassphraseVars {
  PULUMI_CONFIG_PASSPHRASE?: string;
  PULUMI_CONFIG_PASSPHRASE_FILE?: string;
}

/** The passphrase the CLI would use with these variables: the value (untrimmed, as the CLI takes it), else the file's content trimmed. */
export function passphraseOf(vars: PassphraseVars): string {
  if (vars.PULUMI_CONFIG_PASSPHRASE !== undefined) return vars.PULUMI_CONFIG_PASSPHRASE;
  if (vars.PULUMI_CONFIG_PASSPHRASE_FILE) return readFileSync(vars.PULUMI_CONFIG_PASSPHRASE_FILE, "utf8").trim();
  return "";
}

/** True when `passphrase` opens `state`; false for a wrong passphrase or a state that is not a passphrase state. */
export async function opensState(passphrase: string, state: string): Promise<boolean> {
  const parts = state.split(":");
  if (parts.length !== 5 || parts[0] !== "v1" || parts[2] !== "v1") return false;
  const [salt, nonce, sealed] = [parts[1], parts[3], parts[4]].map((p) => Buffer.from(p, "base64"));
  if (nonce.length !== 12 || sealed.length <= 16) return false;
  const key = await derive(passphrase, salt, ROUNDS, 32, "sha256");
  try {
    const decipher = createDecipheriv("aes-256-gcm", key, nonce);
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const plain = Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - 16)), decipher.final()]);
    return plain.toString("utf8") === CHECK;
  } catch {
    return false;
  }
}

/** A fresh state for `passphrase`, as `NewPassphraseSecretsManager` writes it (tests and the fake CLI use it). */
export async function newPassphraseState(passphrase: string): Promise<string> {
  const salt = randomBytes(8);
  const nonce = randomBytes(12);
  const key = await derive(passphrase, salt, ROUNDS, 32, "sha256");
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  const sealed = Buffer.concat([cipher.update(CHECK, "utf8"), cipher.final(), cipher.getAuthTag()]);
  return `v1:${salt.toString("base64")}:v1:${nonce.toString("base64")}:${sealed.toString("base64")}`;
}
