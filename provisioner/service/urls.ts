/** Tenant URLs (spec provisioner.md §6.3); the tenant Ingress serves exactly these hosts. */
export interface TenantUrls {
  frontend_url: string;
  api_url: string;
  matrix_url: string;
}

export function tenantUrls(instanceId: string, baseDomain: string): TenantUrls {
  return {
    frontend_url: `https://${instanceId}.${baseDomain}`,
    api_url: `https://${instanceId}.api.${baseDomain}`,
    matrix_url: `https://${instanceId}.matrix.${baseDomain}`,
  };
}

/** The six URL columns of `instances` the provisioner fills (upstream writes each URL twice). */
export function urlColumns(urls: TenantUrls) {
  return {
    instance_url: urls.frontend_url,
    frontend_url: urls.frontend_url,
    backend_url: urls.api_url,
    api_url: urls.api_url,
    matrix_url: urls.matrix_url,
    matrix_server_url: urls.matrix_url,
  };
}
