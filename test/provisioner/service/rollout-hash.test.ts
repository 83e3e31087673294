import { expect } from "chai";
import { pythonCompactJson, rolloutHash } from "../../../provisioner/service/rollout-hash";

describe("provisioner service: rollout hash (§6.8)", () => {
  // Expected values computed once with CPython 3:
  //   python3 -c 'import json,hashlib; m={...the map below...};
  //     s=json.dumps(m,sort_keys=True,separators=(",",":")); print(s); print(hashlib.sha256(s.encode()).hexdigest())'
  const map = {
    openai_key: "",
    anthropic_key: "",
    google_key: "",
    deepseek_key: "",
    openrouter_key: "sk-or-v1-abc",
    supabase_service_key: 'svc"key\\\\x',
    sandbox_proxy_token: "tok\u00e9\u007f\u{1F600}\n",
    credentials_encryption_key: "ICuHLTYpL8WzZxVOKoMeut7PQB02qWJilmP2moVKRSI",
    matrix_oidc_client_secret: "</script>&",
    matrix_registration_shared_secret: "XDxB59FotsbqgtR-dnnbXTsvV4mcHO3ksmzl8VmofP0",
  };

  it("serialises exactly like Python json.dumps(sort_keys=True, separators=(',', ':'))", () => {
    expect(pythonCompactJson(map)).to.equal(
      '{"anthropic_key":"","credentials_encryption_key":"ICuHLTYpL8WzZxVOKoMeut7PQB02qWJilmP2moVKRSI","deepseek_key":"","google_key":"",' +
        '"matrix_oidc_client_secret":"</script>&","matrix_registration_shared_secret":"XDxB59FotsbqgtR-dnnbXTsvV4mcHO3ksmzl8VmofP0",' +
        '"openai_key":"","openrouter_key":"sk-or-v1-abc","sandbox_proxy_token":"tok\\u00e9\\u007f\\ud83d\\ude00\\n","supabase_service_key":"svc\\"key\\\\\\\\x"}',
    );
  });

  it("hashes to the Python-computed SHA-256", () => {
    expect(rolloutHash(map)).to.equal("899e6b92fd842b0662cc8799868e22063111f621957ad1123370e9491a883612");
  });

  it("changes when any secret changes", () => {
    expect(rolloutHash({ ...map, openrouter_key: "other" })).to.not.equal(rolloutHash(map));
  });
});
