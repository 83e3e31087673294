import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { waitForReadyz } from "../../../components/cluster/api-ready";
import { testPki } from "../../fixtures/cluster/mocks";

/** A CA and a serving certificate for `san`, as k3s makes when it generates its own CA. */
function servingChain(san: string): { ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), "api-ready-"));
  const run = (...args: string[]) => {
    const r = spawnSync("openssl", args, { encoding: "utf8", cwd: dir });
    if (r.error) throw new Error("openssl not found: apt-get install -y openssl");
    expect(r.status, r.stderr).to.equal(0);
  };
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run("req", "-x509", ...ec, "-days", "1", "-subj", "/CN=k3s-server-ca", "-keyout", "ca.key", "-out", "ca.crt");
  run("req", ...ec, "-subj", "/CN=k3s", "-keyout", "leaf.key", "-out", "leaf.csr");
  writeFileSync(join(dir, "ext"), `subjectAltName=IP:${san}\nextendedKeyUsage=serverAuth\n`);
  run("x509", "-req", "-in", "leaf.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "1", "-extfile", "ext", "-out", "leaf.crt");
  const ca = readFileSync(join(dir, "ca.crt"), "utf8");
  return { ca, cert: readFileSync(join(dir, "leaf.crt"), "utf8") + ca, key: readFileSync(join(dir, "leaf.key"), "utf8") };
}

async function serve(chain: { cert: string; key: string }): Promise<{ url: string; server: Server }> {
  const server = createServer({ cert: chain.cert, key: chain.key }, (_req, res) => res.writeHead(200).end("ok"));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function lastError(url: string, caCert: string): Promise<string> {
  const pki = testPki();
  const error = await waitForReadyz({ url, caCert, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: "1", timeoutSeconds: 0 }, 10).then(
    () => undefined,
    (err: Error) => err,
  );
  expect(error, "the wait must fail").not.to.equal(undefined);
  expect(error!.message).not.to.contain("\n");
  return error!.message;
}

describe("ApiReady diagnosis of TLS failures", function () {
  this.timeout(30_000);

  it("checks the API's certificate against the stack's server CA (a 200 behind another CA does not count)", async () => {
    const { url, server } = await serve(servingChain("127.0.0.1"));
    try {
      const message = await lastError(url, testPki().serverCaCert);
      // k3s generated its own CA instead of adopting ours: the firewall is not the cause.
      expect(message).to.match(/last attempt: TLS: the API's certificate is not signed by the stack's server CA \(SELF_SIGNED_CERT_IN_CHAIN\)/);
      expect(message).to.contain("/var/lib/rancher/k3s/server/tls/server-ca.crt");
      expect(message).not.to.contain("adminCidrs");
    } finally {
      server.close();
    }
  });

  it("names tls-san when the certificate is the cluster's but does not cover the address in the URL", async () => {
    const chain = servingChain("127.0.0.2");
    const { url, server } = await serve(chain);
    try {
      const message = await lastError(url, chain.ca);
      expect(message).to.match(/last attempt: TLS: the API's certificate does not name 127\.0\.0\.1/);
      expect(message).to.contain("tls-san");
      expect(message).not.to.contain("adminCidrs");
    } finally {
      server.close();
    }
  });

  it("passes once the certificate chains to the given CA and names the host", async () => {
    const chain = servingChain("127.0.0.1");
    const { url, server } = await serve(chain);
    try {
      const pki = testPki();
      await waitForReadyz({ url, caCert: chain.ca, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: "1", timeoutSeconds: 0 }, 10);
    } finally {
      server.close();
    }
  });
});
