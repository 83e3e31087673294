import { expect } from "chai";
import { createHash } from "node:crypto";
import { parse } from "yaml";
import { containsSecret } from "../../../infra/render/manifests";
import { parseInstanceValues } from "../../../components/instance/values";
import { container, envOf, K8S_RWX, podSpec, renderArgs, renderValues } from "./helpers";

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

  it("52: (Deviation 2) the Secret volume projects only the two Synapse keys, read-only at /etc/mindroom-secrets, readable mode", () => {
    const d = r.get("Deployment", "synapse-t1");
    const volume = podSpec(d).volumes.find((v: { secret?: unknown }) => v.secret);
    expect(volume.secret.items).to.deep.equal([
      { key: "matrix_registration_shared_secret", path: "matrix_registration_shared_secret" },
      { key: "matrix_oidc_client_secret", path: "matrix_oidc_client_secret" },
    ]);
    expect(volume.secret.defaultMode ?? 0o644).to.be.at.least(0o444);
    expect(container(d, "synapse").volumeMounts).to.deep.include({ name: volume.name, mountPath: "/etc/mindroom-secrets", readOnly: true });
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
    const a = homeserver(r);
    const b = homeserver(await renderArgs({ customer: "t1", baseDomain: "example.org" }));
    expect(a.macaroon_secret_key).to.match(/^[A-Za-z0-9]{32}$/);
    expect(a.form_secret).to.match(/^[A-Za-z0-9]{32}$/);
    expect(a.form_secret).to.not.equal(a.macaroon_secret_key);
    expect([b.macaroon_secret_key, b.form_secret]).to.deep.equal([a.macaroon_secret_key, a.form_secret]);
    const p = homeserver(await renderValues({ customer: "t1", matrix_admin_password: "P" }));
    expect([p.macaroon_secret_key, p.form_secret]).to.deep.equal(["P", "P"]);
    // They live in a ConfigMap as upstream, but registered as secrets: encrypted in state, redacted in render.
    expect(containsSecret(r.reg("ConfigMap", "synapse-config-t1").inputs.data)).to.equal(true);
  });

  it("64: OIDC on with an empty issuer or clientId throws; both set is accepted", () => {
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: true } })).to.throw(/^matrixOidc\.issuer: required/);
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: "true", issuer: "https://i", clientId: "" } })).to.throw(/^matrixOidc\.clientId: required/);
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: true, issuer: "https://i" } })).to.not.throw();
    expect(() => parseInstanceValues({ customer: "t1", matrixOidc: { enabled: "1" } })).to.not.throw();
  });
});
