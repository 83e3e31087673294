/** Every validation of runtime.md §11/§11a/§12, valid and invalid, plus Helm's values semantics. */
import { expect } from "chai";
import { recordProgram } from "../../../infra/render/record";
import { ValuesError } from "../../../infra/values/errors";
import { MindroomRuntime, parseRuntimeValues } from "../../../components/runtime";
import { RUNTIME_DEFAULTS } from "../../../components/runtime/defaults";
import { validateRuntimeValues } from "../../../components/runtime/values";
import { render, renderSqlite, runtime, find, ofKind, secretRef } from "./helpers";

/** The one-line error for `values`, or "" when they are valid. */
function errorOf(values: Record<string, unknown>): string {
  try {
    validateRuntimeValues(values);
    return "";
  } catch (err) {
    expect(err).to.be.instanceOf(ValuesError);
    const message = (err as Error).message;
    expect(message).to.not.contain("\n");
    return message;
  }
}

const valid = (values: Record<string, unknown>) => expect(errorOf(values), JSON.stringify(values)).to.equal("");

describe("runtime values: validations (§11)", () => {
  it("eventCache.backend must be postgres or sqlite", () => {
    valid({ eventCache: { backend: "postgres" } });
    valid({ eventCache: { backend: "sqlite" } });
    expect(errorOf({ eventCache: { backend: "redis" } })).to.equal(
      'eventCache.backend: must be postgres or sqlite, got "redis"; set eventCache.backend to postgres (default) or sqlite',
    );
  });

  it("backend postgres requires databaseUrlEnv (sqlite does not)", () => {
    expect(errorOf({ eventCache: { databaseUrlEnv: "" } })).to.match(/^eventCache\.databaseUrlEnv: is required with eventCache\.backend=postgres; set it/);
    valid({ eventCache: { backend: "sqlite", databaseUrlEnv: "" } });
  });

  it("backend postgres: databaseUrlEnv is DATABASE_URL or ends in _DATABASE_URL", () => {
    valid({ eventCache: { databaseUrlEnv: "DATABASE_URL" } });
    valid({ eventCache: { databaseUrlEnv: "CACHE_DATABASE_URL" } });
    expect(errorOf({ eventCache: { databaseUrlEnv: "DB_URL" } })).to.match(/^eventCache\.databaseUrlEnv: "DB_URL" must be DATABASE_URL or end in _DATABASE_URL/);
    expect(errorOf({ eventCache: { databaseUrlEnv: "DATABASE_URL_X" } })).to.match(/^eventCache\.databaseUrlEnv: /);
    valid({ eventCache: { backend: "sqlite", databaseUrlEnv: "DB_URL" } });
  });

  it("matrix.managedAccountAuth must be password or appservice", () => {
    valid({ matrix: { managedAccountAuth: "password" } });
    expect(errorOf({ matrix: { managedAccountAuth: "oidc" } })).to.match(/^matrix\.managedAccountAuth: must be password or appservice, got "oidc"/);
  });

  it("appservice needs appserviceToken.existingSecret and key", () => {
    expect(errorOf({ matrix: { managedAccountAuth: "appservice" } })).to.match(/^matrix\.appserviceToken: managedAccountAuth=appservice needs/);
    expect(errorOf({ matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "A", key: "" } } })).to.match(/^matrix\.appserviceToken: /);
  });

  it("password mode rejects appserviceToken.existingSecret", () => {
    expect(errorOf({ matrix: { appserviceToken: { existingSecret: "A" } } })).to.match(/^matrix\.appserviceToken\.existingSecret: is only used with matrix\.managedAccountAuth=appservice/);
    valid({ matrix: { appserviceToken: { key: "OTHER_KEY" } } });
  });

  it("appservice mode rejects registrationToken.existingSecret", () => {
    expect(
      errorOf({ matrix: { managedAccountAuth: "appservice", appserviceToken: { existingSecret: "A" }, registrationToken: { existingSecret: "R" } } }),
    ).to.match(/^matrix\.registrationToken\.existingSecret: is not allowed with managedAccountAuth=appservice/);
    valid({ matrix: { registrationToken: { existingSecret: "R" } } });
  });

  it("config.source must be configMap or file", () => {
    valid({ config: { source: "configMap" } });
    valid({ config: { source: "file", path: "/app/agent_data/config.yaml" } });
    expect(errorOf({ config: { source: "secret" } })).to.match(/^config\.source: must be configMap or file, got "secret"/);
  });

  it("file mode needs an absolute config.path", () => {
    expect(errorOf({ config: { source: "file" } })).to.match(/^config\.path: config\.source=file needs an absolute path .*got ""/);
    expect(errorOf({ config: { source: "file", path: "relative.yaml" } })).to.match(/^config\.path: .*got "relative\.yaml"/);
    valid({ config: { source: "configMap", path: "relative.yaml" } });
  });

  it("§11a: postgres.auth.existingSecret needs databaseUrl.existingSecret (upstream defect fixed)", async () => {
    expect(errorOf({ eventCache: { postgres: { auth: { existingSecret: "pg-auth" } } } })).to.match(/^eventCache\.postgres\.auth\.existingSecret: needs eventCache\.databaseUrl\.existingSecret/);
    valid({ eventCache: { postgres: { create: false, auth: { existingSecret: "pg-auth" } } } });
    valid({ eventCache: { backend: "sqlite", postgres: { auth: { existingSecret: "pg-auth" } } } });
    // Both set: the chart's PostgreSQL reads the password from one Secret, the runtime the URL from the other.
    const r = await render({ eventCache: { postgres: { auth: { existingSecret: "pg-auth" } }, databaseUrl: { existingSecret: "pg-url", key: "url" } } });
    expect(ofKind(r.objects, "Secret")).to.have.length(0);
    expect(r.regs.filter((x) => x.type.startsWith("random:"))).to.have.length(0);
    expect(secretRef(runtime(r).mindroom, "MINDROOM_EVENT_CACHE_DATABASE_URL")).to.deep.equal({ name: "pg-url", key: "url" });
    const sts = find(r.objects, "StatefulSet", "mindroom-runtime-event-cache-postgres");
    expect(secretRef(sts.spec.template.spec.containers[0], "POSTGRES_PASSWORD")).to.deep.equal({ name: "pg-auth", key: "password" });
  });

  it("unvalidated upstream hazards stay accepted: unknown workers.backend, config.create=false, storage.create=false", async () => {
    valid({ workers: { backend: "docker" } });
    const r = await renderSqlite({ workers: { backend: "docker" }, config: { create: false }, storage: { create: false } });
    const { deployment } = runtime(r);
    expect(deployment.spec.template.spec.containers).to.have.length(1);
    expect(deployment.spec.template.spec.volumes).to.deep.include({ name: "config", configMap: { name: "mindroom-runtime-config" } });
    expect(ofKind(r.objects, "ConfigMap").length + ofKind(r.objects, "PersistentVolumeClaim").length).to.equal(0);
  });

  it("errors are thrown before any resource registers", async () => {
    let caught: unknown;
    const regs = await recordProgram(() => {
      try {
        new MindroomRuntime("mindroom-runtime", { eventCache: { backend: "other" } });
      } catch (err) {
        caught = err;
      }
    });
    expect(caught).to.be.instanceOf(ValuesError);
    expect(regs).to.have.length(0);
  });
});

