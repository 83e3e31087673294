/** `providerCredentials` env of container `mindroom` (upstream deployment.yaml). */
import type { RuntimeValues } from "../schema";
import { PROVIDER_ENV } from "../schema-provider-credentials";

/** One secretKeyRef per entry, in list order, under the provider's native env name. */
export function providerCredentialEnv(v: RuntimeValues): { name: string; valueFrom: { secretKeyRef: { name: string; key: string } } }[] {
  return v.providerCredentials.map((e) => ({ name: PROVIDER_ENV[e.provider], valueFrom: { secretKeyRef: { name: e.existingSecret, key: e.key } } }));
}
