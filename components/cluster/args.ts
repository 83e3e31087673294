/**
 * `K3sCluster` arguments: a zod schema with the defaults and the reasons for them. The stack
 * config (`stacks/config.ts`) embeds this schema, so a wrong key fails before anything registers.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { ValuesError, formatPath } from "../../infra/values/errors";
import { strictMap } from "../../infra/values/fields";

/** Where the unknown-key message sends the operator: the stack file that shows every cluster key. */
const CLUSTER_KEYS_DOC = "Pulumi.staging.yaml (cluster:), docs/cluster.md";

/** Days the admin client certificate is valid by default (`adminCertValidityDays`); the one place this default lives. */
export const DEFAULT_ADMIN_CERT_VALIDITY_DAYS = 730;

/** k3s release installed on new nodes: newest v1.31 patch, the minor upstream's kube-hetzner tracks. */
export const DEFAULT_K3S_VERSION = "v1.31.13+k3s1";

const K3S_INSTALLER_SHA256_HINT =
  "set the SHA-256 of k3s's install.sh at the k3sVersion tag: curl -sfL https://raw.githubusercontent.com/k3s-io/k3s/<k3sVersion, + as %2B>/install.sh | sha256sum (check it against a clone: git show <k3sVersion>:install.sh | sha256sum)";

const cidr = z.string().refine((value) => {
  const [address, prefix, ...rest] = value.split("/");
  const family = isIP(address ?? "");
  const bits = Number(prefix);
  return rest.length === 0 && family !== 0 && prefix !== undefined && /^\d+$/.test(prefix) && bits <= (family === 4 ? 32 : 128);
}, "must be a CIDR such as 203.0.113.7/32 or 2001:db8::/64");

/**
 * A /0 admits the whole internet. The admin certificate would then be the API's only guard, and
 * k3s' API and SSH are scanned constantly; operators who need CI access list the runner instead.
 */
const notEverywhere = (cidrs: string[]) => cidrs.every((c) => !c.endsWith("/0"));

/**
 * The widest admin ranges accepted without {@link WIDE_ADMIN_CIDRS_ACK} (project deviation,
 * docs/cluster.md "Firewall and exposure"). Refusing only /0 let `0.0.0.0/1`, half the internet,
 * pass. An IPv4 /16 is a whole organisation's block; an IPv6 /48 is the standard assignment to one
 * end site (RFC 6177), so one operator's network always fits and anything wider spans many
 * customers of a provider.
 */
export const WIDEST_ADMIN_PREFIX = { 4: 16, 6: 48 } as const;

/** The lists of `adminCidrs` (beside them: `acknowledgeWideCidrs`). */
export const ADMIN_CIDR_LISTS = ["kubeApi", "ssh"] as const;

/** The one value of `adminCidrs.acknowledgeWideCidrs` that admits wider ranges (never /0). */
export const WIDE_ADMIN_CIDRS_ACK = "i-understand-wide-ranges-can-reach-the-api-and-ssh";

/** The bound a valid CIDR is wider than, as `/16 (IPv4)`; undefined within it, and for /0 (refused on its own). */
function widerThan(cidr: string): string | undefined {
  const [address, prefix] = cidr.split("/");
  const family = isIP(address ?? "");
  if ((family !== 4 && family !== 6) || !/^\d+$/.test(prefix ?? "") || Number(prefix) === 0) return undefined;
  return Number(prefix) < WIDEST_ADMIN_PREFIX[family] ? `/${WIDEST_ADMIN_PREFIX[family]} (IPv${family})` : undefined;
}

const labelKey = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;

/** The kubernetes.io labels a kubelet may set on its own node (kubelet `KubeletLabels()`). */
const KUBELET_ALLOWED_LABELS = [
  "kubernetes.io/hostname", "kubernetes.io/arch", "kubernetes.io/os", "node.kubernetes.io/instance-type",
  "topology.kubernetes.io/region", "topology.kubernetes.io/zone", "beta.kubernetes.io/arch", "beta.kubernetes.io/os",
  "beta.kubernetes.io/instance-type", "failure-domain.beta.kubernetes.io/region", "failure-domain.beta.kubernetes.io/zone",
];
const within = (namespace: string, domain: string) => namespace === domain || namespace.endsWith(`.${domain}`);

/**
 * The kubelet exits at start when `--node-labels` holds a key in a kubernetes.io or k8s.io namespace
 * outside its allowed set (kubelet `ValidateKubeletFlags`), so such a label would leave a node that
 * never registers, e.g. `node-role.kubernetes.io/worker`.
 */
function kubeletRefuses(key: string): boolean {
  const slash = key.indexOf("/");
  if (slash < 0) return false;
  const namespace = key.slice(0, slash);
  if (!within(namespace, "kubernetes.io") && !within(namespace, "k8s.io")) return false;
  return !KUBELET_ALLOWED_LABELS.includes(key) && !within(namespace, "kubelet.kubernetes.io") && !within(namespace, "node.kubernetes.io");
}