describe("runtime values: later features (§12) are rejected by name, never ignored", () => {
  const cases: [string, Record<string, unknown>, RegExp][] = [
    // approvedEgress and workers.kubernetes.agentVault are built (approved-egress.test.ts, agent-vault.test.ts); the chart has no top-level agentVault.
    ["agentVault.enabled", { agentVault: { enabled: true } }, /^agentVault: the runtime chart has no top-level agentVault; .*workers\.kubernetes\.agentVault/],
    ["scriptGateway.enabled", { scriptGateway: { enabled: true } }, /^scriptGateway\.enabled: not supported yet: scriptGateway\.enabled/],
    // Not upstream chart values at all (no template of 9f69327b reads them): refused, pointing at contentBundles.
    ["config.bootstrapContentBundle.name", { config: { bootstrapContentBundle: { name: "team" } } }, /^config\.bootstrapContentBundle\.name: is not a value of upstream's runtime chart .*contentBundles/],
    ["config.bootstrapBundlePath", { config: { bootstrapBundlePath: "/bundle" } }, /^config\.bootstrapBundlePath: is not a value of upstream's runtime chart .*contentBundles/],
  ];
  for (const [key, values, error] of cases) {
    it(`${key} switched on is an error naming it`, () => expect(errorOf(values)).to.match(error));
  }

  it("the same sections switched off (as in a copy of upstream's values.yaml) are accepted", () => {
    valid({
      approvedEgress: { enabled: false, image: { repository: "squid" } },
      egressProxy: { enabled: false },
      agentVault: { enabled: false },
      stateStorage: { enabled: false, create: false },
      scriptGateway: { enabled: false, port: 8767 },
      contentBundles: [],
      providerCredentials: [],
      config: { bootstrapContentBundle: { name: "", subPath: "" }, bootstrapBundlePath: "" },
    });
  });
});

describe("runtime values: parsing", () => {
  it("an unknown key is an error naming it (top level and nested)", () => {
    // The shared strict map's wording (infra/values/strict-map.ts): the closest known key, and where every key is listed.
    expect(errorOf({ storag: {} })).to.equal('unknown key "storag"; did you mean "storage"? (every key: docs/runtime.md#values)');
    expect(errorOf({ workers: { kubernetes: { namespase: "w" } } })).to.equal('workers.kubernetes: unknown key "namespase"; did you mean "namespace"? (every key: docs/runtime.md#values)');
    expect(errorOf({ zzzz: 1 })).to.equal('unknown key "zzzz"; remove it (every key: docs/runtime.md#values)');
    expect(errorOf({ image: "mindroom:1" })).to.equal("image: expected a map, got string");
  });

  it("a wrong type names the value and the fix", () => {
    expect(errorOf({ replicaCount: "two" })).to.equal("replicaCount: must be a whole number (unquoted in YAML)");
    expect(errorOf({ replicaCount: -1 })).to.equal("replicaCount: must be 0 or more");
    expect(errorOf({ service: { port: "8765" } })).to.equal("service.port: must be a whole number (unquoted in YAML)");
    expect(errorOf({ env: { extra: "FOO=1" } })).to.equal("env.extra: must be a list (YAML '- ' entries)");
    expect(errorOf({ podLabels: { tier: 1 } })).to.equal("podLabels.tier: must be a string (quote numbers and booleans)");
    expect(errorOf({ workers: { kubernetes: { extraEnv: { A: { b: 1 } } } } })).to.match(/^workers\.kubernetes\.extraEnv\.A: must be a string, number or boolean/);
  });

  it("a wrong-typed inline secret names the value and the fix, never its content", () => {
    const token = errorOf({ workers: { sandbox: { proxyToken: { value: { nested: "Tok3nContent" } } } } });
    expect(token).to.match(/^workers\.sandbox\.proxyToken\.value: must be a string .*--secret/);
    expect(token).to.not.contain("Tok3nContent");
    const password = errorOf({ eventCache: { postgres: { auth: { password: ["Pa55wordContent"] } } } });
    expect(password).to.match(/^eventCache\.postgres\.auth\.password: must be a string .*--secret/);
    expect(password).to.not.contain("Pa55wordContent");
  });

  it("ports are 1-65535 wherever Kubernetes takes a port", () => {
    for (const values of [{ service: { port: 0 } }, { runtime: { apiPort: 70000 } }, { workers: { staticRunner: { port: 0 } } }, { workers: { kubernetes: { port: 65536 } } }, { eventCache: { postgres: { service: { port: 0 } } } }]) {
      expect(errorOf(values), JSON.stringify(values)).to.match(/: must be a port number from 1 to 65535$/);
    }
    valid({ service: { port: 80 }, runtime: { apiPort: 8080 }, workers: { kubernetes: { port: 9000 } } });
  });

  it("pull policies, service type, sizes and PDB bounds are values Kubernetes accepts", () => {
    expect(errorOf({ image: { pullPolicy: "always" } })).to.equal("image.pullPolicy: must be Always, IfNotPresent or Never");
    expect(errorOf({ eventCache: { postgres: { image: { pullPolicy: "" } } } })).to.match(/^eventCache\.postgres\.image\.pullPolicy: must be Always/);
    expect(errorOf({ workers: { kubernetes: { image: { pullPolicy: "Sometimes" } } } })).to.match(/^workers\.kubernetes\.image\.pullPolicy: must be Always, IfNotPresent, Never or empty/);
    expect(errorOf({ service: { type: "ExternalName" } })).to.equal("service.type: must be ClusterIP, NodePort or LoadBalancer");
    expect(errorOf({ storage: { size: "ten gigs" } })).to.equal("storage.size: must be a Kubernetes quantity such as 10Gi");
    expect(errorOf({ eventCache: { postgres: { persistence: { size: "lots" } } } })).to.match(/^eventCache\.postgres\.persistence\.size: must be a Kubernetes quantity/);
    expect(errorOf({ podDisruptionBudget: { minAvailable: "half" } })).to.equal("podDisruptionBudget.minAvailable: must be a whole number or a percentage such as 50%");
    valid({ image: { pullPolicy: "IfNotPresent" }, workers: { kubernetes: { image: { pullPolicy: "" } } }, service: { type: "LoadBalancer" }, storage: { size: "1.5Ti" } });
    valid({ podDisruptionBudget: { create: true, minAvailable: "50%", maxUnavailable: 0 } });
  });

  it("names that become object names or namespaces must be DNS labels", async () => {
    expect(errorOf({ nameOverride: "My Runtime" })).to.match(/^nameOverride: must be lower-case letters, digits and '-'/);
    expect(errorOf({ fullnameOverride: "Runtime" })).to.match(/^fullnameOverride: must be lower-case letters/);
    expect(errorOf({ workers: { kubernetes: { namespace: "Workers" } } })).to.match(/^workers\.kubernetes\.namespace: must be a namespace name/);
    valid({ nameOverride: "rt", fullnameOverride: "edge-rt", workers: { kubernetes: { namespace: "mindroom-workers" } } });
    let thrown: unknown;
    const regs = await recordProgram(() => {
      try {
        new MindroomRuntime("Edge_Runtime", { eventCache: { backend: "sqlite" } });
      } catch (err) {
        thrown = err;
      }
    });
    expect((thrown as Error).message).to.match(/^releaseName: "Edge_Runtime" must be a DNS label/);
    expect(regs).to.have.length(0);
    expect(() => new MindroomRuntime("rt", { namespace: "Apps" })).to.throw(/^namespace: "Apps" must be a DNS label/);
  });

  it("maps merge over the chart defaults as with helm -f; lists replace; null clears", async () => {
    const { mindroom, deployment } = runtime(await renderSqlite({ resources: { limits: { memory: "4Gi" } }, podSecurityContext: { runAsUser: 1000, seccompProfile: null } }));
    expect(mindroom.resources).to.deep.equal({ requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "4Gi" } });
    expect(deployment.spec.template.spec.securityContext).to.deep.equal({ fsGroup: 1000, fsGroupChangePolicy: "OnRootMismatch", runAsNonRoot: true, runAsUser: 1000 });
    const pvc = find((await renderSqlite({ storage: { accessModes: ["ReadWriteMany"] } })).objects, "PersistentVolumeClaim", "mindroom-runtime-storage");
    expect(pvc.spec.accessModes).to.deep.equal(["ReadWriteMany"]);
    const cleared = runtime(await renderSqlite({ resources: null, env: { extra: null } })).mindroom;
    expect(cleared.resources).to.deep.equal({});
    expect(cleared.env.at(-1)).to.deep.equal({ name: "MATRIX_MANAGED_ACCOUNT_AUTH", value: "password" });
  });

  it("parseRuntimeValues: upstream defaults, release mindroom-runtime in mindroom, flags override, prefix in errors", () => {
    const args = parseRuntimeValues({});
    expect(args.releaseName).to.equal("mindroom-runtime");
    expect(args.namespace).to.equal("mindroom");
    expect(args.image).to.deep.equal(RUNTIME_DEFAULTS.image);
    expect(args.workers?.backend).to.equal("static_runner");
    const custom = parseRuntimeValues({}, { name: "rt", namespace: "apps" });
    expect([custom.releaseName, custom.namespace]).to.deep.equal(["rt", "apps"]);
    expect(() => parseRuntimeValues({ config: { source: "x" } }, {}, "mindroom-runtime:values.")).to.throw(/^mindroom-runtime:values\.config\.source: /);
  });

  it("parsed args construct the component unchanged (validation is idempotent)", async () => {
    const direct = await render({ eventCache: { backend: "sqlite" }, workers: { backend: "kubernetes" } }, { releaseName: "rt", namespace: "apps" });
    const parsed = parseRuntimeValues({ eventCache: { backend: "sqlite" }, workers: { backend: "kubernetes" } }, { name: "rt", namespace: "apps" });
    const viaArgs = await render(parsed as Record<string, unknown>, { releaseName: "rt", namespace: "apps" });
    expect(viaArgs.objects).to.deep.equal(direct.objects);
    find(viaArgs.objects, "Deployment", "rt-mindroom-runtime");
    expect(viaArgs.objects.every((o) => o.metadata?.namespace === "apps")).to.equal(true);
  });
});
