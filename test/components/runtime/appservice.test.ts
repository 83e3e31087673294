/**
 * `matrix.managedAccountAuth: appservice` (docs/runtime.md "Appservice auth" checklist, A1–A3):
 * the token Secret mounted as a file on the runtime container, its path in env, and the checks.
 */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { renderSqlite, runtime, container, envValue, envNames, type Obj } from "./helpers";
import { errorOf, refusedBeforeRegistering, valid } from "./feature-helpers";

const APPSERVICE = { matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "mindroom-appservice" } } };

describe("runtime appservice auth", () => {
  it("A1 the token file: env MATRIX_APPSERVICE_TOKEN_FILE, Secret volume with only that key, read-only mount on mindroom", async () => {
    const r = await renderSqlite({ ...APPSERVICE, extraVolumeMounts: [{ name: "x", mountPath: "/x" }], extraVolumes: [{ name: "x", emptyDir: {} }] });
    validateKubeObjects(r.objects);
    const { deployment, mindroom } = runtime(r);
    expect(envValue(mindroom, "MATRIX_MANAGED_ACCOUNT_AUTH")).to.equal("appservice");
    expect(envValue(mindroom, "MATRIX_APPSERVICE_TOKEN_FILE")).to.equal("/etc/mindroom/matrix-appservice/MATRIX_APPSERVICE_TOKEN");
    const names = envNames(mindroom);
    expect(names.indexOf("MATRIX_APPSERVICE_TOKEN_FILE")).to.equal(names.indexOf("MATRIX_MANAGED_ACCOUNT_AUTH") + 1);
    expect(names).to.not.include("MATRIX_REGISTRATION_TOKEN");
    expect(names).to.not.include("MATRIX_APPSERVICE_TOKEN");
    expect(mindroom.volumeMounts).to.deep.equal([
      { name: "config", mountPath: "/app/config.yaml", subPath: "config.yaml", readOnly: true },
      { name: "storage", mountPath: "/app/agent_data" },
      { name: "matrix-appservice-token", mountPath: "/etc/mindroom/matrix-appservice", readOnly: true },
      { name: "x", mountPath: "/x" },
    ]);
    const volumes = deployment.spec.template.spec.volumes as Obj[];
    expect(volumes.map((v) => v.name)).to.deep.equal(["config", "storage", "matrix-appservice-token", "sandbox-workspace", "x"]);
    expect(volumes[2]).to.deep.equal({
      name: "matrix-appservice-token",
      secret: { secretName: "mindroom-appservice", items: [{ key: "MATRIX_APPSERVICE_TOKEN", path: "MATRIX_APPSERVICE_TOKEN" }] },
    });
    // Only the control plane holds it: the sandbox runner runs agent tool code.
    expect(JSON.stringify(container(deployment, "sandbox-runner"))).to.not.contain("appservice");
  });

  it("A2 a custom key names both the file and the Secret item; password mode has neither", async () => {
    const { mindroom, deployment } = runtime(await renderSqlite({ matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "as", key: "as_token" } } }));
    expect(envValue(mindroom, "MATRIX_APPSERVICE_TOKEN_FILE")).to.equal("/etc/mindroom/matrix-appservice/as_token");
    expect((deployment.spec.template.spec.volumes as Obj[]).find((v) => v.name === "matrix-appservice-token")?.secret.items).to.deep.equal([{ key: "as_token", path: "as_token" }]);
    const password = runtime(await renderSqlite({ matrix: { registrationToken: { existingSecret: "R" } } }));
    expect(JSON.stringify(password.deployment)).to.not.contain("appservice");
  });

  it("A3 checks: the Secret and key are required, password mode refuses the appservice Secret, appservice refuses a registration token, the key is a Secret key", async () => {
    const as = (token: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ matrix: { managedAccountAuth: "appservice", appserviceToken: token, ...more } });
    expect(errorOf(as({}))).to.match(/^matrix\.appserviceToken: managedAccountAuth=appservice needs matrix\.appserviceToken\.existingSecret and \.key/);
    expect(errorOf(as({ existingSecret: "A", key: "" }))).to.match(/^matrix\.appserviceToken: managedAccountAuth=appservice needs/);
    expect(errorOf({ matrix: { appserviceToken: { existingSecret: "A" } } })).to.match(/^matrix\.appserviceToken\.existingSecret: is only used with matrix\.managedAccountAuth=appservice/);
    expect(errorOf(as({ existingSecret: "A" }, { registrationToken: { existingSecret: "R" } }))).to.match(/^matrix\.registrationToken\.existingSecret: is not allowed with managedAccountAuth=appservice/);
    expect(errorOf(as({ existingSecret: "A", key: "../token" }))).to.match(/^matrix\.appserviceToken\.key: "\.\.\/token" must be a Secret key/);
    expect(errorOf({ matrix: { managedAccountAuth: "Appservice" } })).to.match(/^matrix\.managedAccountAuth: must be password or appservice/);
    valid(as({ existingSecret: "A" }));
    valid(as({ existingSecret: "A", key: "token.txt" }));
    expect(await refusedBeforeRegistering(as({}))).to.match(/^matrix\.appserviceToken: /);
  });
});
