import { expect } from "chai";
import { looksLikeSecretName, secretLiteralViolations } from "../../../infra/policy/secrets";
import { app, deployment, podSpec } from "./fixtures";

describe("policy no-secret-literals", () => {
  it("passes env from a Secret, *_FILE paths, references, public and non-secret names", () => {
    const d = deployment();
    app(d).env.push(
      { name: "SUPABASE_ANON_KEY", value: "eyJhbGciOiJIUzI1NiJ9.anon" },
      { name: "MINDROOM_KUBERNETES_WORKER_CONFIG_KEY", value: "config.yaml" },
      { name: "WORKER_AUTH_SECRET_NAME", value: "mindroom-worker-auth-42" },
      { name: "IMAGE_PULL_SECRET_NAMES", value: "regcred" },
      { name: "DB_PASSWORD", value: "$(POSTGRES_PASSWORD)" },
      { name: "EMPTY_TOKEN", value: "" },
      { name: "DATABASE_URL", value: "postgres://app:$(DB_PASSWORD)@db:5432/app" },
      { name: "MONKEY_BUSINESS", value: "not a secret name" },
    );
    app(d).args = ["serve", "--config-path", "/data/homeserver.yaml", "--generate-keys", "--token-file=/etc/secrets/token", "--password", "$(DB_PASSWORD)"];
    podSpec(d).initContainers[0].command = ["/bin/sh", "-c", "python -m app --generate-keys\nexec app --api-key=\"${API_KEY}\""];
    expect(secretLiteralViolations(deployment())).to.deep.equal([]);
    expect(secretLiteralViolations(d)).to.deep.equal([]);
  });

  it("fails a literal value in an env var named like a key, secret, token or password", () => {
    const d = deployment();
    app(d).env.push({ name: "OPENAI_API_KEY", value: "sk-live-123" }, { name: "postgresPassword", value: "hunter2" }, { name: "MATRIX_REGISTRATION_TOKEN", value: "t0k" });
    expect(secretLiteralViolations(d)).to.deep.equal([
      'container "app": env OPENAI_API_KEY holds a literal value; take it from a Secret (valueFrom.secretKeyRef) or a mounted file (OPENAI_API_KEY_FILE)',
      'container "app": env postgresPassword holds a literal value; take it from a Secret (valueFrom.secretKeyRef) or a mounted file (postgresPassword_FILE)',
      'container "app": env MATRIX_REGISTRATION_TOKEN holds a literal value; take it from a Secret (valueFrom.secretKeyRef) or a mounted file (MATRIX_REGISTRATION_TOKEN_FILE)',
    ]);
  });

  it("fails credentials inside a URL, whatever the variable's name", () => {
    const d = deployment();
    app(d).env.push({ name: "DATABASE_URL", value: "postgres://app:s3cret@db:5432/app" });
    expect(secretLiteralViolations(d)).to.deep.equal(['container "app": env DATABASE_URL is a URL with a password in it; take the password from a Secret']);
  });

  it("fails secret-looking flags with literal values in command and args (inline, separate, inside a shell script)", () => {
    const d = deployment();
    app(d).args = ["--api-key=sk-live-123", "--password", "hunter2"];
    podSpec(d).initContainers[0].command = ["/bin/sh", "-c", "exec psql postgres://u:pw@db/app\nrun --client-secret='abc'"];
    expect(secretLiteralViolations(d)).to.deep.equal([
      'init container "init" passes --client-secret with a literal value; read it from an env var set from a Secret or a mounted file',
      'init container "init" passes a URL with a password in it; read it from an env var set from a Secret or a mounted file',
      'container "app" passes --api-key with a literal value; read it from an env var set from a Secret or a mounted file',
      'container "app" passes --password with a literal value; read it from an env var set from a Secret or a mounted file',
    ]);
  });

  it("reads names by segment: KEY, SECRET, TOKEN, PASSWORD count; a reference suffix or a word inside another does not", () => {
    for (const n of ["OPENAI_API_KEY", "stripeSecretKey", "api-token", "POSTGRES_PASSWORD", "AWS_SECRET_ACCESS_KEY"]) expect(looksLikeSecretName(n), n).to.equal(true);
    for (const n of ["OPENAI_API_KEY_FILE", "TLS_SECRET_NAME", "AWS_ACCESS_KEY_ID", "KEYCLOAK_REALM", "MONKEY", "TOKENIZER_PATH", "PORT"]) expect(looksLikeSecretName(n), n).to.equal(false);
  });
});
