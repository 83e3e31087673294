/**
 * `contentBundles` (docs/runtime.md "Content bundles" checklist, B1–B6): one digest-pinned init
 * container per bundle that copies its files into runtime storage, optionally seeding, and every
 * upstream check.
 */
import { expect } from "chai";
import { validateKubeObjects } from "../../support/kube-schema";
import { bundleScript, goQuote } from "../../../components/runtime/spec/content-bundles";
import { cleanPath, type ContentBundle } from "../../../components/runtime/schema-content-bundles";
import { renderSqlite, runtime, envValue, KUBE, type Obj } from "./helpers";
import { errorOf, refusedBeforeRegistering, valid } from "./feature-helpers";

const DIGEST = `sha256:${"1".repeat(64)}`;
const IMAGE = `registry.example.com/team/mindroom-config@${DIGEST}`;
const inits = (d: Obj) => (d.spec.template.spec.initContainers ?? []) as Obj[];

describe("runtime contentBundles", () => {
  it("B1 one init container content-bundle-<name> per bundle, after the operator's, in list order", async () => {
    const r = await renderSqlite({
      initContainers: [{ name: "mine", image: "busybox", command: ["true"] }],
      stateStorage: { enabled: true, create: true },
      contentBundles: [
        { name: "team-config", image: IMAGE },
        { name: "skills", image: `registry.example.com/skills@${DIGEST}`, imagePullPolicy: "Always" },
      ],
    });
    validateKubeObjects(r.objects);
    const { deployment } = runtime(r);
    expect(inits(deployment).map((c) => c.name)).to.deep.equal(["prepare-state-storage", "mine", "content-bundle-team-config", "content-bundle-skills"]);
    expect(inits(deployment)[2]).to.deep.equal({
      name: "content-bundle-team-config",
      image: IMAGE,
      imagePullPolicy: "IfNotPresent",
      command: ["sh", "-ec"],
      args: [
        'set -eu\nrm -rf "/app/agent_data/content-bundles/team-config"\nmkdir -p "/app/agent_data/content-bundles/team-config"\n' +
          'cp -a "/bundle/." "/app/agent_data/content-bundles/team-config/"',
      ],
      volumeMounts: [{ name: "storage", mountPath: "/app/agent_data" }],
    });
    expect(inits(deployment)[3].imagePullPolicy).to.equal("Always");
  });

  it("B2 the script: overwrite:false keeps the target; the seed command's arguments are Go-quoted, joined by spaces", async () => {
    const { deployment } = runtime(
      await renderSqlite({
        contentBundles: [
          {
            name: "team",
            image: IMAGE,
            overwrite: false,
            seed: { enabled: true, command: ["/app/agent_data/content-bundles/team/seed.sh", "--say", 'it "works"', "$HOME"] },
          },
        ],
      }),
    );
    expect(inits(deployment)[0].args).to.deep.equal([
      'set -eu\nmkdir -p "/app/agent_data/content-bundles/team"\ncp -a "/bundle/." "/app/agent_data/content-bundles/team/"\n' +
        '"/app/agent_data/content-bundles/team/seed.sh" "--say" "it \\"works\\"" "$HOME"',
    ]);
    // seed off (or null, Helm's unset): no seed line; overwrite null is false, as `hasKey` then reads nil.
    const base = { name: "b", image: IMAGE, sourcePath: "/b", targetPath: "/app/agent_data/b" };
    expect(bundleScript({ ...parsed(base), seed: { enabled: false, command: ["x"] } }, "/app/agent_data")).to.equal('set -eu\nrm -rf "/app/agent_data/b"\nmkdir -p "/app/agent_data/b"\ncp -a "/b/." "/app/agent_data/b/"');
    const nullOverwrite = runtime(await renderSqlite({ contentBundles: [{ ...base, overwrite: null, seed: null }] })).deployment;
    expect(inits(nullOverwrite)[0].args[0]).to.not.contain("rm -rf");
  });

  it("B3 default source /bundle, default target <storage.mountPath>/content-bundles/<name>, both cleaned", async () => {
    const { deployment } = runtime(
      await renderSqlite({
        storage: { mountPath: "/data/" },
        contentBundles: [
          { name: "a", image: IMAGE },
          { name: "b", image: IMAGE, sourcePath: "/srv//bundle/", targetPath: "/data/x/../y/" },
          { name: "c", image: IMAGE, sourcePath: "/" },
        ],
      }),
    );
    const [a, b, c] = inits(deployment).map((x) => x.args[0] as string);
    expect(a).to.contain('cp -a "/bundle/." "/data/content-bundles/a/"');
    expect(b).to.contain('rm -rf "/data/y"').and.contain('cp -a "/srv/bundle/." "/data/y/"');
    expect(c).to.contain('cp -a "//." "/data/content-bundles/c/"');
    expect(inits(deployment)[0].volumeMounts).to.deep.equal([{ name: "storage", mountPath: "/data/" }]);
    expect([cleanPath("/a/./b//c/"), cleanPath("/"), cleanPath("/a/.."), cleanPath("/../x")]).to.deep.equal(["/a/b/c", "/", "/", "/x"]);
  });

  it("B4 the entry's volumeMounts, env, envFrom, resources and securityContext pass through; empty ones are left out", async () => {
    const r = await renderSqlite({
      storage: { volumeName: "data" },
      extraVolumes: [{ name: "creds", secret: { secretName: "registry" } }],
      contentBundles: [
        {
          name: "team",
          image: IMAGE,
          volumeMounts: [{ name: "creds", mountPath: "/creds", readOnly: true }],
          env: [{ name: "STAGE", value: "prod" }],
          envFrom: [{ secretRef: { name: "bundle-env" } }],
          resources: { limits: { memory: "128Mi" } },
          securityContext: { runAsUser: 1000, allowPrivilegeEscalation: false },
        },
        { name: "bare", image: IMAGE, env: [], resources: {} },
      ],
    });
    validateKubeObjects(r.objects);
    const [team, bare] = inits(runtime(r).deployment);
    expect(team.volumeMounts).to.deep.equal([{ name: "data", mountPath: "/app/agent_data" }, { name: "creds", mountPath: "/creds", readOnly: true }]);
    expect(team.env).to.deep.equal([{ name: "STAGE", value: "prod" }]);
    expect(team.envFrom).to.deep.equal([{ secretRef: { name: "bundle-env" } }]);
    expect(team.resources).to.deep.equal({ limits: { memory: "128Mi" } });
    expect(team.securityContext).to.deep.equal({ runAsUser: 1000, allowPrivilegeEscalation: false });
    expect(Object.keys(bare).sort()).to.deep.equal(["args", "command", "image", "imagePullPolicy", "name", "volumeMounts"]);
  });

  it("B5 config.source=file can point at a bundled config: the runtime and the workers read it, no ConfigMap", async () => {
    const path = "/app/agent_data/content-bundles/team/config.yaml";
    const r = await renderSqlite({ ...KUBE, config: { source: "file", path }, contentBundles: [{ name: "team", image: IMAGE }] });
    validateKubeObjects(r.objects);
    const { mindroom } = runtime(r);
    expect(envValue(mindroom, "MINDROOM_CONFIG_PATH")).to.equal(path);
    expect(envValue(mindroom, "MINDROOM_KUBERNETES_WORKER_CONFIG_PATH")).to.equal(path);
    expect(r.objects.some((o) => o.kind === "ConfigMap")).to.equal(false);
  });

  it("B6 every upstream check, in order, one line naming the bundle and the fix", async () => {
    const b = (values: Record<string, unknown>, more: Record<string, unknown>[] = []) => ({ contentBundles: [{ name: "team", image: IMAGE, ...values }, ...more] });
    const cases: [Record<string, unknown>, RegExp][] = [
      [b({ name: "" }), /^contentBundles\[0\]\.name: is required/],
      [b({ name: "Team_Config" }), /^contentBundles\[0\]\.name: "Team_Config" must be lower-case letters, digits and '-'/],
      [b({ name: "a".repeat(49) }), /^contentBundles\[0\]\.name: "a{49}" must be 48 characters or fewer/],
      [b({}, [{ name: "team", image: IMAGE }]), /^contentBundles\[1\]\.name: "team" is used by an earlier bundle/],
      [b({ image: "" }), /^contentBundles\[0\]\.image: is required; set the bundle image pinned by digest/],
      [b({ image: "registry.example.com/team:v1" }), /^contentBundles\[0\]\.image: "registry\.example\.com\/team:v1" must be pinned by its full sha256 digest/],
      [b({ image: "x@sha256:1" }), /^contentBundles\[0\]\.image: .* must be pinned by its full sha256 digest/],
      [b({ image: `x@sha256:${"A".repeat(64)}` }), /^contentBundles\[0\]\.image: .* must be pinned/],
      [b({ sourcePath: "bundle" }), /^contentBundles\[0\]\.sourcePath: "bundle" must be an absolute path inside the bundle image/],
      [b({ targetPath: "content" }), /^contentBundles\[0\]\.targetPath: "content" must be an absolute path under storage\.mountPath/],
      [b({ targetPath: "/app/agent_data/" }), /^contentBundles\[0\]\.targetPath: cannot be storage\.mountPath \(\/app\/agent_data\) itself/],
      [b({ targetPath: "/app/agent_data/x/.." }), /^contentBundles\[0\]\.targetPath: cannot be storage\.mountPath/],
      [b({ targetPath: "/etc/mindroom" }), /^contentBundles\[0\]\.targetPath: "\/etc\/mindroom" must be under storage\.mountPath \(\/app\/agent_data\)/],
      [b({ targetPath: "/app/agent_data_other" }), /^contentBundles\[0\]\.targetPath: "\/app\/agent_data_other" must be under storage\.mountPath/],
      [b({ seed: { enabled: true } }), /^contentBundles\[0\]\.seed\.command: is required with seed\.enabled=true/],
      [b({ seed: { enabled: true, command: [] } }), /^contentBundles\[0\]\.seed\.command: is required/],
      // Kubernetes and type checks the project adds.
      [b({ imagePullPolicy: "always" }), /^contentBundles\[0\]\.imagePullPolicy: must be Always, IfNotPresent, Never or empty/],
      [b({ overwrite: "yes" }), /^contentBundles\[0\]\.overwrite: must be true or false$/],
      [b({ seed: { enabled: true, command: "seed.sh" } }), /^contentBundles\[0\]\.seed\.command: must be a list of strings$/],
      [b({ sourcepath: "/b" }), /^contentBundles\[0\]: unknown key "sourcepath"/],
      [{ contentBundles: { name: "team" } }, /^contentBundles: must be a list of bundles/],
    ];
    for (const [values, error] of cases) expect(errorOf(values), JSON.stringify(values)).to.match(error);

    valid(b({}));
    valid(b({ name: "a".repeat(48), targetPath: "/app/agent_data/x/", seed: { enabled: true, command: ["true"] } }));
    valid(b({ seed: { enabled: false } }));
    valid({ storage: { mountPath: "/" }, contentBundles: [{ name: "root", image: IMAGE, targetPath: "/opt/team" }] });
    valid({ contentBundles: null });
    expect(await refusedBeforeRegistering(b({ image: "team:latest" }))).to.match(/^contentBundles\[0\]\.image: /);
  });

  it("goQuote is Helm's quote (Go %q)", () => {
    expect(goQuote('a "b" \\c')).to.equal('"a \\"b\\" \\\\c"');
    expect(goQuote("tab\tnl\n\x01é$x")).to.equal('"tab\\tnl\\n\\x01é$x"');
  });
});

/** A bundle entry as the schema leaves it (for calling the script builder directly). */
function parsed(b: { name: string; image: string; sourcePath: string; targetPath: string }): ContentBundle {
  return { imagePullPolicy: "", overwrite: true, seed: { enabled: false, command: [] }, volumeMounts: [], env: [], envFrom: [], resources: {}, securityContext: {}, ...b };
}
