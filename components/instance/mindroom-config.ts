/**
 * ConfigMap `mindroom-config-{c}`, key `config.yaml`: the project's seed catalogue with the two
 * overrides the chart applies (spec §8.1): `authorization.global_users` and `matrix_room_access`.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse, stringify } from "yaml";
import type * as k8s from "@pulumi/kubernetes";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import type { InstanceNames } from "./names";

const YAML_OPTIONS = { version: "1.1", lineWidth: 0 } as const;

let seed: { catalogue: string; authorization: Record<string, unknown> } | undefined;
/**
 * The seed without the two per-tenant sections, serialised once per process: a provisioner
 * evaluates many tenants, and serialising the catalogue dominated the per-tenant cost.
 */
function seedConfig(): { catalogue: string; authorization: Record<string, unknown> } {
  if (!seed) {
    const { authorization, matrix_room_access: _overridden, ...catalogue } = parse(readFileSync(join(__dirname, "seed-config.yaml"), "utf8")) as Record<string, unknown>;
    seed = { catalogue: stringify(catalogue, YAML_OPTIONS), authorization: authorization as Record<string, unknown> };
  }
  return seed;
}

export function mindroomConfigYaml(r: ResolvedInstance): string {
  const base = seedConfig();
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
