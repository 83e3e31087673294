/**
 * No secret literals in a pod template (docs/policy.md): a container's env var whose name says it
 * holds a key, secret, token or password must take its value from a Secret (`valueFrom`), or point
 * at a file (`…_FILE`, as the project mounts secrets); no env value carries credentials in a URL;
 * and no command or argument passes a secret-looking flag with a literal value. A literal in the
 * pod template is readable by everyone who may read the workload, lands in `pulumi preview` diffs
 * and the stack state in the clear, and survives rotation of the Secret.
 */
import { containerRef, containersOf, podTemplateOf, type KubeObject, type Obj } from "./kube";

/** A name segment that says the value is a credential (`OPENAI_API_KEY`, `POSTGRES_PASSWORD`, `apiToken`). */
const SECRET_WORDS = new Set(["KEY", "KEYS", "SECRET", "SECRETS", "TOKEN", "TOKENS", "PASSWORD", "PASSWD", "PASS", "PWD", "CREDENTIAL", "CREDENTIALS", "APIKEY"]);

/** A last segment that makes the variable a reference to a secret, not the secret itself. */
const REFERENCE_SUFFIXES = new Set(["FILE", "PATH", "DIR", "NAME", "NAMES", "REF", "ID", "URL", "ISSUER", "HEADER", "HEADERS"]);

/**
 * Env vars whose names match but whose literal values are not secrets, each with its reason.
 * Exact names only: a new variable is judged by the rule until it is added here with a reason.
 */
export const NOT_SECRET_ENV: Record<string, string> = {
  // Supabase's anon key is public by design: it ships in every browser bundle; row-level security,
  // not the key, guards the data (docs/platform.md, provisioner env; docs/instance.md).
  SUPABASE_ANON_KEY: "public Supabase anon key",
  // Names the key inside the tenant's ConfigMap (`config.yaml`), not a credential.
  MINDROOM_KUBERNETES_WORKER_CONFIG_KEY: "a ConfigMap key name",
};

/** Splits `OPENAI_API_KEY`, `openai-api-key` and `openaiApiKey` into upper-case segments. */
export function nameSegments(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((s) => s.toUpperCase());
}

/** True when `name` says it holds a credential and is not a reference to one. */
export function looksLikeSecretName(name: string): boolean {
  const segments = nameSegments(name);
  if (segments.length === 0 || REFERENCE_SUFFIXES.has(segments[segments.length - 1])) return false;
  return segments.some((s) => SECRET_WORDS.has(s));
}

/** A literal a secret cannot be: empty, a Kubernetes `$(VAR)` reference or a shell `$VAR`/`${VAR}`, an absolute path. */
function harmlessLiteral(value: string): boolean {
  return value === "" || /^\$\(\w+\)$/.test(value) || /^\$\{?\w+\}?$/.test(value) || value.startsWith("/");
}

/** `scheme://user:password@host`: credentials inside a URL. `$(VAR)` passwords are references. */
const URL_CREDENTIALS = /\b[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:([^/\s@]+)@/i;
const urlCarriesPassword = (value: string) => {
  const m = URL_CREDENTIALS.exec(value);
  return m !== null && !harmlessLiteral(m[1]);
};

/** `--password=…`, `--api-key=…`, `-token=…` inside one argument (a flag or a shell script). */
const INLINE_FLAG = /(?:^|\s)--?([A-Za-z][\w.-]*)=("[^"]*"|'[^']*'|\S+)/g;

function argumentViolations(args: string[]): string[] {
  const out: string[] = [];
  args.forEach((arg, i) => {
    if (typeof arg !== "string") return;
    for (const m of arg.matchAll(INLINE_FLAG)) {
      const value = m[2].replace(/^["']|["']$/g, "");
      if (looksLikeSecretName(m[1]) && !harmlessLiteral(value)) out.push(`passes --${m[1]} with a literal value`);
    }
    // `--password <value>` as two arguments.
    const flag = /^--?([A-Za-z][\w.-]*)$/.exec(arg);
    const next = args[i + 1];
    if (flag && looksLikeSecretName(flag[1]) && typeof next === "string" && !next.startsWith("-") && !harmlessLiteral(next)) {
      out.push(`passes ${arg} with a literal value`);
    }
    if (urlCarriesPassword(arg)) out.push("passes a URL with a password in it");
  });
  return out;
}

/** Every secret literal in the pod template of `obj`; [] for objects without one. */
export function secretLiteralViolations(obj: KubeObject): string[] {
  const template = podTemplateOf(obj);
  if (!template) return [];
  const out: string[] = [];
  for (const at of containersOf(template.spec)) {
    const who = containerRef(at);
    for (const e of (at.c.env ?? []) as Obj[]) {
      if (typeof e.value !== "string" || e.valueFrom !== undefined) continue;
      if (looksLikeSecretName(e.name) && !(e.name in NOT_SECRET_ENV) && !harmlessLiteral(e.value)) {
        out.push(`${who}: env ${e.name} holds a literal value; take it from a Secret (valueFrom.secretKeyRef) or a mounted file (${e.name}_FILE)`);
      } else if (urlCarriesPassword(e.value)) {
        out.push(`${who}: env ${e.name} is a URL with a password in it; take the password from a Secret`);
      }
    }
    for (const v of argumentViolations([...((at.c.command ?? []) as string[]), ...((at.c.args ?? []) as string[])])) {
      out.push(`${who} ${v}; read it from an env var set from a Secret or a mounted file`);
    }
  }
  return out;
}
