/**
 * Included-budget OpenRouter keys (spec provisioner.md §6.10): reuse the tenant's key while its
 * stored metadata matches the tier's monthly budget, otherwise create one with the management key,
 * persist its non-secret metadata and revoke the superseded key.
 */
import type { TenantKube } from "../ports";
import { Failure, shortReason } from "../errors";
import { includedBudget } from "./plans";
import type { InstanceRegistry, InstanceView, Logger } from "./registry";
import { readTenantSecret, storedValue } from "./tenant-secrets";

export interface OpenRouterDeps {
  apiUrl: string;
  managementKey: string;
  kube: TenantKube;
  registry: InstanceRegistry;
  log: Logger;
  fetch: typeof fetch;
  now?: () => Date;
}

function metadataMatches(row: InstanceView | undefined, budget: number): boolean {
  if (!row?.openrouter_key_hash || row.openrouter_key_limit_reset !== "monthly") return false;
  const raw: unknown = row.openrouter_key_limit_usd ?? 0;
  const limit = typeof raw === "number" ? raw : typeof raw === "string" && /^\s*[-+]?\d+\s*$/.test(raw) ? Number(raw) : NaN;
  return Number.isInteger(limit) && limit === budget;
}

interface CreatedKey {
  key: string;
  hash: string;
  label: string;
  limit: number;
  limitReset: string;
}

/**
 * A response body fit to quote in an error (detail, job record, row, log): an unexpected status may
 * still carry a freshly created key, live and unrevoked, so `"key"` values and OpenRouter key
 * strings are cut first (before the body is capped, so a truncated key cannot slip through).
 */
function withoutKeys(body: string): string {
  return body.replace(/("key"\s*:\s*)"(?:[^"\\]|\\.)*"/g, '$1"[REDACTED]"').replace(/sk-or-[\w-]+/g, "[REDACTED]");
}

async function createKey(deps: OpenRouterDeps, name: string, budget: number): Promise<CreatedKey> {
  let res: Response;
  try {
    res = await deps.fetch(`${deps.apiUrl}/keys`, {
      method: "POST",
      headers: { Authorization: `Bearer ${deps.managementKey}`, "Content-Type": "application/json" },
      body: JSON.stringify({ name, limit: budget, limit_reset: "monthly", include_byok_in_limit: true }),
      signal: AbortSignal.timeout(20_000),
    });
  } catch (err) {
    throw new Failure("upstream", `OpenRouter key creation failed: no response (${shortReason(err)})`);
  }
  const text = await res.text().catch(() => "");
  if (res.status !== 201) throw new Failure("upstream", `OpenRouter key creation failed: HTTP ${res.status}: ${withoutKeys(text).slice(0, 200)}`);
  let body: { key?: unknown; data?: { hash?: unknown; label?: unknown; limit?: unknown; limit_reset?: unknown } };
  try {
    body = JSON.parse(text);
  } catch {
    throw new Failure("upstream", "OpenRouter key creation failed: response is not JSON");
  }
  const d = body.data;
  if (typeof body.key !== "string" || !body.key || !d || typeof d.hash !== "string" || typeof d.label !== "string" || typeof d.limit !== "number" || typeof d.limit_reset !== "string") {
    throw new Failure("upstream", "OpenRouter key creation failed: response lacks key, data.hash, data.label, data.limit or data.limit_reset");
  }
  return { key: body.key, hash: d.hash, label: d.label, limit: d.limit, limitReset: d.limit_reset };
}

async function revoke(deps: OpenRouterDeps, hash: string, instanceId: string): Promise<void> {
  try {
    const res = await deps.fetch(`${deps.apiUrl}/keys/${encodeURIComponent(hash)}`, {
      method: "DELETE",
      headers: { Authorization: `Bearer ${deps.managementKey}` },
      signal: AbortSignal.timeout(20_000),
    });
    const body = (await res.json().catch(() => ({}))) as { deleted?: unknown };
    if (res.status === 200 && body.deleted === true) return;
    throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    deps.log.warn({ err: shortReason(err) }, `Failed to revoke superseded OpenRouter key ${hash} for instance ${instanceId}`);
  }
}

/** The tenant's `openrouter_key` value ("" for tiers without an included budget). */
export async function openrouterKeyFor(deps: OpenRouterDeps, opts: { instanceId: string; tier: string; accountId: string | null }): Promise<string> {
  const budget = includedBudget(opts.tier);
  if (budget <= 0) return "";
  const row = deps.registry.get(opts.instanceId);
  if (metadataMatches(row, budget)) {
    const existing = storedValue(await readTenantSecret(deps.kube, opts.instanceId, "openrouter_key"), "openrouter_key");
    if (existing) return existing;
  }
  if (!deps.managementKey) throw new Failure("failed", "OPENROUTER_PROVISIONING_API_KEY is required to create included-budget OpenRouter keys");
  const name = `MindRoom ${opts.tier} account ${opts.accountId === null ? "None" : opts.accountId} instance ${opts.instanceId}`;
  const created = await createKey(deps, name, budget);
  const previous = row?.openrouter_key_hash?.trim() || null;
  let saved = false;
  try {
    await deps.registry.record(
      opts.instanceId,
      {
        openrouter_key_hash: created.hash,
        openrouter_key_label: created.label,
        openrouter_key_limit_usd: created.limit,
        openrouter_key_limit_reset: created.limitReset,
        openrouter_key_created_at: (deps.now ?? (() => new Date()))().toISOString(),
      },
      true,
    );
    saved = true;
  } catch (err) {
    deps.log.warn({ err: shortReason(err) }, `Failed to persist OpenRouter key metadata for instance ${opts.instanceId}`);
  }
  if (saved && previous && previous !== created.hash) await revoke(deps, previous, opts.instanceId);
  return created.key;
}
