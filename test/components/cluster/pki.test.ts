import * as pulumi from "@pulumi/pulumi";
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { X509Certificate, createPrivateKey, createPublicKey } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import { clusterPkiProvider } from "../../../components/cluster/pki-resource";
import { buildKubeconfig } from "../../../components/cluster/kubeconfig";
import { generateClusterPki } from "../../../components/cluster/pki";
import { apiReadyProvider, waitForReadyz } from "../../../components/cluster/api-ready";
import { testPki } from "../../fixtures/cluster/mocks";

function opensslVerify(ca: string, cert: string): number | null {
  const dir = mkdtempSync(join(tmpdir(), "pki-"));
  writeFileSync(join(dir, "ca.pem"), ca);
  writeFileSync(join(dir, "cert.pem"), cert);
  const r = spawnSync("openssl", ["verify", "-CAfile", join(dir, "ca.pem"), join(dir, "cert.pem")], { encoding: "utf8" });
  if (r.error) throw new Error("openssl not found");
  return r.status;
}

/**
 * The provider as the engine gets it: serialized by Pulumi's closure serializer (what goes into
 * state as `__provider`) and evaluated on its own, without this process's module state.
 */
async function reloaded(provider: pulumi.dynamic.ResourceProvider): Promise<pulumi.dynamic.ResourceProvider> {
  const serialized = await pulumi.runtime.serializeFunction(() => provider);
  const mod: { exports: Record<string, () => pulumi.dynamic.ResourceProvider> } = { exports: {} };
  new Function("module", "exports", "require", serialized.text)(mod, mod.exports, require);
  return mod.exports[serialized.exportName]();
}