/** Keys are checked in a refinement, not a key schema: zod reports a key schema's message only as "Invalid key in record". */
const labels = z
  .record(z.string(), z.string().regex(/^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/, "label values must be 63 characters of [A-Za-z0-9-_.]"))
  .superRefine((value, ctx) => {
    for (const key of Object.keys(value)) {
      if (!labelKey.test(key)) ctx.addIssue({ code: "custom", path: [key], message: "label keys must be Kubernetes label keys (e.g. mindroom.chat/pool)" });
      else if (kubeletRefuses(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "the kubelet refuses node labels under kubernetes.io and k8s.io (except node.kubernetes.io/*, kubelet.kubernetes.io/* and the well-known topology keys), so the node would never register; use your own prefix such as mindroom.chat/role, or set it with kubectl label after the node joins",
        });
      }
    }
  })
  .default({});

/**
 * Pool i gets 10.i.0.0/16 (network.ts), so pools 42 and 43 would overlap the pod (10.42.0.0/16)
 * and service (10.43.0.0/16) CIDRs, which must stay off the Hetzner network's subnets.
 */
export const MAX_AGENT_POOLS = 42;
const taints = z
  .array(z.string().regex(/^[^=:\s]+(=[^:\s]*)?:(NoSchedule|PreferNoSchedule|NoExecute)$/, "taints are key[=value]:NoSchedule|PreferNoSchedule|NoExecute"))
  .default([]);
const serverType = z.string().regex(/^[a-z]+\d+$/, "must be a Hetzner server type such as cpx31, cx33 or cax21");

export const agentPoolSchema = strictMap(
  {
    /** Pool name, part of every server name (`<cluster>-<pool>-<n>`). */
    name: z.string().regex(/^[a-z][a-z0-9-]{0,19}$/, "pool names are lower-case DNS labels of at most 20 characters"),
    /** Default cpx31: the size upstream runs (4 vCPU, 8 GB). */
    serverType: serverType.default("cpx31"),
    /** Default: the cluster's location, since volumes attach only inside one location. */
    location: z.string().optional(),
    /** Nodes in the pool; at most 10, the size limit of a spread placement group. */
    count: z.number().int().min(0).max(10, "a pool holds at most 10 nodes (one Hetzner spread placement group); add another pool").default(1),
    labels,
    taints,
  },
  CLUSTER_KEYS_DOC,
);

