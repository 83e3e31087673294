import { expect } from "chai";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { containsSecret } from "../../../infra/render/manifests";
import { parseInstanceValues } from "../../../components/instance/values";
import { synapseSecretPathsProblem } from "../../../components/instance/synapse-config";
import { container, envOf, K8S_RWX, podSpec, renderArgs, renderValues, withWarnings } from "./helpers";

type R = Awaited<ReturnType<typeof renderArgs>>;
const homeserver = (r: R) => parse(r.get("ConfigMap", "synapse-config-t1").data["homeserver.yaml"], { version: "1.1" });

describe("MindroomInstance: Synapse (spec §17 items 50-64)", () => {
  let r: R;
  before(async () => {
    r = await renderArgs({ customer: "t1", baseDomain: "example.org" });
  });

  it("50: synapse-{c} uses matrixdotorg/synapse:latest with the four SYNAPSE_* env", () => {
    const c = container(r.get("Deployment", "synapse-t1"), "synapse");
    expect(c.image).to.equal("matrixdotorg/synapse:latest");
    expect(c.imagePullPolicy).to.equal("Always");
    expect(envOf(c)).to.deep.equal({ SYNAPSE_SERVER_NAME: "t1.example.org", SYNAPSE_REPORT_STATS: "no", SYNAPSE_CONFIG_DIR: "/data", SYNAPSE_DATA_DIR: "/data" });
    expect(c.ports).to.deep.equal([{ containerPort: 8008, name: "http" }]);
  });

  it("51: Synapse mounts its PVC at /data and homeserver.yaml / log.config as subPath files", () => {
    const d = r.get("Deployment", "synapse-t1");
    const mounts = container(d, "synapse").volumeMounts;
    expect(mounts.slice(0, 3)).to.deep.equal([
      { name: "synapse-data", mountPath: "/data" },
      { name: "synapse-config", mountPath: "/data/homeserver.yaml", subPath: "homeserver.yaml" },
      { name: "synapse-config", mountPath: "/data/log.config", subPath: "log.config" },
    ]);
    expect(podSpec(d).volumes.slice(0, 2)).to.deep.equal([
      { name: "synapse-data", persistentVolumeClaim: { claimName: "synapse-storage-t1" } },
      { name: "synapse-config", configMap: { name: "synapse-config-t1" } },
    ]);
    expect(podSpec(d)).to.not.have.property("serviceAccountName");
    expect(d.spec).to.not.have.property("strategy");
  });

  it("52: (Deviation 2) the secrets volume projects only the two Synapse keys of the tenant Secret, and (issue 9) the two of synapse-secrets-{c}, read-only at /etc/mindroom-secrets, readable mode", () => {
    const d = r.get("Deployment", "synapse-t1");
    const volumes = podSpec(d).volumes.filter((v: { secret?: unknown; projected?: unknown }) => v.secret || v.projected);
    expect(volumes).to.have.length(1);
    const [volume] = volumes;
    expect(volume.projected.sources).to.deep.equal([
      {
        secret: {
          name: "mindroom-api-keys-t1",
          items: [
            { key: "matrix_registration_shared_secret", path: "matrix_registration_shared_secret" },
            { key: "matrix_oidc_client_secret", path: "matrix_oidc_client_secret" },
          ],
        },
      },
      { secret: { name: "synapse-secrets-t1", items: [{ key: "macaroon_secret_key", path: "macaroon_secret_key" }, { key: "form_secret", path: "form_secret" }] } },
    ]);
    expect(volume.projected.defaultMode ?? 0o644).to.be.at.least(0o444);
    expect(container(d, "synapse").volumeMounts).to.deep.include({ name: volume.name, mountPath: "/etc/mindroom-secrets", readOnly: true });
    // Every file homeserver.yaml names in that directory is one the volume projects.
    const projected = volume.projected.sources.flatMap((s: { secret: { items: { path: string }[] } }) => s.secret.items.map((i) => `/etc/mindroom-secrets/${i.path}`));
    const named = JSON.stringify(homeserver(r)).match(/\/etc\/mindroom-secrets\/\w+/g);
    expect(named).to.have.length(3);
    expect(projected).to.include.members(named!);
  });

  it("53: (Deviation 2) stock image keeps the upstream command, adds only no-escalation + RuntimeDefault; non-root image adds runAsNonRoot and drops ALL", async () => {
    const c = container(r.get("Deployment", "synapse-t1"), "synapse");
    expect(c.command).to.deep.equal(["/bin/sh"]);
    expect(c.args[0]).to.equal("-c");
    expect(c.args[1]).to.contain("chown -R 991:991 /data").and.contain("/data/t1.signing.key").and.contain("su-exec 991:991").and.contain("exec /start.py");
    expect(c.securityContext).to.deep.equal({ allowPrivilegeEscalation: false, seccompProfile: { type: "RuntimeDefault" } });
    const x = await renderValues({ customer: "t1", synapse_image: "reg/synapse-nonroot:1", synapseImageRunsAsNonRoot: true });
    expect(container(x.get("Deployment", "synapse-t1"), "synapse").securityContext).to.deep.equal({
      allowPrivilegeEscalation: false, runAsNonRoot: true, capabilities: { drop: ["ALL"] }, seccompProfile: { type: "RuntimeDefault" },
    });
  });

  it("(issue 9) the Synapse pod mounts no ServiceAccount token, in either worker mode: it never calls the Kubernetes API", async () => {
    expect(podSpec(r.get("Deployment", "synapse-t1")).automountServiceAccountToken).to.equal(false);
    const k8s = await renderValues({ customer: "t1", ...K8S_RWX });
    expect(podSpec(k8s.get("Deployment", "synapse-t1")).automountServiceAccountToken).to.equal(false);
  });

  it("54: the only probe is readiness GET /_matrix/client/versions on http, every 5 s, failureThreshold 120", () => {
    const c = container(r.get("Deployment", "synapse-t1"), "synapse");
    expect(c.readinessProbe).to.deep.equal({ httpGet: { path: "/_matrix/client/versions", port: "http" }, periodSeconds: 5, failureThreshold: 120 });
    expect(c).to.not.have.property("livenessProbe");
    expect(c).to.not.have.property("startupProbe");
  });

  it("55: the Synapse pod carries synapse-config-hash and the same instance-secret-hash as MindRoom", async () => {
    const a = r.get("Deployment", "synapse-t1").spec.template.metadata.annotations;
    expect(a["mindroom.ai/synapse-config-hash"]).to.match(/^[0-9a-f]{64}$/);
    expect(a["mindroom.ai/instance-secret-hash"]).to.equal(r.get("Deployment", "mindroom-t1").spec.template.metadata.annotations["mindroom.ai/instance-secret-hash"]);
    const oidc = await renderValues({ customer: "t1", baseDomain: "example.org", matrixOidc: { enabled: true, issuer: "https://i" } });
    expect(oidc.get("Deployment", "synapse-t1").spec.template.metadata.annotations["mindroom.ai/synapse-config-hash"]).to.not.equal(a["mindroom.ai/synapse-config-hash"]);
    // §7: customer|baseDomain|enabled|issuer|clientId|JSON(auto-join keys).
    const keyed = await renderValues({ customer: "t1", baseDomain: "example.org", matrixOidc: { enabled: true, issuer: "https://i" }, matrixAutoJoinRoomKeys: ["lobby", "dev"] });
    const sha = createHash("sha256").update('t1|example.org|true|https://i|mindroom-synapse|["lobby","dev"]').digest("hex");
    expect(keyed.get("Deployment", "synapse-t1").spec.template.metadata.annotations["mindroom.ai/synapse-config-hash"]).to.equal(sha);
  });

  it("(issue 9) the synapse-secret-hash annotation rolls Synapse when the macaroon or form secret changes, also under an explicit instanceSecrets.hash", async () => {
    const hashOf = (x: R) => x.get("Deployment", "synapse-t1").spec.template.metadata.annotations["mindroom.ai/synapse-secret-hash"];
    const base = { customer: "t1", instanceSecrets: { hash: "H" }, synapseMacaroonSecretKey: "m1", synapseFormSecret: "f1" };
    const one = await renderValues(base);
    expect(hashOf(one)).to.equal(createHash("sha256").update("m1|f1").digest("hex"));
    expect(hashOf(await renderValues({ ...base, synapseMacaroonSecretKey: "m2" }))).to.not.equal(hashOf(one));
    expect(hashOf(await renderValues({ ...base, synapseFormSecret: "f2" }))).to.not.equal(hashOf(one));
    expect(hashOf(await renderValues({ ...base, openai_key: "sk-other", mindroom_image: "reg/m:2" }))).to.equal(hashOf(one));
    // Derived values follow the registration secret; matrix_admin_password sets both.
    const derived = async (v: Record<string, unknown>) => hashOf(await renderValues({ customer: "t1", ...v }));
    expect(await derived({ matrixRegistrationSharedSecret: "r1" })).to.not.equal(await derived({ matrixRegistrationSharedSecret: "r2" }));
    expect(await derived({ matrix_admin_password: "P" })).to.equal(createHash("sha256").update("P|P").digest("hex"));
    // Plain, like the other hashes, and only on the Synapse pod.
    expect(containsSecret(one.reg("Deployment", "synapse-t1").inputs.spec)).to.equal(false);
    expect(one.get("Deployment", "mindroom-t1").spec.template.metadata.annotations).to.not.have.property("mindroom.ai/synapse-secret-hash");
  });

  it("56: homeserver.yaml identity, single listener with x_forwarded, sqlite at /data/homeserver.db", () => {
    const h = homeserver(r);
    expect(h.server_name).to.equal("t1.example.org");
    expect(h.public_baseurl).to.equal("https://t1.matrix.example.org/");
    expect(h.listeners).to.deep.equal([{ port: 8008, tls: false, type: "http", x_forwarded: true, resources: [{ names: ["client", "federation"], compress: false }] }]);
    expect(h.database).to.deep.equal({ name: "sqlite3", args: { database: "/data/homeserver.db" } });
    expect(h.signing_key_path).to.equal("/data/t1.signing.key");
    expect(h.log_config).to.equal("/data/log.config");
    expect(parse(r.get("ConfigMap", "synapse-config-t1").data["log.config"]).root).to.deep.equal({ level: "INFO", handlers: ["console"] });
    expect(r.get("ConfigMap", "synapse-config-t1").metadata.labels).to.deep.equal({ app: "synapse", customer: "t1" });
  });

  it("57: registration_shared_secret_path points into /etc/mindroom-secrets; never an inline secret", async () => {
    const x = await renderValues({ customer: "t1", matrixRegistrationSharedSecret: "REG-INLINE" });
    const text = x.get("ConfigMap", "synapse-config-t1").data["homeserver.yaml"];
    expect(parse(text).registration_shared_secret_path).to.equal("/etc/mindroom-secrets/matrix_registration_shared_secret");
    expect(parse(text)).to.not.have.property("registration_shared_secret");
    expect(text).to.not.contain("REG-INLINE");
  });

  it("(issue 9) homeserver.yaml reads the macaroon and form secrets from files and inlines no secret; with matrix_admin_password (= the registration secret) none of it either", async () => {
    for (const values of [{}, { matrix_admin_password: "ADMIN-PW" }, { synapseMacaroonSecretKey: "MAC-GIVEN", synapseFormSecret: "FORM-GIVEN" }]) {
      const x = await renderValues({ customer: "t1", ...values });
      const text = x.get("ConfigMap", "synapse-config-t1").data["homeserver.yaml"];
      const h = parse(text);
      expect(h).to.include({ macaroon_secret_key_path: "/etc/mindroom-secrets/macaroon_secret_key", form_secret_path: "/etc/mindroom-secrets/form_secret" });
      // Synapse refuses to start when both an inline secret and its _path are set.
      for (const inline of ["macaroon_secret_key", "form_secret", "registration_shared_secret"]) expect(h, inline).to.not.have.property(inline);
      const synapse = x.get("Secret", "synapse-secrets-t1").stringData;
      const registration = x.get("Secret", "mindroom-api-keys-t1").stringData.matrix_registration_shared_secret;
      for (const secret of [synapse.macaroon_secret_key, synapse.form_secret, registration]) expect(text).to.not.contain(secret);
    }
  });

  it("58: OIDC off: open registration without verification, no OIDC provider", () => {
    const h = homeserver(r);
    expect(h).to.include({ enable_registration: true, enable_registration_without_verification: true });
    expect(h).to.not.have.property("oidc_providers");
    expect(h).to.not.have.property("auto_join_rooms");
  });

  it("59: OIDC on: registration off, password login on, one provider mindroom reading its secret from a file", async () => {
    const x = await renderValues({ customer: "t1", matrixOidc: { enabled: true, issuer: "https://api.example.org/matrix-oidc" } });
    const h = homeserver(x);
    expect(h).to.include({ enable_registration: false, enable_registration_without_verification: false });
    expect(h.password_config).to.deep.equal({ enabled: true });
    expect(h.oidc_providers).to.have.length(1);
    expect(h.oidc_providers[0]).to.deep.include({
      idp_id: "mindroom", idp_name: "MindRoom", discover: true, issuer: "https://api.example.org/matrix-oidc", client_id: "mindroom-synapse",
      client_secret_path: "/etc/mindroom-secrets/matrix_oidc_client_secret", scopes: ["openid", "profile", "email"],
      user_profile_method: "userinfo_endpoint", allow_existing_users: true, enable_registration: true,
    });
    expect(h.oidc_providers[0].user_mapping_provider.config.localpart_template).to.equal("{{ user.email|lower|localpart_from_email }}");
    expect(h.oidc_providers[0].user_mapping_provider.config.subject_template).to.equal("{{ user.sub }}");
  });

  it("60: matrixOidc.enabled=\"1\" does not render the OIDC branch (needs exactly true)", async () => {
    for (const enabled of ["1", "yes", "True"]) {
      const h = homeserver(await renderValues({ customer: "t1", matrixOidc: { enabled, issuer: "" } }));
      expect(h, enabled).to.not.have.property("oidc_providers");
      expect(h.enable_registration).to.equal(true);
    }
    expect(homeserver(await renderValues({ customer: "t1", matrixOidc: { enabled: "true", issuer: "https://i" } }))).to.have.property("oidc_providers");
  });

  it("61: OIDC on with auto-join [lobby, dev] gives the room aliases and no auto-creation", async () => {
    const h = homeserver(await renderValues({ customer: "t1", baseDomain: "example.org", matrixOidc: { enabled: true, issuer: "https://i" }, matrixAutoJoinRoomKeys: ["lobby", "dev"] }));
    expect(h.auto_join_rooms).to.deep.equal(["#lobby:t1.example.org", "#dev:t1.example.org"]);
    expect(h.autocreate_auto_join_rooms).to.equal(false);
    const off = homeserver(await renderValues({ customer: "t1", matrixAutoJoinRoomKeys: ["lobby"] }));
    expect(off).to.not.have.property("auto_join_rooms");
  });

  it("62: every rc_* rate is 10000; no federation whitelist entries; no URL previews", () => {
    const h = homeserver(r);
    const leaves: [string, unknown][] = [];
    const walk = (path: string, v: unknown) => {
      if (typeof v === "object" && v !== null) for (const [k, x] of Object.entries(v)) walk(`${path}.${k}`, x);
      else leaves.push([path, v]);
    };
    for (const [k, v] of Object.entries(h)) if (k.startsWith("rc_")) walk(k, v);
    expect(leaves.length).to.be.greaterThan(30);
    for (const [path, v] of leaves) {
      if (/per_second|burst_count|sleep_limit|reject_limit|concurrent/.test(path)) expect(v, path).to.equal(10000);
    }
    expect(h.rc_federation).to.deep.equal({ window_size: 1000000, sleep_limit: 10000, sleep_delay: 1, reject_limit: 10000, concurrent: 10000 });
    expect(h.federation_rr_transactions_per_room_per_second).to.equal(10000);
    expect(h.federation_domain_whitelist).to.deep.equal([]);
    expect(h.url_preview_enabled).to.equal(false);
    expect(h.report_stats).to.equal(false);
  });

  it("63: macaroon/form secrets are independent 32-character values, stable across ups, both = matrix_admin_password when set", async () => {
    const synapseSecrets = (x: R) => x.get("Secret", "synapse-secrets-t1").stringData;
    const a = synapseSecrets(r);
    const b = synapseSecrets(await renderArgs({ customer: "t1", baseDomain: "example.org" }));
    expect(Object.keys(a).sort()).to.deep.equal(["form_secret", "macaroon_secret_key"]);
    expect(a.macaroon_secret_key).to.match(/^[A-Za-z0-9]{32}$/);
    expect(a.form_secret).to.match(/^[A-Za-z0-9]{32}$/);
    expect(a.form_secret).to.not.equal(a.macaroon_secret_key);
    expect(b).to.deep.equal(a);
    const p = synapseSecrets(await renderValues({ customer: "t1", matrix_admin_password: "P" }));
    expect(p).to.deep.equal({ macaroon_secret_key: "P", form_secret: "P" });
    // Issue 9: in a Secret of their own, not a ConfigMap as upstream; labelled as the Synapse workload, and a secret input (encrypted in state, redacted in render).
    const secret = r.get("Secret", "synapse-secrets-t1");
    expect(secret.type).to.equal("Opaque");
    expect(secret.metadata.labels).to.deep.equal({ app: "synapse", customer: "t1" });
    expect(containsSecret(r.reg("Secret", "synapse-secrets-t1").inputs.stringData)).to.equal(true);
  });

  it("(issue 9) a synapse_image tag older than Synapse 1.126.0 (which reads form_secret_path; 1.121.0 macaroon_secret_key_path) warns on every up; latest and unknown tags do not", async () => {
    expect(synapseSecretPathsProblem("matrixdotorg/synapse:v1.120.0")).to.match(
      /^synapse_image: "matrixdotorg\/synapse:v1\.120\.0" ignores form_secret_path \(Synapse 1\.126\.0\) and macaroon_secret_key_path \(1\.121\.0; .*use Synapse 1\.126\.0 or later$/,
    );
    expect(synapseSecretPathsProblem("matrixdotorg/synapse:1.125.0")).to.contain("ignores form_secret_path").and.not.contain("macaroon_secret_key_path");
    expect(synapseSecretPathsProblem("matrixdotorg/synapse:v1.121.0rc1@sha256:0123abcd")).to.contain("ignores form_secret_path");
    for (const ok of ["matrixdotorg/synapse:latest", "matrixdotorg/synapse:v1.126.0", "matrixdotorg/synapse:v1.140.1", "reg:5000/synapse", "reg/synapse@sha256:0123abcd", "reg/synapse:nonroot-2"]) {
      expect(synapseSecretPathsProblem(ok), ok).to.equal(undefined);
    }
    const { warnings } = await withWarnings(async () => {
      await renderValues({ customer: "t1", synapse_image: "matrixdotorg/synapse:v1.120.0" });
      await renderValues({ customer: "t1" });
    });
    expect(warnings.filter((w) => w.includes("synapse_image"))).to.have.length(1);
  });

  it("64: OIDC on with an empty issuer or clientId throws; both set is accepted", () => {
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: true } })).to.throw(/^matrixOidc\.issuer: required/);
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: "true", issuer: "https://i", clientId: "" } })).to.throw(/^matrixOidc\.clientId: required/);
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: true, issuer: "https://i" } })).to.not.throw();
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: "1" } })).to.not.throw();
  });
});