describe("cluster PKI", () => {
  it("makes two self-signed P-256 CAs valid for ten years", () => {
    const pki = testPki();
    for (const [pem, cn] of [[pki.serverCaCert, "test-server-ca"], [pki.clientCaCert, "test-client-ca"]]) {
      const cert = new X509Certificate(pem);
      expect(cert.ca).to.equal(true);
      expect(cert.subject).to.equal(`CN=${cn}`);
      expect(cert.verify(cert.publicKey)).to.equal(true);
      expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).to.equal("prime256v1");
      const years = (Date.parse(cert.validTo) - Date.parse(cert.validFrom)) / (365.25 * 86_400_000);
      expect(years).to.be.within(9.9, 10.1);
      expect(opensslVerify(pem, pem)).to.equal(0);
    }
  });

  it("issues an admin client certificate in system:masters, signed by the client CA only", () => {
    const pki = testPki();
    const admin = new X509Certificate(pki.adminCert);
    expect(admin.ca).to.equal(false);
    expect(admin.subject).to.equal("O=system:masters\nCN=test-admin");
    expect(admin.keyUsage).to.include("1.3.6.1.5.5.7.3.2");
    expect(admin.checkIssued(new X509Certificate(pki.clientCaCert))).to.equal(true);
    expect(opensslVerify(pki.clientCaCert, pki.adminCert)).to.equal(0);
    expect(opensslVerify(pki.serverCaCert, pki.adminCert)).not.to.equal(0);
    expect(admin.checkPrivateKey(createPrivateKey(pki.adminKey))).to.equal(true);
    expect(pki.serverCaKey).to.match(/^-----BEGIN EC PRIVATE KEY-----/);
  });

  it("generates different keys every time (nothing is derived from fixed input)", () => {
    const a = generateClusterPki({ clusterName: "x" });
    const b = generateClusterPki({ clusterName: "x" });
    expect(createPublicKey(a.serverCaKey).export({ format: "jwk" }).x).not.to.equal(createPublicKey(b.serverCaKey).export({ format: "jwk" }).x);
  });

  it("the dynamic provider survives Pulumi's closure serialization and runs on its own", async function () {
    this.timeout(30_000);
    const provider = await reloaded(clusterPkiProvider);
    const created = await provider.create!({ clusterName: "ser", adminCertGeneration: 1, adminValidityDays: 30 });
    expect(created.id).to.equal("ser-pki");
    expect(opensslVerify(created.outs.clientCaCert, created.outs.adminCert)).to.equal(0);

    const same = await provider.diff!(created.id, created.outs, { clusterName: "ser", adminCertGeneration: 1, adminValidityDays: 30 });
    expect(same.changes).to.equal(false);
    const renew = await provider.diff!(created.id, created.outs, { clusterName: "ser", adminCertGeneration: 2, adminValidityDays: 30 });
    expect(renew).to.include({ changes: true });
    expect(renew.replaces).to.deep.equal([]);
    const renamed = await provider.diff!(created.id, created.outs, { clusterName: "other", adminCertGeneration: 1, adminValidityDays: 30 });
    expect(renamed.replaces).to.deep.equal(["clusterName"]);

    const updated = await provider.update!(created.id, created.outs, { clusterName: "ser", adminCertGeneration: 2, adminValidityDays: 30 });
    expect(updated.outs.serverCaCert).to.equal(created.outs.serverCaCert);
    expect(updated.outs.adminCert).not.to.equal(created.outs.adminCert);
    expect(opensslVerify(created.outs.clientCaCert, updated.outs.adminCert)).to.equal(0);
  });

  it("the readiness provider survives Pulumi's closure serialization and fails with a one-line fix", async function () {
    this.timeout(30_000);
    const provider = await reloaded(apiReadyProvider);
    const pki = testPki();
    const inputs = { url: "https://127.0.0.1:9", caCert: pki.serverCaCert, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: "7", timeoutSeconds: 0 };
    const error = await provider.create!(inputs).then(() => undefined, (err: Error) => err);
    expect(error?.message).to.match(/^https:\/\/127\.0\.0\.1:9\/readyz did not answer 200 within 0s; last attempt: no connection/);
    expect(error?.message).not.to.contain("\n");
    const moved = await provider.diff!("7-ready", inputs, { ...inputs, serverId: "8" });
    expect(moved).to.deep.equal({ changes: true, replaces: ["serverId"] });
  });

  it("builds a kubeconfig with the CA and client certificate embedded", () => {
    const pki = testPki();
    const doc = parse(buildKubeconfig({ clusterName: "c", server: "https://192.0.2.1:6443", caCert: pki.serverCaCert, clientCert: pki.adminCert, clientKey: pki.adminKey })) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(doc["current-context"]).to.equal("c");
    expect(doc.contexts[0].context).to.deep.equal({ cluster: "c", user: "c-admin" });
    expect(Buffer.from(doc.users[0].user["client-key-data"], "base64").toString()).to.equal(pki.adminKey);
  });

  it("the readiness wait gives up with a fix when the API never answers", async () => {
    const pki = testPki();
    let error: Error | undefined;
    try {
      await waitForReadyz({ url: "https://127.0.0.1:9", caCert: pki.serverCaCert, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: "1", timeoutSeconds: 0 }, 10);
    } catch (err) {
      error = err as Error;
    }
    expect(error?.message).to.match(/did not answer 200 within 0s; last attempt: no connection \(connect ECONNREFUSED 127\.0\.0\.1:9\): check that cluster\.adminCidrs\.kubeApi/);
    expect(error?.message).not.to.contain("\n");
  });

  it("the readiness wait returns on 200 and blames the certificate on 401", async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), "readyz-"));
    const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem")], { encoding: "utf8" });
    expect(made.status, made.stderr).to.equal(0);
    const cert = readFileSync(join(dir, "cert.pem"), "utf8");
    let status = 401;
    const server = createServer({ cert, key: readFileSync(join(dir, "key.pem")) }, (req, res) => res.writeHead(req.url === "/readyz" ? status : 404).end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const pki = testPki();
    const inputs = { url, caCert: cert, clientCert: pki.adminCert, clientKey: pki.adminKey, serverId: "1", timeoutSeconds: 0 };
    try {
      let error: Error | undefined;
      await waitForReadyz(inputs, 10).catch((err: Error) => (error = err));
      expect(error?.message).to.match(/last attempt: HTTP 401: the API rejects the admin certificate, so k3s did not adopt the generated CAs/);
      status = 200;
      await waitForReadyz(inputs, 10);
    } finally {
      server.close();
    }
  });
});
