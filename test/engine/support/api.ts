/** A minimal HTTPS client for the test API server: bearer token, the server's CA, JSON bodies. */
import { request as httpsRequest } from "node:https";

export interface ApiResponse {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  text: string;
  /** The `Warning` headers' texts (e.g. Pod Security's "would violate PodSecurity ..."). */
  warnings: string[];
}

/** `299 - "text"` (RFC 7234 warn-code, agent, quoted text) → text. */
const warningText = (h: string) => /^\d{3} \S+ "(.*)"$/.exec(h)?.[1]?.replace(/\\(.)/g, "$1") ?? h;

export interface ApiTarget {
  server: string;
  ca: string;
  token?: string;
}

export function apiRequest(target: ApiTarget, method: string, path: string, body?: unknown, contentType = "application/json"): Promise<ApiResponse> {
  const url = new URL(path, target.server);
  const payload = body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body);
  const headers: Record<string, string> = { Accept: "application/json" };
  if (target.token) headers.Authorization = `Bearer ${target.token}`;
  if (payload !== undefined) headers["Content-Type"] = contentType;
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { method, headers, ca: target.ca, timeout: 30_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // plain text (e.g. /readyz)
        }
        // rawHeaders (name, value, name, value, …): Node joins repeated headers with ", ", which the texts contain.
        const warnings: string[] = [];
        for (let i = 0; i + 1 < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() === "warning") warnings.push(warningText(res.rawHeaders[i + 1]));
        resolve({ status: res.statusCode ?? 0, body: parsed, text, warnings });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on("error", reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
