/**
 * `providerCredentials` (docs/runtime.md "Provider credentials" checklist, P1–P3): per-provider
 * API key env on the runtime container from existing Secrets, and upstream's checks.
 */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { PROVIDER_ENV } from "../../../components/runtime/schema-provider-credentials";
import { renderSqlite, runtime, container, envNames, secretRef, KUBE } from "./helpers";
import { errorOf, refusedBeforeRegistering, valid } from "./feature-helpers";

describe("runtime providerCredentials", () => {
  it("P1 each entry is a secretKeyRef under the provider's env name, after the Matrix env and before env.extra, in list order", async () => {
    const r = await renderSqlite({
      matrix: { registrationToken: { existingSecret: "R" } },
      env: { extra: [{ name: "FOO", value: "bar" }] },
      providerCredentials: [
        { provider: "openai", existingSecret: "llm", key: "openai-api-key" },
        { provider: "anthropic", existingSecret: "llm", key: "anthropic-api-key" },
      ],
    });
    validateKubeObjects(r.objects);
    const { deployment, mindroom } = runtime(r);
    expect(envNames(mindroom).slice(-5)).to.deep.equal(["MATRIX_MANAGED_ACCOUNT_AUTH", "MATRIX_REGISTRATION_TOKEN", "OPENAI_API_KEY", "ANTHROPIC_API_KEY", "FOO"]);
    expect(secretRef(mindroom, "OPENAI_API_KEY")).to.deep.equal({ name: "llm", key: "openai-api-key" });
    expect(secretRef(mindroom, "ANTHROPIC_API_KEY")).to.deep.equal({ name: "llm", key: "anthropic-api-key" });
    // The sidecar runs agent tool code: no provider keys there.
    expect(envNames(container(deployment, "sandbox-runner"))).to.not.include("OPENAI_API_KEY");
  });

  it("P2 all ten providers map to upstream's env names; kubernetes workers get none of them", async () => {
    expect(PROVIDER_ENV).to.deep.equal({
      anthropic: "ANTHROPIC_API_KEY",
      azure: "AZURE_OPENAI_API_KEY",
      openai: "OPENAI_API_KEY",
      google: "GOOGLE_API_KEY",
      openrouter: "OPENROUTER_API_KEY",
      deepseek: "DEEPSEEK_API_KEY",
      cerebras: "CEREBRAS_API_KEY",
      groq: "GROQ_API_KEY",
      zai: "ZAI_API_KEY",
      ollama: "OLLAMA_HOST",
    });
    const all = Object.keys(PROVIDER_ENV).map((provider) => ({ provider, existingSecret: "llm", key: provider }));
    const r = await renderSqlite({ ...KUBE, providerCredentials: all });
    validateKubeObjects(r.objects);
    const { mindroom } = runtime(r);
    for (const [provider, env] of Object.entries(PROVIDER_ENV)) expect(secretRef(mindroom, env), provider).to.deep.equal({ name: "llm", key: provider });
    expect(JSON.stringify(mindroom.env.find((e: { name: string }) => e.name === "MINDROOM_KUBERNETES_WORKER_ENV_JSON") ?? {})).to.not.contain("API_KEY");
  });

  it("P3 checks: provider required and supported, once each; Secret and key required; no clash with env.extra", async () => {
    const one = (entry: Record<string, unknown>, more: Record<string, unknown> = {}) => ({ providerCredentials: [{ provider: "openai", existingSecret: "llm", key: "k", ...entry }], ...more });
    const supported = "anthropic, azure, cerebras, deepseek, google, groq, ollama, openai, openrouter, zai";
    expect(errorOf(one({ provider: "" }))).to.equal(`providerCredentials[0].provider: is required; use one of: ${supported}`);
    expect(errorOf(one({ provider: "mistral" }))).to.equal(`providerCredentials[0].provider: "mistral" is not supported; use one of: ${supported}`);
    expect(errorOf(one({ provider: "toString" }))).to.match(/^providerCredentials\[0\]\.provider: "toString" is not supported/);
    expect(errorOf({ providerCredentials: [{ provider: "groq", existingSecret: "a", key: "k" }, { provider: "groq", existingSecret: "b", key: "k" }] })).to.match(
      /^providerCredentials\[1\]\.provider: "groq" is used by an earlier entry/,
    );
    expect(errorOf(one({ existingSecret: "" }))).to.match(/^providerCredentials\[0\]\.existingSecret: is required; name the Secret/);
    expect(errorOf(one({ key: undefined }))).to.match(/^providerCredentials\[0\]\.key: is required; name the key inside the Secret/);
    expect(errorOf(one({ key: "a/b" }))).to.match(/^providerCredentials\[0\]\.key: "a\/b" must be a Secret key/);
    expect(errorOf(one({}, { env: { extra: [{ name: "OPENAI_API_KEY", value: "sk-" }] } }))).to.equal(
      'providerCredentials[0].provider: "openai" sets OPENAI_API_KEY, which env.extra sets too; remove one of them',
    );
    expect(errorOf(one({ secret: "llm" }))).to.match(/^providerCredentials\[0\]: unknown key "secret"/);
    expect(errorOf({ providerCredentials: { openai: "llm" } })).to.match(/^providerCredentials: must be a list of \{provider, existingSecret, key\} entries/);
    valid(one({}, { env: { extra: [{ name: "ANTHROPIC_API_KEY", value: "x" }, { valueFrom: {} }] } }));
    valid({ providerCredentials: null });
    expect(await refusedBeforeRegistering(one({ provider: "mistral" }))).to.match(/^providerCredentials\[0\]\.provider: /);
  });
});
