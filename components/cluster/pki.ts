/**
 * The cluster's certificate authorities and the admin client certificate, made in-process with
 * `node:crypto` (ECDSA P-256, the key type k3s generates for its own CAs).
 *
 * Why here and not on the node: k3s keeps CA files that exist in `/var/lib/rancher/k3s/server/tls`
 * at first start (k3s-io/k3s#1868). Shipping our CAs through cloud-init lets Pulumi write the
 * kubeconfig itself, so one `pulumi up` creates the servers and then everything inside the cluster,
 * with no SSH fetch and no second pass. Node can sign but not build X.509 certificates, so the
 * few DER structures a certificate needs are encoded below (`@pulumi/tls` is not a dependency).
 * This file needs nothing but `node:crypto`: the dynamic provider that calls it is serialized
 * into Pulumi state and must run without the project's modules.
 */
import type * as Crypto from "node:crypto";

/**
 * `node:crypto`, required at call time: Pulumi's closure serializer captures a required built-in by
 * name, but not the interop wrapper an `import` statement compiles to.
 */
function nodeCrypto(): typeof Crypto {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return require("crypto") as typeof Crypto;
}

/** PEM texts of one cluster's PKI. Keys are SEC1 `EC PRIVATE KEY`, as k3s writes its own. */
export interface ClusterPkiMaterial {
  serverCaCert: string;
  serverCaKey: string;
  clientCaCert: string;
  clientCaKey: string;
  adminCert: string;
  adminKey: string;
  /** ISO date after which the admin certificate is rejected (renew with a new generation). */
  adminNotAfter: string;
}

export interface PkiOptions {
  /** Subject prefix, e.g. the cluster name: `mindroom-k8s-server-ca`. */
  clusterName: string;
  /** Start of validity; defaults to now minus five minutes (clock skew between here and the node). */
  now?: Date;
  caValidityDays?: number;
  adminValidityDays?: number;
}

function len(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), len(content.length), content]);
}

const seq = (...parts: Buffer[]) => tlv(0x30, Buffer.concat(parts));
const set = (...parts: Buffer[]) => tlv(0x31, Buffer.concat(parts));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, "utf8"));
const octets = (b: Buffer) => tlv(0x04, b);
const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);

function integer(value: Buffer): Buffer {
  let v = value;
  while (v.length > 1 && v[0] === 0 && v[1] < 0x80) v = v.subarray(1);
  return tlv(0x02, v[0] >= 0x80 ? Buffer.concat([Buffer.from([0]), v]) : v);
}

