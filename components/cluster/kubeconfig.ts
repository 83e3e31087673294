/** The admin kubeconfig, built from the PKI this stack generated (no fetch from the node). */
import { stringify } from "yaml";

export interface KubeconfigParts {
  clusterName: string;
  /** `https://host:6443` */
  server: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
}

const b64 = (pem: string) => Buffer.from(pem, "utf8").toString("base64");

export function buildKubeconfig(parts: KubeconfigParts): string {
  const user = `${parts.clusterName}-admin`;
  return stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: parts.clusterName, cluster: { server: parts.server, "certificate-authority-data": b64(parts.caCert) } }],
    users: [{ name: user, user: { "client-certificate-data": b64(parts.clientCert), "client-key-data": b64(parts.clientKey) } }],
    contexts: [{ name: parts.clusterName, context: { cluster: parts.clusterName, user } }],
    "current-context": parts.clusterName,
  });
}
