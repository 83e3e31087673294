/**
 * `seedConfigPath`: the tenant's seed `config.yaml` is the operator's choice (issue 11 item 6).
 * The file replaces the project's catalogue; the two per-tenant overrides still apply; a file the
 * runtime could not start from is one line, before anything registers.
 */
import { expect } from "chai";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { parseInstanceValues } from "../../../components/instance/values";
import { renderValues } from "./helpers";

const dir = mkdtempSync(join(tmpdir(), "seed-config-"));
function seedFile(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

const RELEASE_SEED = `# the catalogue a MindRoom release ships
models:
  default: {provider: openrouter, id: vendor/model-7}
agents:
  helper: {display_name: Helper, model: default}
authorization:
  default_room_access: true
  global_users: ["@someone:else.example"]
matrix_room_access: {mode: multi_user}
release_only_setting: 3
`;

async function configOf(values: Record<string, unknown>): Promise<Record<string, unknown>> {
  const r = await renderValues({ customer: 42, ...values });
  return parse(r.get("ConfigMap", "mindroom-config-42").data["config.yaml"]) as Record<string, unknown>;
}

describe("instance seed config (seedConfigPath)", () => {
  it("seeds the tenant with the named file; global users and room access are still the tenant's", async () => {
    const config = await configOf({ seedConfigPath: seedFile("release.yaml", RELEASE_SEED), authorizationGlobalUsers: ["@owner:42.mindroom.chat"] });
    expect(config).to.deep.equal({
      models: { default: { provider: "openrouter", id: "vendor/model-7" } },
      agents: { helper: { display_name: "Helper", model: "default" } },
      release_only_setting: 3,
      authorization: { default_room_access: true, global_users: ["@owner:42.mindroom.chat"] },
      matrix_room_access: { mode: "single_user_private", multi_user_join_rule: "public", publish_to_room_directory: false, invite_only_rooms: [], reconcile_existing_rooms: false },
    });
  });

  it("unset (or empty) keeps the project's catalogue", async () => {
    const unset = await configOf({});
    const empty = await configOf({ seedConfigPath: "" });
    expect(unset).to.deep.equal(empty);
    expect(unset).to.have.property("agents").that.has.property("general");
  });

  it("an edited file takes effect on the next render in the same process", async () => {
    const path = seedFile("edited.yaml", "models: {}\nagents: {a: {}}\n");
    expect(await configOf({ seedConfigPath: path })).to.have.nested.property("agents.a");
    writeFileSync(path, "models: {}\nagents: {b: {}}\n");
    expect((await configOf({ seedConfigPath: path })).agents).to.deep.equal({ b: {} });
  });

  it("a file the runtime could not start from is one line naming the file and the fix", () => {
    const cases: [string, RegExp][] = [
      [join(dir, "missing.yaml"), /: not found; give the path of a MindRoom config\.yaml, or leave seedConfigPath unset for the project's seed$/],
      [seedFile("broken.yaml", "models: [\n"), /: invalid YAML: /],
      [seedFile("list.yaml", "- models\n"), /: a MindRoom config\.yaml is a YAML map, got a list$/],
      [seedFile("no-agents.yaml", "models: {}\n"), /: the runtime needs the maps "models" and "agents" \(empty is fine\); no "agents"$/],
      [seedFile("list-models.yaml", "models: []\nagents: {}\n"), /; "models" is a list$/],
      [seedFile("bad-auth.yaml", "models: {}\nagents: {}\nauthorization: [x]\n"), /: "authorization" must be a map when present, got a list$/],
    ];
    for (const [path, message] of cases) {
      let error: Error | undefined;
      try {
        parseInstanceValues({ customer: 42, seedConfigPath: path });
      } catch (err) {
        error = err as Error;
      }
      expect(error?.name, path).to.equal("ValuesError");
      expect(error!.message, path).to.match(new RegExp(`^seedConfigPath: ${path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}`));
      expect(error!.message, path).to.match(message);
      expect(error!.message.split("\n"), path).to.have.length(1);
    }
  });
});
