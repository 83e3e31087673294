/**
 * Cross-cutting HTTP behaviour of spec provisioner.md §3: security headers, trusted hosts,
 * per-route fixed-window rate limits and the 1 MiB request-size guard.
 */
import type { Request, RequestHandler } from "express";
import { rateLimit } from "express-rate-limit";
import helmet from "helmet";

/** The §3.1 headers on every response; helmet for the standard ones, the two legacy ones by hand. */
export function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      frameguard: { action: "deny" },
      strictTransportSecurity: { maxAge: 31_536_000, includeSubDomains: true, preload: false },
      referrerPolicy: { policy: "strict-origin-when-cross-origin" },
      xXssProtection: false,
    }),
    (_req, res, next) => {
      res.setHeader("X-XSS-Protection", "1; mode=block");
      if (!res.hasHeader("Permissions-Policy")) res.setHeader("Permissions-Policy", "camera=(), microphone=(), geolocation=()");
      next();
    },
  ];
}

/** Host names the service answers to (§3.1 trusted hosts); the port is ignored, as upstream. */
export function trustedHosts(opts: { platformDomain: string; environment: string; podIp: string }): (host: string) => boolean {
  const exact = new Set(["testserver", "localhost", "127.0.0.1", opts.platformDomain.toLowerCase()]);
  for (const service of ["platform-backend", "mindroom-provisioner", "provisioner"]) {
    for (const suffix of ["", `.mindroom-${opts.environment}`, `.mindroom-${opts.environment}.svc`, `.mindroom-${opts.environment}.svc.cluster.local`]) {
      exact.add(`${service}${suffix}`);
    }
  }
  // Kubelet probes address the pod IP; an IPv6 one arrives bracketed in Host.
  if (opts.podIp) exact.add(opts.podIp.includes(":") ? `[${opts.podIp.toLowerCase()}]` : opts.podIp);
  const suffix = `.${opts.platformDomain.toLowerCase()}`;
  return (host) => {
    const name = hostName(host);
    return exact.has(name) || name.endsWith(suffix);
  };
}

/** `Host` without port (IPv6 literals keep their brackets). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith("[")) return h.slice(0, h.indexOf("]") + 1);
  return h.split(":")[0];
}

/** Rate-limit key (§3.3): X-Real-IP, else the first X-Forwarded-For entry, else the socket peer. */
export function clientKey(req: Request): string {
  const realIp = req.headers["x-real-ip"];
  const real = (Array.isArray(realIp) ? realIp[0] : realIp)?.trim();
  if (real) return real;
  const xff = req.headers["x-forwarded-for"];
  const first = (Array.isArray(xff) ? xff[0] : xff)?.split(",")[0]?.trim();
  if (first) return first;
  return req.socket.remoteAddress ?? "unknown";
}

/** Fixed window of one minute per route and client; the 429 body and log line are upstream's. */
export function perMinute(limit: number, log: { warn(obj: object, msg: string): void }): RequestHandler {
  return rateLimit({
    windowMs: 60_000,
    limit,
    standardHeaders: false,
    legacyHeaders: false,
    keyGenerator: clientKey,
    // The key deliberately trusts forwarding headers as upstream does (§3.3 hazard); the checks
    // that would warn about that and about IPv6 subnets do not apply to this keying.
    validate: { xForwardedForHeader: false, keyGeneratorIpFallback: false, trustProxy: false },
    handler: (req, res) => {
      log.warn({}, `429 Too Many Requests: path=${req.path} client=${req.socket.remoteAddress ?? "unknown"}`);
      res.status(429).json({ error: `Rate limit exceeded: ${limit} per 1 minute` });
    },
  });
}

export const MAX_BODY_BYTES = 1_048_576;

/** §3.2: a parseable Content-Length above 1 MiB → 413 before the route; the body parser caps real bytes too. */
export const sizeGuard: RequestHandler = (req, res, next) => {
  const declared = Number(req.headers["content-length"]);
  if (Number.isFinite(declared) && declared > MAX_BODY_BYTES) {
    res.status(413).json({ detail: "Request too large" });
    return;
  }
  next();
};

/** RFC 7240 `Prefer: wait=N` (seconds), capped; null when absent. */
export function preferWait(header: string | undefined, maxSeconds: number): number | null {
  const m = header ? /(?:^|[,;\s])wait\s*=\s*"?(\d{1,6})"?/i.exec(header) : null;
  return m ? Math.min(Number(m[1]), maxSeconds) : null;
}
