/**
 * `MINDROOM_RENDER_LOG=<file>`: every render (each `recordProgram`: the renderer and every component
 * test) appends one line to `<file>`, its registrations as canonical JSON (keys sorted) with every
 * secret replaced by a SHA-256 of its value, so a changed secret shows and its value does not, and
 * each PEM block by its kind and a k3s join token's CA digest by a placeholder (the tests' CAs are
 * generated afresh on every run).
 * A refactor that must change no object runs the fast suite with it before and after and compares
 * the two files byte for byte (`tools/render-proof.sh`).
 */
import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc";
import { createHash } from "node:crypto";
import { appendFileSync } from "node:fs";
import type { Registration } from "./record";

/** PEM blocks differ on every run (test CAs are generated then), so they are logged as their kind. */
const PEM = /-----BEGIN ([A-Z ]+)-----[\s\S]*?-----END \1-----/g;

/** The same in base64 (kubeconfig `certificate-authority-data`): "-----BEGIN" encodes as LS0tLS1CRUdJTi… */
const PEM_BASE64 = /LS0tLS1CRUdJTi[A-Za-z0-9+/=]+/g;

function canonical(value: unknown, randomSecrets: boolean): unknown {
  // k3s's join token carries the server CA's digest: K10<sha256>::…
  // With random secrets, the digests of them (rollout hash annotations) change with them.
  if (typeof value === "string" && randomSecrets && /^[0-9a-f]{64}$/.test(value)) return "<sha256>";
  if (typeof value === "string") return value.replace(PEM, "<PEM $1>").replace(PEM_BASE64, "<PEM base64>").replace(/K10[0-9a-f]{64}::/g, "K10<ca-sha256>::");
  if (Array.isArray(value)) return value.map((v) => canonical(v, randomSecrets));
  if (typeof value !== "object" || value === null) return value;
  const record = value as Record<string, unknown>;
  if (record[specialSigKey] === specialSecretSig) {
    if (randomSecrets) return "secret:random";
    return `secret:sha256:${createHash("sha256").update(JSON.stringify(canonical(record.value, false)) ?? "undefined").digest("hex")}`;
  }
  return Object.fromEntries(Object.keys(record).sort().map((k) => [k, canonical(record[k], randomSecrets)]));
}

/**
 * Appends `registrations` to the render log when `MINDROOM_RENDER_LOG` names one; otherwise nothing.
 * `randomSecrets`: the program drew real random secrets (a test of what `pulumi up` does), so every
 * secret is logged as `secret:random` and every bare SHA-256 as `<sha256>`.
 */
export function logRender(registrations: Registration[], randomSecrets = false): void {
  const file = process.env.MINDROOM_RENDER_LOG;
  if (file) appendFileSync(file, `${JSON.stringify(canonical(registrations, randomSecrets))}\n`);
}
