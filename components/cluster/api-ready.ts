/**
 * `ApiReady`: waits until the new control plane answers `/readyz` with the admin certificate, so
 * the Kubernetes provider is handed a kubeconfig only once k3s (installed by cloud-init after the
 * server boots) actually serves it. Without it, in-cluster resources of the first `up` would race
 * the install and fail.
 */
import * as pulumi from "@pulumi/pulumi";
import type * as Https from "node:https";

export interface ApiReadyArgs {
  /** `https://host:6443` */
  url: pulumi.Input<string>;
  caCert: pulumi.Input<string>;
  clientCert: pulumi.Input<string>;
  clientKey: pulumi.Input<string>;
  /** Changes when the server is replaced, so the wait runs again. */
  serverId: pulumi.Input<string>;
  /** Default 900: boot, package download and k3s start take 2-5 minutes on a cx/cpx server. */
  timeoutSeconds?: pulumi.Input<number>;
}

interface Inputs {
  url: string;
  caCert: string;
  clientCert: string;
  clientKey: string;
  serverId: string;
  timeoutSeconds?: number;
}

/** A probe that got no HTTP answer: the error's text and, for TLS and socket errors, Node's code. */
export interface ProbeFailure {
  message: string;
  code?: string;
}

/** One GET of `/readyz`: the HTTP status, or why there was no answer. */
export function probeReadyz(inputs: Inputs): Promise<number | ProbeFailure> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const https = require("https") as typeof Https;
  return new Promise((resolve) => {
    // rejectUnauthorized stays at its default (true): only a server holding the stack's CA counts. agent: false
    // gives every probe its own connection, so no pooled socket outlives the wait.
    const req = https.get(`${inputs.url}/readyz`, { ca: inputs.caCert, cert: inputs.clientCert, key: inputs.clientKey, timeout: 5000, agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on("timeout", () => req.destroy(new Error("no answer within 5s")));
    req.on("error", (err: NodeJS.ErrnoException) => resolve({ message: err.message, code: err.code }));
  });
}

/**
 * What the last probe says about the cause, so the error points at the firewall, the CA or k3s.
 * Inside the function (not module constants) because the dynamic provider is serialized with it.
 */
function diagnosis(last: number | ProbeFailure, url: string): string {
  if (typeof last === "number") {
    if (last === 401 || last === 403) return `HTTP ${last}: the API rejects the admin certificate, so k3s did not adopt the generated CAs; compare /var/lib/rancher/k3s/server/tls/client-ca.crt with the stack's`;
    return `HTTP ${last}: k3s is up but not ready; run \`kubectl get --raw='/readyz?verbose'\` on the server`;
  }
  const untrusted = ["SELF_SIGNED_CERT_IN_CHAIN", "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "UNABLE_TO_GET_ISSUER_CERT", "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "CERT_SIGNATURE_FAILURE"];
  if (last.code === "ERR_TLS_CERT_ALTNAME_INVALID") {
    return `TLS: the API's certificate does not name ${new URL(url).hostname} (${last.message}); k3s's tls-san must list it (the Primary IP and cluster.apiHostname are), and a hostname must resolve to this cluster's control plane`;
  }
  if (last.code !== undefined && untrusted.includes(last.code)) {
    return `TLS: the API's certificate is not signed by the stack's server CA (${last.code}): k3s made its own instead of adopting /var/lib/rancher/k3s/server/tls/server-ca.crt, or the address is another server's; compare that file with the kubeconfig's certificate-authority-data`;
  }
  if (last.code === "CERT_HAS_EXPIRED" || last.code === "CERT_NOT_YET_VALID") return `TLS: ${last.message} (${last.code}); check the clocks of this machine and the server`;
  return `no connection (${last.message}): check that cluster.adminCidrs.kubeApi contains this machine's address, then read /var/log/cloud-init-output.log on the server`;
}

export async function waitForReadyz(inputs: Inputs, intervalMs = 5000): Promise<void> {
  const timeout = inputs.timeoutSeconds ?? 900;
  const deadline = Date.now() + timeout * 1000;
  for (;;) {
    const last = await probeReadyz(inputs);
    if (last === 200) return;
    if (Date.now() >= deadline) throw new Error(`${inputs.url}/readyz did not answer 200 within ${timeout}s; last attempt: ${diagnosis(last, inputs.url)}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export const apiReadyProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: Inputs) {
    await waitForReadyz(inputs);
    return { id: `${inputs.serverId}-ready`, outs: { url: inputs.url, serverId: inputs.serverId } };
  },
  async diff(_id: string, olds: Inputs, news: Inputs) {
    const replaces = olds.serverId !== news.serverId || olds.url !== news.url ? ["serverId"] : [];
    return { changes: replaces.length > 0, replaces };
  },
};

export class ApiReady extends pulumi.dynamic.Resource {
  declare readonly url: pulumi.Output<string>;

  constructor(name: string, args: ApiReadyArgs, opts?: pulumi.CustomResourceOptions) {
    super(apiReadyProvider, name, { ...args, clientCert: pulumi.secret(args.clientCert), clientKey: pulumi.secret(args.clientKey) }, { ...opts, additionalSecretOutputs: ["clientKey", "clientCert"] }, "mindroom", "ApiReady");
  }
}
