/**
 * Object names of the platform. Names are a contract: tenants, RBAC subjects, Helm migration and
 * other stacks refer to these objects by name, so they live in one place.
 */
import { PLATFORM_BACKEND_NAME } from "../../infra/platform-names";
import { TENANT_NAMESPACE } from "../../infra/tenant-names";

/** Shared tenant namespace. The root stack creates it (cluster.md §9); the platform only places Roles in it. */
export const INSTANCES_NAMESPACE = TENANT_NAMESPACE;

/** The platform namespace: upstream hard-codes `mindroom-{environment}`. */
export const platformNamespace = (environment: string): string => `mindroom-${environment}`;

export const CONFIG_MAP_NAME = "platform-config";
export const FRONTEND_NAME = "platform-frontend";
export const BACKEND_NAME = PLATFORM_BACKEND_NAME;
/** ServiceAccount of the upstream backend and of the provisioner: the subject of every platform RBAC binding. */
export const SERVICE_ACCOUNT_NAME = "platform-backend";
export const TENANT_RBAC_NAME = "platform-backend-tenant-rbac";
/** Cluster-scoped, so it carries the environment (Deviation 4). */
export const namespaceManagerName = (environment: string): string => `platform-backend-namespace-manager-${environment}`;
/** Cluster-scoped too: the tenant worker admission policies (docs/instance.md "Worker isolation"). */
export const workerAdmissionManagerName = (environment: string): string => `platform-backend-worker-admission-${environment}`;
export const INGRESS_NAME = "platform-ingress";
export const INGRESS_TLS_SECRET = "platform-tls-cert";
export const REDIRECT_INGRESS_NAME = "platform-root-redirect";
export const REDIRECT_TLS_SECRET = "platform-root-tls-cert";
export const SECURITY_RULE_NAME = "platform-security-alerts";
export const CLUSTER_ISSUER = "letsencrypt-prod";
export const INGRESS_CLASS = "nginx";

export const FRONTEND_PORT = 3000;
export const BACKEND_PORT = 8000;
/** In-cluster URL the frontend uses for the backend (ConfigMap `PLATFORM_BACKEND_URL`). */
export const BACKEND_URL = `http://${BACKEND_NAME}:${BACKEND_PORT}`;

/** Where both the backend and the provisioner find their secret files. */
export const SECRETS_MOUNT_PATH = "/etc/secrets";

/**
 * NetworkPolicies of the platform namespace (docs/platform.md, "NetworkPolicies"); each workload's
 * own policy carries the workload's name.
 */
export const DEFAULT_DENY_POLICY = "platform-default-deny";
export const DNS_POLICY = "platform-allow-cluster-dns";
export const ACME_SOLVER_POLICY = "platform-allow-acme-http01-solver";

export const PROVISIONER_NAME = "mindroom-provisioner";
export const PROVISIONER_PORT = 8080;
export const PROVISIONER_DATA_CLAIM = "mindroom-provisioner-data";
export const PROVISIONER_DATA_PATH = "/data";
