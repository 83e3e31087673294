/**
 * ConfigMap `synapse-config-{c}`: `homeserver.yaml` and `log.config` (spec §8.2, §8.3). It holds no
 * secret: Synapse reads the registration and OIDC client secrets from files of the tenant Secret,
 * and (project, issue 9) the macaroon and form secrets from files of Secret `synapse-secrets-{c}`.
 * Upstream inlined those two here, where whoever may read ConfigMaps reads them (with
 * `matrix_admin_password` they are the registration secret, which creates admin users).
 */
import type * as k8s from "@pulumi/kubernetes";
import { stringify } from "yaml";
import { NAMESPACE, type ResolvedInstance } from "./resolve";
import { appLabels, type InstanceNames } from "./names";

export const SYNAPSE_SECRETS_DIR = "/etc/mindroom-secrets";

/** Keys of Secret `synapse-secrets-{c}`, each a file of that name in {@link SYNAPSE_SECRETS_DIR}. */
export const SYNAPSE_OWN_SECRET_KEYS = ["macaroon_secret_key", "form_secret"] as const;

const secretFile = (key: string) => `${SYNAPSE_SECRETS_DIR}/${key}`;

/**
 * A warning when `image`'s tag names a Synapse release that ignores the `*_path` options below
 * (an unknown option is no error to Synapse, so nothing else would tell). Tags that name no
 * release (`latest`, a digest, a custom name) pass: the default `latest` is new enough.
 */
export function synapseSecretPathsProblem(image: string): string | undefined {
  const release = /:v?(\d+)\.(\d+)(?:\.\d+)?(?:rc\d+)?(?:@sha256:[0-9a-f]+)?$/.exec(image);
  if (!release) return undefined;
  const [major, minor] = [Number(release[1]), Number(release[2])];
  if (major > 1 || minor >= 126) return undefined;
  const macaroon = minor < 121 ? " and macaroon_secret_key_path (1.121.0; its macaroon key falls back to the registration secret)" : "";
  return `synapse_image: "${image}" ignores form_secret_path (Synapse 1.126.0)${macaroon}, so form_secret is unset (only user-consent forms, not configured here, use it); use Synapse 1.126.0 or later`;
}

const unlimited = { per_second: 10000, burst_count: 10000 };

/** Every `rc_*` limit at 10000: rate limiting effectively off, as upstream. */
function rateLimits(): Record<string, unknown> {
  return {
    rc_message: unlimited,
    rc_registration: unlimited,
    rc_registration_token_validity: unlimited,
    rc_login: { address: unlimited, account: unlimited, failed_attempts: unlimited },
    rc_admin_redaction: unlimited,
    rc_joins: { local: unlimited, remote: unlimited },
    rc_joins_per_room: unlimited,
    rc_3pid_validation: unlimited,
    rc_invites: { per_room: unlimited, per_user: unlimited, per_issuer: unlimited },
    rc_third_party_invite: unlimited,
    rc_media_create: unlimited,
    rc_federation: { window_size: 1000000, sleep_limit: 10000, sleep_delay: 1, reject_limit: 10000, concurrent: 10000 },
    rc_presence: { per_user: unlimited },
    rc_delayed_event_mgmt: unlimited,
    rc_reports: unlimited,
    rc_room_creation: unlimited,
    federation_rr_transactions_per_room_per_second: 10000,
  };
}

const YAML_OPTIONS = { version: "1.1", lineWidth: 0 } as const;
/** The static tail of homeserver.yaml, serialised once per process. */
let rateLimitsYaml: string | undefined;

/** homeserver.yaml text: the per-tenant settings, then the (static) rate limits. */
export function homeserverYaml(r: ResolvedInstance, n: InstanceNames): string {
  rateLimitsYaml ??= stringify(rateLimits(), YAML_OPTIONS);
  return stringify(homeserverSettings(r, n), YAML_OPTIONS) + rateLimitsYaml;
}

/** Everything in homeserver.yaml except the rate limits. */
export function homeserverSettings(r: ResolvedInstance, n: InstanceNames): Record<string, unknown> {
  const oidc = r.matrixOidc;
  const registration = oidc.on
    ? { enable_registration: false, enable_registration_without_verification: false, password_config: { enabled: true } }
    : { enable_registration: true, enable_registration_without_verification: true };
  const oidcProviders = oidc.on
    ? {
        oidc_providers: [
          {
            idp_id: "mindroom",
            idp_name: "MindRoom",
            discover: true,
            issuer: oidc.issuer,
            client_id: oidc.clientId,
            client_secret_path: secretFile("matrix_oidc_client_secret"),
            scopes: ["openid", "profile", "email"],
            user_profile_method: "userinfo_endpoint",
            allow_existing_users: true,
            enable_registration: true,
            user_mapping_provider: {
              config: {
                subject_template: "{{ user.sub }}",
                localpart_template: "{{ user.email|lower|localpart_from_email }}",
                display_name_template: "{{ user.name }}",
                email_template: "{{ user.email }}",
              },
            },
          },
        ],
      }
    : {};
  const autoJoin = oidc.on && r.matrixAutoJoinRoomKeys.length > 0
    ? { auto_join_rooms: r.matrixAutoJoinRoomKeys.map((k) => `#${k}:${n.matrixServerName}`), autocreate_auto_join_rooms: false }
    : {};
  return {
    server_name: n.matrixServerName,
    public_baseurl: `https://${n.hosts.matrix}/`,
    pid_file: "/data/homeserver.pid",
    listeners: [{ port: 8008, tls: false, type: "http", x_forwarded: true, resources: [{ names: ["client", "federation"], compress: false }] }],
    database: { name: "sqlite3", args: { database: "/data/homeserver.db" } },
    media_store_path: "/data/media_store",
    uploads_path: "/data/uploads",
    ...registration,
    registration_shared_secret_path: secretFile("matrix_registration_shared_secret"),
    ...oidcProviders,
    ...autoJoin,
    report_stats: false,
    // Synapse 1.121.0 added macaroon_secret_key_path, 1.126.0 form_secret_path (element-hq/synapse
    // docs/usage/configuration/config_documentation.md). An older image ignores both: its macaroon
    // key falls back to the registration secret and form_secret is unset (docs/instance.md).
    macaroon_secret_key_path: secretFile("macaroon_secret_key"),
    form_secret_path: secretFile("form_secret"),
    signing_key_path: `/data/${r.customer}.signing.key`,
    trusted_key_servers: [{ server_name: "matrix.org" }],
    log_config: "/data/log.config",
    url_preview_enabled: false,
    federation_domain_whitelist: [],
  };
}

export const LOG_CONFIG = stringify(
  {
    version: 1,
    formatters: { simple: { format: "%(asctime)s - %(name)s - %(lineno)d - %(levelname)s - %(request)s - %(message)s" } },
    handlers: { console: { class: "logging.StreamHandler", formatter: "simple", stream: "ext://sys.stdout" } },
    root: { level: "INFO", handlers: ["console"] },
    disable_existing_loggers: false,
  },
  YAML_OPTIONS,
);

export function synapseConfigMap(r: ResolvedInstance, n: InstanceNames): k8s.types.input.core.v1.ConfigMap {
  return {
    metadata: { name: n.synapseConfig, namespace: NAMESPACE, labels: appLabels("synapse", r) },
    data: { "homeserver.yaml": homeserverYaml(r, n), "log.config": LOG_CONFIG },
  };
}
