/**
 * `ClusterPki`: a dynamic resource that generates the cluster CAs and admin certificate once and
 * keeps them in (encrypted) Pulumi state. A plain in-program generation would mint new keys on
 * every run; a `RandomPassword`-style resource keeps them stable, which is what this is.
 */
import * as pulumi from "@pulumi/pulumi";
import { generateClusterPki, issueAdminCert, type ClusterPkiMaterial } from "./pki";

export interface ClusterPkiArgs {
  /** Certificate subject prefix; changing it replaces every certificate (and needs new servers). */
  clusterName: string;
  /** Bump to re-issue the admin certificate (same CAs, so the servers keep working). */
  adminCertGeneration: number;
  /** Lifetime of each admin certificate. */
  adminValidityDays: number;
}

type State = ClusterPkiArgs & ClusterPkiMaterial;

/** Outputs that hold private keys or credentials. */
export const PKI_SECRET_OUTPUTS = ["serverCaKey", "clientCaKey", "adminKey", "adminCert"] as const;

export const clusterPkiProvider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: ClusterPkiArgs) {
    const material = generateClusterPki({ clusterName: inputs.clusterName, adminValidityDays: inputs.adminValidityDays });
    return { id: `${inputs.clusterName}-pki`, outs: { ...inputs, ...material } };
  },
  async diff(_id: string, olds: State, news: ClusterPkiArgs) {
    const replaces = olds.clusterName === news.clusterName ? [] : ["clusterName"];
    const changed = replaces.length > 0 || olds.adminCertGeneration !== news.adminCertGeneration || olds.adminValidityDays !== news.adminValidityDays;
    return { changes: changed, replaces, deleteBeforeReplace: false };
  },
  async update(_id: string, olds: State, news: ClusterPkiArgs) {
    const admin = issueAdminCert(news.clusterName, olds.clientCaKey, new Date(Date.now() - 5 * 60_000), news.adminValidityDays);
    return { outs: { ...olds, ...news, adminCert: admin.cert, adminKey: admin.key, adminNotAfter: admin.notAfter } };
  },
};

export class ClusterPki extends pulumi.dynamic.Resource {
  declare readonly serverCaCert: pulumi.Output<string>;
  declare readonly serverCaKey: pulumi.Output<string>;
  declare readonly clientCaCert: pulumi.Output<string>;
  declare readonly clientCaKey: pulumi.Output<string>;
  declare readonly adminCert: pulumi.Output<string>;
  declare readonly adminKey: pulumi.Output<string>;
  declare readonly adminNotAfter: pulumi.Output<string>;

  constructor(name: string, args: ClusterPkiArgs, opts?: pulumi.CustomResourceOptions) {
    const outputs = { serverCaCert: undefined, serverCaKey: undefined, clientCaCert: undefined, clientCaKey: undefined, adminCert: undefined, adminKey: undefined, adminNotAfter: undefined };
    super(clusterPkiProvider, name, { ...args, ...outputs }, { ...opts, additionalSecretOutputs: [...PKI_SECRET_OUTPUTS] }, "mindroom", "ClusterPki");
  }
}
