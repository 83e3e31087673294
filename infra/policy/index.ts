/**
 * The policy pack `mindroom` (docs/policy.md): every rule of `rules.ts`, all mandatory, so a
 * violation fails `pulumi preview --policy-pack infra/policy` and `pulumi up` alike.
 *
 * Loaded by the Node.js policy host through `main.js` (this folder's package.json). Constructing
 * the PolicyPack starts the gRPC analyzer server the engine talks to, so only the CLI loads this
 * file; the tests import `rules.ts`.
 */
import { PolicyPack } from "@pulumi/policy";
import { policies } from "./rules";

new PolicyPack("mindroom", {
  description: "MindRoom: Pod Security, no secret literals, tenant isolation and storage, TLS on every Ingress.",
  enforcementLevel: "mandatory",
  policies,
});