export const k3sClusterSchema = strictMap(
  {
    /** Prefix of every Hetzner resource and the kubeconfig context; upstream's `mindroom-k8s`. */
    name: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, "must be a lower-case DNS label of at most 31 characters").default("mindroom-k8s"),
    /** Upstream's location (Falkenstein); volumes, servers and the LB must share it. */
    location: z.string().default("fsn1"),
    /** The private network's zone; fsn1, nbg1 and hel1 are all in eu-central. */
    networkZone: z.string().default("eu-central"),
    /** Stock image: no per-project Packer build as kube-hetzner's MicroOS needs. */
    image: z.string().default("ubuntu-24.04"),
    /** Pinned k3s release (`INSTALL_K3S_VERSION`), never a floating channel. */
    k3sVersion: z.string().regex(/^v\d+\.\d+\.\d+\+k3s\d+$/, "must be a k3s release such as v1.31.13+k3s1").default(DEFAULT_K3S_VERSION),
    /**
     * SHA-256 of `install.sh` at the `k3sVersion` tag (the script each node downloads and runs as
     * root). Required, no default: this project cannot download it to pin it, and a value nobody
     * checked would be no pin. Change it together with `k3sVersion`.
     */
    k3sInstallerSha256: z
      .string({ error: (issue) => (issue.input === undefined ? K3S_INSTALLER_SHA256_HINT : "must be a string of 64 hex digits") })
      .regex(/^[0-9a-fA-F]{64}$/, `must be 64 hex digits (a SHA-256); ${K3S_INSTALLER_SHA256_HINT}`)
      .transform((value) => value.toLowerCase()),
    controlPlane: strictMap(
      {
        /** Default cpx31, upstream's single server. */
        serverType: serverType.default("cpx31"),
        labels,
        /** Empty: with one node the control plane must run tenants too. */
        taints,
      },
      CLUSTER_KEYS_DOC,
    ).prefault({}),
    /** Worker pools; none by default (upstream runs one node). */
    agentPools: z.array(agentPoolSchema).default([]),
    adminCidrs: strictMap(
      {
        /** Who may reach the Kubernetes API on 6443 (Pulumi too). Required: upstream left it open to the internet. */
        kubeApi: z
          .array(cidr)
          .min(1, "list at least one CIDR allowed to reach port 6443 (where pulumi runs), e.g. 203.0.113.7/32")
          .refine(notEverywhere, "must not contain 0.0.0.0/0 or ::/0, which opens the Kubernetes API to the whole internet (upstream's hazard); list the operators' and the CI runner's addresses, e.g. 203.0.113.7/32"),
        /** Who may reach SSH on 22. Empty by default: port 22 stays closed (no step needs SSH). */
        ssh: z
          .array(cidr)
          .refine(notEverywhere, "must not contain 0.0.0.0/0 or ::/0, which opens SSH to the whole internet; list the operators' addresses, e.g. 203.0.113.7/32")
          .default([]),
        /**
         * Project, default unset: an IPv4 range wider than /16 or an IPv6 range wider than /48 in
         * either list is refused unless this is exactly {@link WIDE_ADMIN_CIDRS_ACK}, so nobody opens
         * the API or SSH to a provider's whole network by a typo (`/1` for `/31`).
         */
        acknowledgeWideCidrs: z.string().optional(),
      },
      CLUSTER_KEYS_DOC,
    ).superRefine((value, ctx) => {
      if (value.acknowledgeWideCidrs === WIDE_ADMIN_CIDRS_ACK) return;
      for (const key of ADMIN_CIDR_LISTS) {
        value[key].forEach((cidr, i) => {
          const bound = widerThan(cidr);
          if (bound === undefined) return;
          ctx.addIssue({
            code: "custom",
            path: [key, i],
            message: `${cidr} is wider than ${bound}, far more than an operator's network; list the operators' and the CI runner's addresses, e.g. 203.0.113.7/32, or set adminCidrs.acknowledgeWideCidrs to "${WIDE_ADMIN_CIDRS_ACK}" (docs/cluster.md)`,
          });
        });
      }
    }),
    /** Public SSH key installed on every node (for break-glass access); none by default. */
    sshPublicKey: z.string().regex(/^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp\d+) \S+/, "must be an OpenSSH public key line").optional(),
    /** DNS name of the API (extra TLS SAN, and the kubeconfig's server); default: the control plane's public IPv4. */
    apiHostname: z.string().optional(),
    loadBalancer: strictMap(
      {
        /** Off: one node serves ingress on its own ports 80/443. Turn on with worker pools. */
        enabled: z.boolean().default(false),
        /** lb11: 25 targets, 5 services; enough for ingress. */
        type: z.string().default("lb11"),
      },
      CLUSTER_KEYS_DOC,
    ).prefault({}),
    /** Bump to re-issue the admin client certificate (e.g. before `adminCertValidityDays` runs out). */
    adminCertGeneration: z.number().int().min(1).default(1),
    /** Two years: the certificate cannot be revoked, so it should not live as long as the CA (ten). */
    adminCertValidityDays: z.number().int().min(1).max(3650).default(DEFAULT_ADMIN_CERT_VALIDITY_DAYS),
    /** Off by default; production turns it on so a stray `destroy` cannot remove the nodes. */
    deleteProtection: z.boolean().default(false),
    /** Hetzner server backups (+20 % of the server price); tenant data lives on volumes anyway. */
    backups: z.boolean().default(false),
  },
  CLUSTER_KEYS_DOC,
).superRefine((value, ctx) => {
  const names = value.agentPools.map((p) => p.name);
  names.forEach((n, i) => {
    if (names.indexOf(n) !== i) ctx.addIssue({ code: "custom", path: ["agentPools", i, "name"], message: `pool name "${n}" is used twice; pool names must be unique` });
  });
  if (value.agentPools.length > MAX_AGENT_POOLS) {
    ctx.addIssue({ code: "custom", path: ["agentPools"], message: `at most ${MAX_AGENT_POOLS} agent pools: pool i uses subnet 10.i.0.0/16, and 10.42/10.43 are the pod and service CIDRs; raise count (up to 10) on existing pools instead` });
  }
  const nodes = 1 + value.agentPools.reduce((sum, p) => sum + p.count, 0);
  if (value.loadBalancer.enabled && nodes < 2) {
    ctx.addIssue({ code: "custom", path: ["loadBalancer", "enabled"], message: "a load balancer needs at least two nodes; add an agent pool or set it to false (one node serves ports 80/443 itself)" });
  }
  value.agentPools.forEach((p, i) => {
    if (p.location !== undefined && p.location !== value.location) {
      ctx.addIssue({ code: "custom", path: ["agentPools", i, "location"], message: `must equal the cluster location ${value.location}: Hetzner volumes attach only to servers in their own location` });
    }
  });
});

export type K3sClusterInput = z.input<typeof k3sClusterSchema>;
export type K3sClusterConfig = z.output<typeof k3sClusterSchema>;
export type AgentPoolConfig = z.output<typeof agentPoolSchema>;

/** Parses `K3sCluster` arguments; errors read `cluster.<path>: <fix>`. */
export function parseClusterArgs(raw: unknown): K3sClusterConfig {
  const result = k3sClusterSchema.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const path = formatPath(issue.path);
  throw new ValuesError(`cluster${path ? `.${path}` : ""}: ${issue.message}`);
}
