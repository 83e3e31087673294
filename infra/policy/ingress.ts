/**
 * TLS on every Ingress (docs/policy.md): `spec.tls` lists a certificate Secret for every host the
 * rules serve. A host without a TLS entry is served by ingress-nginx's self-signed default
 * certificate (browsers refuse it) and cert-manager issues no certificate for it; a rule without a
 * host matches every name, which no certificate covers.
 */
import type { KubeObject, Obj } from "./kube";

/** Whether a TLS host entry covers `host`: equal, or a `*.` wildcard for exactly one more label. */
export function tlsHostCovers(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  const h = host.toLowerCase();
  if (p === h) return true;
  if (!p.startsWith("*.")) return false;
  const suffix = p.slice(1); // ".example.com"
  return h.endsWith(suffix) && h.length > suffix.length && !h.slice(0, h.length - suffix.length).includes(".");
}

export function ingressTlsViolations(obj: KubeObject): string[] {
  if (obj.kind !== "Ingress") return [];
  const spec: Obj = obj.spec ?? {};
  const tls = (spec.tls ?? []) as Obj[];
  const rules = (spec.rules ?? []) as Obj[];
  const out: string[] = [];
  if (tls.length === 0) return ["the Ingress has no spec.tls; every Ingress serves HTTPS with a certificate Secret"];
  tls.forEach((t, i) => {
    if (typeof t.secretName !== "string" || t.secretName === "") out.push(`spec.tls[${i}] names no secretName (ingress-nginx would serve its self-signed default certificate)`);
  });
  if (spec.defaultBackend !== undefined) out.push("spec.defaultBackend serves every host name, which no certificate covers; route by host in spec.rules");
  rules.forEach((r, i) => {
    const host = r.host as string | undefined;
    if (host === undefined || host === "") {
      out.push(`spec.rules[${i}] has no host: it matches every name, which no certificate covers`);
      return;
    }
    const covered = tls.some((t) => typeof t.secretName === "string" && t.secretName !== "" && ((t.hosts ?? []) as string[]).some((p) => tlsHostCovers(p, host)));
    if (!covered) out.push(`host ${host} (spec.rules[${i}]) is not in any spec.tls entry with a secretName`);
  });
  return out;
}
