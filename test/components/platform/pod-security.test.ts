/**
 * Project deviation (docs/platform.md, "Pod Security"): the platform namespace enforces Pod
 * Security `baseline` and warns/audits `restricted`; the workloads carry the security contexts
 * their images allow. test/engine/pod-security.test.ts has the real API server judge the same
 * objects.
 */
import { expect } from "chai";
import { renderPlatform, type Obj } from "./render-platform";

const podSpec = (d: Obj) => d.spec.template.spec as Obj;
const app = (d: Obj) => podSpec(d).containers.find((c: Obj) => c.name === "app") as Obj;

describe("platform Pod Security", () => {
  it("Namespace mindroom-{env}: enforce baseline at the cluster's minor, warn and audit restricted", async () => {
    const r = await renderPlatform({ environment: "prod2" });
    expect(r.get("Namespace", "mindroom-prod2").metadata.labels).to.deep.equal({
      "pod-security.kubernetes.io/enforce": "baseline",
      "pod-security.kubernetes.io/enforce-version": "v1.31",
      "pod-security.kubernetes.io/warn": "restricted",
      "pod-security.kubernetes.io/audit": "restricted",
    });
  });

  it("platform-frontend runs as the image's uid 1001 (user nextjs), non-root, RuntimeDefault seccomp, no escalation, no capabilities", async () => {
    const d = (await renderPlatform()).get("Deployment", "platform-frontend");
    expect(podSpec(d).securityContext).to.deep.equal({ runAsNonRoot: true, runAsUser: 1001, runAsGroup: 1001, seccompProfile: { type: "RuntimeDefault" } });
    expect(app(d).securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });

  it("platform-backend stays root (its image has no USER, its Secret files are 0400) but without capabilities, escalation or unconfined syscalls", async () => {
    const d = (await renderPlatform()).get("Deployment", "platform-backend");
    expect(podSpec(d).securityContext).to.deep.equal({ seccompProfile: { type: "RuntimeDefault" } });
    expect(app(d).securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    // The upstream contract is unchanged: the same mount, mode and env.
    expect(podSpec(d).volumes).to.deep.equal([{ name: "platform-sensitive", secret: { secretName: "platform-secrets", defaultMode: 0o400 } }]);
  });

  it("only the pods that call the Kubernetes API get a service-account token: not the frontend; the backend (upstream's kubectl/helm) and the provisioner keep theirs", async () => {
    const r = await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } });
    expect(podSpec(r.get("Deployment", "platform-frontend")).automountServiceAccountToken).to.equal(false);
    expect(podSpec(r.get("Deployment", "platform-backend"))).to.include({ serviceAccountName: "platform-backend" }).and.not.have.property("automountServiceAccountToken");
    expect(podSpec(r.get("Deployment", "mindroom-provisioner"))).to.include({ serviceAccountName: "platform-backend", automountServiceAccountToken: true });
    // The ServiceAccount itself keeps the default: both of its pods use the token.
    expect(r.get("ServiceAccount", "platform-backend")).to.not.have.property("automountServiceAccountToken");
  });

  it("the provisioner keeps its restricted pod (non-root 1000, RuntimeDefault, no escalation, no capabilities)", async () => {
    const r = await renderPlatform({ provisioner: { enabled: true, pulumiConfigPassphrase: "p" } });
    const d = r.get("Deployment", "mindroom-provisioner");
    expect(podSpec(d).securityContext).to.include({ runAsNonRoot: true, runAsUser: 1000 });
    expect(podSpec(d).securityContext.seccompProfile).to.deep.equal({ type: "RuntimeDefault" });
    expect(podSpec(d).containers[0].securityContext).to.deep.equal({ allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
  });
});
