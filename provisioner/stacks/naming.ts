/**
 * Tenant stack names: `<environment>-<instance id>`, e.g. `staging-42`.
 *
 * Why not upstream's release name `instance-{id}` (spec §1.2): instance ids come from each
 * environment's own Supabase sequence, so staging and production both have a tenant 42. With one
 * shared backend (`s3://`, `postgres://`) `instance-42` would make a staging provision update the
 * production tenant. Prefixing the environment keeps the names unique per backend, lets `list()`
 * select this environment's stacks by prefix, and still fits Pulumi's stack-name rules and a DNS label.
 */

/** Pulumi stack-name rules and DNS-1123 label in one (pulumi.md §2.12). */
export const STACK_NAME_PATTERN = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** Project of every tenant stack. */
export const TENANT_PROJECT = "mindroom-tenant";

/** Builds and validates the stack name; throws one line naming the bad part. */
export function tenantStackName(environment: string, instanceId: string): string {
  if (!/^[1-9][0-9]{0,9}$/.test(instanceId)) {
    throw new Error(`instance id "${instanceId}" is not a positive integer; hosted instance ids are digits only`);
  }
  const name = `${environment}-${instanceId}`;
  if (!STACK_NAME_PATTERN.test(name)) {
    throw new Error(
      `stack name "${name}" is invalid: the environment must be a short lower-case DNS label such as staging or production`,
    );
  }
  return name;
}

/** Instance id of one of this environment's stack names, or undefined for any other stack. */
export function instanceIdOf(environment: string, stackName: string): string | undefined {
  const short = stackName.split("/").pop() ?? stackName;
  const prefix = `${environment}-`;
  if (!short.startsWith(prefix)) return undefined;
  const id = short.slice(prefix.length);
  return /^[1-9][0-9]{0,9}$/.test(id) ? id : undefined;
}
