/**
 * ConfigMap `mindroom-config-{c}`, key `config.yaml`: the seed catalogue (the project's, or the file
 * `seedConfigPath` names) with the two overrides the chart applies (spec §8.1):
 * `authorization.global_users` and `matrix_room_access`.
 */
import { readFileSync } from "node:fs";
import { parse, stringify } from "yaml";
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import type { InstanceNames } from "./names";

const YAML_OPTIONS = { version: "1.1", lineWidth: 0 } as const;

/** The top-level maps MindRoom's runtime requires (the runtime chart's minimal config is exactly these). */
export const SEED_REQUIRED_MAPS = ["models", "agents"] as const;

interface Seed {
  /** The seed without the two per-tenant sections, serialised. */
  catalogue: string;
  authorization: Record<string, unknown>;
}
type SeedResult = { seed: Seed } | { problem: string };

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
const kind = (v: unknown) => (v === null || v === undefined ? "nothing" : Array.isArray(v) ? "a list" : typeof v);

/**
 * The last seed read from each path, keyed on its text: a provisioner evaluates many tenants and
 * serialising the catalogue dominated the per-tenant cost, while an edited file takes effect at once.
 */
const seeds = new Map<string, { text: string; result: SeedResult }>();

function readSeed(path: string): SeedResult {
  const at = `seedConfigPath: ${path}`;
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: `${at}: ${code === "ENOENT" ? "not found" : (err as Error).message.split("\n")[0]}; give the path of a MindRoom config.yaml, or leave seedConfigPath unset for the project's seed` };
  }
  const cached = seeds.get(path);
  if (cached?.text === text) return cached.result;
  const result = parseSeed(text, at);
  seeds.set(path, { text, result });
  return result;
}

function parseSeed(text: string, at: string): SeedResult {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { problem: `${at}: invalid YAML: ${String((err as Error).message).split("\n")[0]}` };
  }
  if (!isMap(doc)) return { problem: `${at}: a MindRoom config.yaml is a YAML map, got ${kind(doc)}` };
  const missing = SEED_REQUIRED_MAPS.filter((key) => !isMap(doc[key]));
  if (missing.length > 0) {
    const what = missing.map((key) => (key in doc ? `"${key}" is ${kind(doc[key])}` : `no "${key}"`)).join(", ");
    return { problem: `${at}: the runtime needs the maps ${SEED_REQUIRED_MAPS.map((k) => `"${k}"`).join(" and ")} (empty is fine); ${what}` };
  }
  const { authorization = {}, matrix_room_access: _overridden, ...catalogue } = doc;
  if (!isMap(authorization)) return { problem: `${at}: "authorization" must be a map when present, got ${kind(authorization)}` };
  return { seed: { catalogue: stringify(catalogue, YAML_OPTIONS), authorization } };
}

/** Why the tenant's seed cannot be used (one line), or undefined when it can. Run by validateInstance. */
export function seedConfigProblem(r: Pick<ResolvedInstance, "seedConfigPath">): string | undefined {
  const result = readSeed(r.seedConfigPath);
  return "problem" in result ? result.problem : undefined;
}

function seedConfig(path: string): Seed {
  const result = readSeed(path);
  if ("problem" in result) throw new Error(result.problem); // validateInstance reported it first
  return result.seed;
}

export function mindroomConfigYaml(r: ResolvedInstance): string {
  const base = seedConfig(r.seedConfigPath);
  const m = r.matrixRoomAccess;
  const overrides = {
    authorization: { ...base.authorization, global_users: r.authorizationGlobalUsers },
    matrix_room_access: {
      mode: m.mode,
      multi_user_join_rule: m.multiUserJoinRule,
      publish_to_room_directory: m.publishToRoomDirectory,
      invite_only_rooms: m.inviteOnlyRooms,
      reconcile_existing_rooms: m.reconcileExistingRooms,
    },
  };
  // Top-level keys of one map: the catalogue followed by the overridden sections.
  return base.catalogue + stringify(overrides, YAML_OPTIONS);
}

export function mindroomConfigMap(r: ResolvedInstance, n: InstanceNames): k8s.types.input.core.v1.ConfigMap {
  return {
    metadata: { name: n.mindroomConfig, namespace: NAMESPACE },
    data: { "config.yaml": mindroomConfigYaml(r) },
  };
}
