/**
 * What to open once the local stack is up: the platform's URLs from the stack outputs
 * (`platformUrls`, on the ingress through the cluster's mapped host ports) and the command that
 * forwards the in-cluster provisioner to localhost.
 */
import { PROVISIONER_NAME, PROVISIONER_PORT } from "../../components/platform/names";
import type { Ports } from "./cluster";

/** `url` with the mapped host port when it is not the scheme's default. */
export function onHostPort(url: string, ports: Ports): string {
  const u = new URL(url);
  const port = u.protocol === "https:" ? ports.https : ports.http;
  u.port = (u.protocol === "https:" && port === 443) || (u.protocol === "http:" && port === 80) ? "" : String(port);
  return u.toString().replace(/\/$/, "");
}

export interface UrlReport {
  outputs: Record<string, unknown>;
  ports: Ports;
  context: string;
  /** The platform namespace and whether the provisioner runs (stack file). */
  platform: { namespace: string; provisioner: boolean };
}

export function urlLines(r: UrlReport): string[] {
  const lines: string[] = [];
  const urls = r.outputs.platformUrls as Record<string, string> | undefined;
  if (urls && typeof urls === "object") {
    for (const [name, url] of Object.entries(urls)) lines.push(`${`${name}:`.padEnd(13)} ${onHostPort(url, r.ports)}`);
    lines.push("(no certificates locally: the browser warns about ingress-nginx's self-signed one; *.localhost resolves to this machine)");
  } else {
    lines.push(`ingress:      http://localhost:${r.ports.http}  https://localhost:${r.ports.https}  (the stack deploys no platform: mindroom:deployPlatform is off)`);
  }
  if (r.platform.provisioner) {
    lines.push(
      `provisioner:  http://127.0.0.1:${PROVISIONER_PORT} after: kubectl --context ${r.context} -n ${r.platform.namespace} port-forward svc/${PROVISIONER_NAME} ${PROVISIONER_PORT}:${PROVISIONER_PORT}`,
    );
  }
  lines.push(`kubectl:      kubectl --context ${r.context} get pods -A`);
  return lines;
}
