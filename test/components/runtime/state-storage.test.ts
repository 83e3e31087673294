/**
 * `stateStorage` (docs/runtime.md "State storage" checklist, S1–S5): the state PVC, the root init
 * container that hands it to the runtime user, the subPath overlays, and every upstream check.
 */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { renderSqlite, runtime, find, ofKind, container, KUBE, type Obj } from "./helpers";
import { errorOf, refusedBeforeRegistering, valid } from "./feature-helpers";

const ON = { stateStorage: { enabled: true, create: true } };
const initNames = (d: Obj) => ((d.spec.template.spec.initContainers ?? []) as Obj[]).map((c) => c.name as string);

describe("runtime stateStorage", () => {
  it("S1 enabled+create registers PVC mindroom-runtime-state (chart labels, RWO, 10Gi); existingClaim registers none; off renders nothing", async () => {
    const r = await renderSqlite(ON);
    validateKubeObjects(r.objects);
    const pvc = find(r.objects, "PersistentVolumeClaim", "mindroom-runtime-state");
    expect(pvc.metadata?.labels).to.deep.equal(find(r.objects, "PersistentVolumeClaim", "mindroom-runtime-storage").metadata?.labels);
    expect(pvc.metadata?.namespace).to.equal("mindroom");
    expect(pvc.spec).to.deep.equal({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "10Gi" } } });
    const classed = find((await renderSqlite({ stateStorage: { ...ON.stateStorage, storageClassName: "fast", size: "2Gi", accessModes: ["ReadWriteMany"] } })).objects, "PersistentVolumeClaim", "mindroom-runtime-state");
    expect(classed.spec).to.deep.equal({ accessModes: ["ReadWriteMany"], storageClassName: "fast", resources: { requests: { storage: "2Gi" } } });

    const existing = await renderSqlite({ stateStorage: { enabled: true, existingClaim: "matrix-state" } });
    expect(ofKind(existing.objects, "PersistentVolumeClaim").map((p) => p.metadata?.name)).to.deep.equal(["mindroom-runtime-storage"]);
    const vol = (runtime(existing).deployment.spec.template.spec.volumes as Obj[]).find((x) => x.name === "state-storage");
    expect(vol).to.deep.equal({ name: "state-storage", persistentVolumeClaim: { claimName: "matrix-state" } });
    // existingClaim wins over create, as upstream's pvc.yaml condition says.
    const both = await renderSqlite({ stateStorage: { enabled: true, create: true, existingClaim: "matrix-state" } });
    expect(ofKind(both.objects, "PersistentVolumeClaim")).to.have.length(1);

    const off = await renderSqlite({ stateStorage: { enabled: false, create: true } });
    expect(ofKind(off.objects, "PersistentVolumeClaim")).to.have.length(1);
    const { deployment, mindroom } = runtime(off);
    expect(JSON.stringify(deployment)).to.not.contain("state-storage");
    expect(deployment.spec.template.spec.initContainers).to.equal(undefined);
    expect(mindroom.volumeMounts).to.have.length(2);
  });

  it("S2 mindroom mounts the state root and the two subPath overlays after agent data; the sidecar mounts none", async () => {
    const r = await renderSqlite({ ...ON, extraVolumeMounts: [{ name: "extra", mountPath: "/extra" }], extraVolumes: [{ name: "extra", emptyDir: {} }] });
    const { deployment, mindroom } = runtime(r);
    expect(mindroom.volumeMounts).to.deep.equal([
      { name: "config", mountPath: "/app/config.yaml", subPath: "config.yaml", readOnly: true },
      { name: "storage", mountPath: "/app/agent_data" },
      { name: "state-storage", mountPath: "/app/mindroom_state" },
      { name: "state-storage", mountPath: "/app/agent_data/encryption_keys", subPath: "encryption_keys" },
      { name: "state-storage", mountPath: "/app/agent_data/sync_continuity", subPath: "sync_continuity" },
      { name: "extra", mountPath: "/extra" },
    ]);
    const volumes = deployment.spec.template.spec.volumes as Obj[];
    expect(volumes.map((v) => v.name)).to.deep.equal(["config", "storage", "state-storage", "sandbox-workspace", "extra"]);
    expect(volumes[2]).to.deep.equal({ name: "state-storage", persistentVolumeClaim: { claimName: "mindroom-runtime-state" } });
    expect(JSON.stringify(container(deployment, "sandbox-runner"))).to.not.contain("state-storage");

    // An empty mountPath drops the root mount; a disabled overlay drops its mount and its directory.
    const partial = runtime(await renderSqlite({ stateStorage: { ...ON.stateStorage, mountPath: "", syncContinuity: { enabled: false }, volumeName: "matrix" } }));
    expect((partial.mindroom.volumeMounts as Obj[]).filter((m) => m.name === "matrix")).to.deep.equal([
      { name: "matrix", mountPath: "/app/agent_data/encryption_keys", subPath: "encryption_keys" },
    ]);
    const script = (partial.deployment.spec.template.spec.initContainers as Obj[])[0].command[2] as string;
    expect(script).to.not.contain("sync_continuity");
    expect(script).to.contain('mkdir -p "/state" "/state/encryption_keys"\n');
  });

  it("S3 init container prepare-state-storage runs first, as root, and hands /state to 1000:1000 with mode 2775", async () => {
    const r = await renderSqlite({ ...ON, initContainers: [{ name: "mine", image: "busybox", command: ["true"] }] });
    validateKubeObjects(r.objects);
    const { deployment } = runtime(r);
    expect(initNames(deployment)).to.deep.equal(["prepare-state-storage", "mine"]);
    expect((deployment.spec.template.spec.initContainers as Obj[])[0]).to.deep.equal({
      name: "prepare-state-storage",
      image: "busybox:1.36",
      imagePullPolicy: "IfNotPresent",
      securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false },
      command: [
        "sh",
        "-c",
        'set -eu\nmkdir -p "/state" "/state/encryption_keys" "/state/sync_continuity"\n' +
          'chown -R 1000:1000 "/state" "/state/encryption_keys" "/state/sync_continuity"\n' +
          'chmod 2775 "/state" "/state/encryption_keys" "/state/sync_continuity"\n',
      ],
      volumeMounts: [{ name: "state-storage", mountPath: "/state" }],
    });
    const tuned = runtime(await renderSqlite({ stateStorage: { ...ON.stateStorage, initPermissions: { runAsUser: 2000, fsGroup: 3000, chmod: 770, image: "alpine:3", securityContext: null } } }));
    const init = (tuned.deployment.spec.template.spec.initContainers as Obj[])[0];
    expect(init.image).to.equal("alpine:3");
    expect(init.securityContext).to.equal(undefined);
    expect(init.command[2]).to.contain('chown -R 2000:3000 "/state"').and.contain('chmod 770 "/state"');
    // Helm drops a key set to null: one default of the root securityContext can be removed.
    const trimmed = runtime(await renderSqlite({ stateStorage: { ...ON.stateStorage, initPermissions: { securityContext: { runAsNonRoot: null, readOnlyRootFilesystem: true } } } }));
    expect((trimmed.deployment.spec.template.spec.initContainers as Obj[])[0].securityContext).to.deep.equal({ runAsUser: 0, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    const noInit = runtime(await renderSqlite({ stateStorage: { ...ON.stateStorage, initPermissions: { enabled: false } } }));
    expect(noInit.deployment.spec.template.spec.initContainers).to.equal(undefined);
  });

  it("S4 kubernetes workers: the worker env and objects do not change (state is the control plane's)", async () => {
    const plain = runtime(await renderSqlite(KUBE)).mindroom;
    const withState = runtime(await renderSqlite({ ...KUBE, ...ON })).mindroom;
    expect(withState.env).to.deep.equal(plain.env);
  });

  it("S5 every upstream check, in order, one line naming the value and the fix", async () => {
    const s = (values: Record<string, unknown>) => ({ stateStorage: { enabled: true, create: true, ...values } });
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ stateStorage: { enabled: true } }, /^stateStorage\.existingClaim: stateStorage\.enabled=true needs a claim: set stateStorage\.existingClaim, or stateStorage\.create=true$/],
      [s({ size: "" }), /^stateStorage\.size: is required when the component creates the state PVC/],
      [s({ volumeName: "storage" }), /^stateStorage\.volumeName: must differ from storage\.volumeName \("storage"\)/],
      [{ ...s({ volumeName: "" }), storage: { volumeName: "state-storage" } }, /^stateStorage\.volumeName: must differ from storage\.volumeName \("state-storage"\)/],
      [s({ mountPath: "/app/agent_data" }), /^stateStorage\.mountPath: must differ from storage\.mountPath \(\/app\/agent_data\)/],
      [s({ encryptionKeys: { mountPath: "/app/agent_data" } }), /^stateStorage\.encryptionKeys\.mountPath: must differ from storage\.mountPath/],
      [s({ syncContinuity: { mountPath: "/app/agent_data" } }), /^stateStorage\.syncContinuity\.mountPath: must differ from storage\.mountPath/],
      [s({ mountPath: "/k", encryptionKeys: { mountPath: "/k" } }), /^stateStorage\.mountPath: must differ from stateStorage\.encryptionKeys\.mountPath/],
      [s({ mountPath: "/k", syncContinuity: { mountPath: "/k" } }), /^stateStorage\.mountPath: must differ from stateStorage\.syncContinuity\.mountPath/],
      [s({ encryptionKeys: { mountPath: "/k" }, syncContinuity: { mountPath: "/k" } }), /^stateStorage\.encryptionKeys\.mountPath: must differ from stateStorage\.syncContinuity\.mountPath/],
      [s({ encryptionKeys: { subPath: "same" }, syncContinuity: { subPath: "same" } }), /^stateStorage\.encryptionKeys\.subPath: must differ from stateStorage\.syncContinuity\.subPath/],
      [s({ encryptionKeys: { mountPath: "" } }), /^stateStorage\.encryptionKeys\.mountPath: is required with stateStorage\.encryptionKeys\.enabled=true/],
      [s({ encryptionKeys: { subPath: "" } }), /^stateStorage\.encryptionKeys\.subPath: is required with stateStorage\.encryptionKeys\.enabled=true/],
      [s({ syncContinuity: { mountPath: "" } }), /^stateStorage\.syncContinuity\.mountPath: is required with stateStorage\.syncContinuity\.enabled=true/],
      [s({ syncContinuity: { subPath: "" } }), /^stateStorage\.syncContinuity\.subPath: is required with stateStorage\.syncContinuity\.enabled=true/],
      // The project's: shell arguments of a root container, and values the API server would refuse.
      [s({ encryptionKeys: { subPath: "../keys" } }), /^stateStorage\.encryptionKeys\.subPath: "\.\.\/keys" must be a relative path/],
      [s({ syncContinuity: { subPath: 'a" && rm -rf / "' } }), /^stateStorage\.syncContinuity\.subPath: .* must be a relative path/],
      [s({ encryptionKeys: { subPath: "/abs" } }), /^stateStorage\.encryptionKeys\.subPath: "\/abs" must be a relative path/],
      [s({ initPermissions: { chmod: "rwx" } }), /^stateStorage\.initPermissions\.chmod: "rwx" must be an octal mode such as "2775"/],
      // YAML 1.1 reads an unquoted 0775 as 509.
      [s({ initPermissions: { chmod: 509 } }), /^stateStorage\.initPermissions\.chmod: "509" must be an octal mode/],
      [s({ initPermissions: { image: "" } }), /^stateStorage\.initPermissions\.image: is required with stateStorage\.initPermissions\.enabled=true/],
      [s({ size: "lots" }), /^stateStorage\.size: must be a Kubernetes quantity such as 10Gi$/],
      [s({ volumeName: "State" }), /^stateStorage\.volumeName: must be lower-case letters/],
      [s({ initPermissions: { imagePullPolicy: "sometimes" } }), /^stateStorage\.initPermissions\.imagePullPolicy: must be Always, IfNotPresent or Never$/],
      [s({ encryptionKeys: { enabeld: true } }), /^stateStorage\.encryptionKeys: unknown key "enabeld"/],
    ];
    for (const [values, error] of cases) expect(errorOf(values), JSON.stringify(values)).to.match(error);

    valid(s({}));
    valid({ stateStorage: { enabled: true, existingClaim: "c", size: "" } });
    valid(s({ mountPath: "", encryptionKeys: { enabled: false, mountPath: "", subPath: "" }, syncContinuity: { subPath: "nested/sync" } }));
    valid(s({ encryptionKeys: { enabled: false, subPath: "same" }, syncContinuity: { subPath: "same" } }));
    valid(s({ initPermissions: { enabled: false, chmod: "rwx", image: "" } }));
    // Checks run only while the feature is on, as upstream's.
    valid({ stateStorage: { enabled: false, mountPath: "/app/agent_data", size: "" } });
    expect(await refusedBeforeRegistering({ stateStorage: { enabled: true } })).to.match(/^stateStorage\.existingClaim: /);
  });
});