function oid(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split(".").map(Number);
  const out = [40 * a + b];
  for (const n of rest) {
    const chunk = [n & 0x7f];
    for (let v = n >>> 7; v > 0; v >>>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** DER BIT STRING of named bits (bit 0 = most significant bit of the first byte), minimal length. */
function namedBits(bits: number[]): Buffer {
  const bytes = Buffer.alloc(Math.floor(Math.max(...bits) / 8) + 1);
  for (const bit of bits) bytes[bit >> 3] |= 0x80 >> (bit & 7);
  const last = bytes[bytes.length - 1];
  let unused = 0;
  while (unused < 7 && (last & (1 << unused)) === 0) unused++;
  return tlv(0x03, Buffer.concat([Buffer.from([unused]), bytes]));
}

function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, "").slice(0, 14);
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function name(commonName: string, organization?: string): Buffer {
  const rdn = (type: string, value: string) => set(seq(oid(type), utf8(value)));
  return seq(...(organization ? [rdn("2.5.4.10", organization)] : []), rdn("2.5.4.3", commonName));
}

/** A function, not a constant: the closure serializer cannot rebuild a module-level Buffer. */
const ecdsaSha256 = () => seq(oid("1.2.840.10045.4.3.2"));
const KEY_USAGE = { digitalSignature: 0, keyEncipherment: 2, keyCertSign: 5, cRLSign: 6 };

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return seq(oid(id), ...(critical ? [tlv(0x01, Buffer.from([0xff]))] : []), octets(value));
}

/** RFC 5280 method 1: SHA-1 of the subjectPublicKey bits (the uncompressed EC point). */
function keyId(key: Crypto.KeyObject): Buffer {
  const point = nodeCrypto().createPublicKey(key).export({ format: "jwk" });
  const raw = Buffer.concat([Buffer.from([4]), Buffer.from(point.x as string, "base64url"), Buffer.from(point.y as string, "base64url")]);
  return nodeCrypto().createHash("sha1").update(raw).digest();
}

interface CertSpec {
  subject: { cn: string; o?: string };
  issuer: { cn: string; o?: string; key: Crypto.KeyObject };
  key: Crypto.KeyObject;
  notBefore: Date;
  notAfter: Date;
  ca: boolean;
  clientAuth?: boolean;
}

function certificate(spec: CertSpec): string {
  const publicKey = nodeCrypto().createPublicKey(spec.key);
  const extensions = [
    extension("2.5.29.15", true, namedBits(spec.ca ? [KEY_USAGE.digitalSignature, KEY_USAGE.keyCertSign, KEY_USAGE.cRLSign] : [KEY_USAGE.digitalSignature, KEY_USAGE.keyEncipherment])),
    extension("2.5.29.19", true, spec.ca ? seq(tlv(0x01, Buffer.from([0xff]))) : seq()),
    ...(spec.clientAuth ? [extension("2.5.29.37", false, seq(oid("1.3.6.1.5.5.7.3.2")))] : []),
    extension("2.5.29.14", false, octets(keyId(spec.key))),
    extension("2.5.29.35", false, seq(tlv(0x80, keyId(spec.issuer.key)))),
  ];
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))),
    integer(nodeCrypto().randomBytes(16)),
    ecdsaSha256(),
    name(spec.issuer.cn, spec.issuer.o),
    seq(time(spec.notBefore), time(spec.notAfter)),
    name(spec.subject.cn, spec.subject.o),
    publicKey.export({ type: "spki", format: "der" }),
    explicit(3, seq(...extensions)),
  );
  const signature = nodeCrypto().sign("sha256", tbs, spec.issuer.key);
  const der = seq(tbs, ecdsaSha256(), tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  return `-----BEGIN CERTIFICATE-----\n${der.toString("base64").replace(/.{64}/g, "$&\n").replace(/\n?$/, "\n")}-----END CERTIFICATE-----\n`;
}

const newKey = () => nodeCrypto().generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
const pemKey = (key: Crypto.KeyObject) => key.export({ type: "sec1", format: "pem" }).toString();
const days = (from: Date, n: number) => new Date(from.getTime() + n * 86_400_000);

/** A self-signed CA (k3s names: `<cluster>-server-ca`, `<cluster>-client-ca`). */
function selfSignedCa(cn: string, notBefore: Date, validityDays: number): { cert: string; key: Crypto.KeyObject } {
  const key = newKey();
  const cert = certificate({ subject: { cn }, issuer: { cn, key }, key, notBefore, notAfter: days(notBefore, validityDays), ca: true });
  return { cert, key };
}

/**
 * The admin client certificate (`O=system:masters`: cluster-admin through the default RBAC
 * binding), signed by the client CA whose PEM key is given.
 */
export function issueAdminCert(clusterName: string, clientCaKeyPem: string, notBefore: Date, validityDays: number): { cert: string; key: string; notAfter: string } {
  const caKey = nodeCrypto().createPrivateKey(clientCaKeyPem);
  const key = newKey();
  const notAfter = days(notBefore, validityDays);
  const cert = certificate({
    subject: { cn: `${clusterName}-admin`, o: "system:masters" },
    issuer: { cn: `${clusterName}-client-ca`, key: caKey },
    key,
    notBefore,
    notAfter,
    ca: false,
    clientAuth: true,
  });
  return { cert, key: pemKey(key), notAfter: notAfter.toISOString() };
}

/** Fresh CAs and admin certificate. Called once (the result is kept in encrypted Pulumi state). */
export function generateClusterPki(options: PkiOptions): ClusterPkiMaterial {
  const notBefore = options.now ?? new Date(Date.now() - 5 * 60_000);
  const caDays = options.caValidityDays ?? 3650;
  const server = selfSignedCa(`${options.clusterName}-server-ca`, notBefore, caDays);
  const client = selfSignedCa(`${options.clusterName}-client-ca`, notBefore, caDays);
  const admin = issueAdminCert(options.clusterName, pemKey(client.key), notBefore, options.adminValidityDays ?? 730);
  return {
    serverCaCert: server.cert,
    serverCaKey: pemKey(server.key),
    clientCaCert: client.cert,
    clientCaKey: pemKey(client.key),
    adminCert: admin.cert,
    adminKey: admin.key,
    adminNotAfter: admin.notAfter,
  };
}
