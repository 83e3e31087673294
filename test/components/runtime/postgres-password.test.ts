/**
 * The chart PostgreSQL's password without @pulumi/random: generated in-process, kept stable by the
 * auth Secret's state (ignoreChanges on data/stringData), or given as `auth.password`.
 */
import { expect } from "chai";
import * as pulumi from "@pulumi/pulumi";
import { containsSecret, kubeObjects } from "../../../infra/render/manifests";
import { recordProgram } from "../../../infra/render/record";
import { MindroomRuntime, postgresSecretOptions } from "../../../components/runtime";
import { find, render } from "./helpers";

const PG = "mindroom-runtime-event-cache-postgres";
const password = (r: Awaited<ReturnType<typeof render>>, pg = PG) => (find(r.objects, "Secret", `${pg}-auth`).stringData as Record<string, string>).password;

/** Renders with the mock monitor's RegisterResource requests recorded (their options included). */
async function ignoredChanges(args: ConstructorParameters<typeof MindroomRuntime>[1]): Promise<Record<string, string[]>> {
  const ignored: Record<string, string[]> = {};
  await recordProgram(() => {
    type Req = { getName(): string; getIgnorechangesList(): string[] };
    const monitor = pulumi.runtime.getMonitor() as unknown as { registerResource(req: Req, cb: unknown): unknown };
    const original = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req: Req, cb: unknown) => {
      ignored[req.getName()] = req.getIgnorechangesList();
      return original(req, cb);
    };
    new MindroomRuntime("mindroom-runtime", args);
  });
  return ignored;
}

describe("runtime: event-cache PostgreSQL password (no @pulumi/random)", () => {
  it("generated: 32 alphanumerics, the same in two renders of one release, different for another release; no random:* resource", async () => {
    const first = await render({});
    const second = await render({ image: { tag: "v2" } });
    expect(password(first)).to.match(/^[A-Za-z0-9]{32}$/);
    expect(password(second)).to.equal(password(first));
    const other = await render({}, { releaseName: "other" });
    expect(password(other, "other-mindroom-runtime-event-cache-postgres")).to.not.equal(password(first));
    const elsewhere = await render({}, { namespace: "team-b" });
    expect(password(elsewhere)).to.not.equal(password(first));
    expect(first.regs.filter((x) => !/^(kubernetes|pulumi|mindroom):/.test(x.type))).to.deep.equal([]);
  });

  it("generated: the auth Secret ignores data/stringData changes, so a real up keeps the password in state", async () => {
    const ignored = await ignoredChanges({});
    expect(ignored[`${PG}-auth`]).to.have.members(["data", "stringData"]);
    expect(ignored[PG]).to.deep.equal([]);
  });

  it("given auth.password: applied as given (no ignoreChanges), and kept secret", async () => {
    const ignored = await ignoredChanges({ eventCache: { postgres: { auth: { password: "pw-given" } } } });
    expect(ignored[`${PG}-auth`]).to.deep.equal([]);
    const r = await render({ eventCache: { postgres: { auth: { password: "pw-given" } } } });
    expect(password(r)).to.equal("pw-given");
  });

  it("the password is a secret input and never shows in the redacted render", async () => {
    const r = await render({});
    const reg = r.regs.find((x) => x.name === `${PG}-auth`)!;
    expect(containsSecret(reg.inputs.stringData)).to.equal(true);
    expect(JSON.stringify(kubeObjects(r.regs, false))).to.not.contain(password(r));
    for (const other of r.regs.filter((x) => x !== reg)) expect(JSON.stringify(other.inputs), other.name).to.not.contain(password(r));
  });

  it("postgresSecretOptions keeps the parent and adds ignoreChanges only for a generated password", () => {
    const parent = { parent: undefined };
    expect(postgresSecretOptions(true, parent)).to.deep.equal({ parent: undefined, ignoreChanges: ["data", "stringData"] });
    expect(postgresSecretOptions(false, parent)).to.equal(parent);
  });
});
