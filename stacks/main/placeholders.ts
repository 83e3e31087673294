/**
 * The committed stack files ship placeholders the operator must replace (docs/cluster.md, step 5):
 * a documentation address as the admin CIDR, a template Supabase URL and an all-zero k3s installer
 * checksum. A preview only warns, so CI can preview a fresh checkout; an `up` refuses before creating anything, because servers built
 * with a documentation address as the only admin CIDR would leave `ApiReady` waiting 15 minutes
 * for an API nobody can reach.
 */
import { BlockList, isIPv4 } from "node:net";
import { ADMIN_CIDR_LISTS } from "../../components/cluster/args";
import type { StackConfig } from "../config";

/** RFC 5737 and RFC 3849 documentation ranges: never a real operator's address. */
function documentationRanges(): BlockList {
  const list = new BlockList();
  for (const net of ["192.0.2.0", "198.51.100.0", "203.0.113.0"]) list.addSubnet(net, 24, "ipv4");
  list.addSubnet("2001:db8::", 32, "ipv6");
  return list;
}

/** The stack files' stand-in for `cluster.k3sInstallerSha256`: no installer has this hash. */
export const INSTALLER_SHA256_PLACEHOLDER = "0".repeat(64);

/** Marker of the template Supabase URL in the stack files. */
export const SUPABASE_PLACEHOLDER = "YOUR-PROJECT";

/** One line per placeholder still in `config`, naming the key and what to put there. */
export function placeholderProblems(config: StackConfig): string[] {
  const docs = documentationRanges();
  const problems: string[] = [];
  if (config.mode === "hetzner" && config.cluster) {
    for (const key of ADMIN_CIDR_LISTS) {
      config.cluster.adminCidrs[key].forEach((cidr, i) => {
        const address = cidr.split("/")[0];
        if (docs.check(address, isIPv4(address) ? "ipv4" : "ipv6")) {
          problems.push(`mindroom:cluster.adminCidrs.${key}[${i}]: ${cidr} is a documentation placeholder; put your own address there (curl -4 ifconfig.me), e.g. <your IP>/32`);
        }
      });
    }
    if (config.cluster.k3sInstallerSha256 === INSTALLER_SHA256_PLACEHOLDER) {
      problems.push(`mindroom:cluster.k3sInstallerSha256: the zeros are a placeholder; set the SHA-256 of https://raw.githubusercontent.com/k3s-io/k3s/${encodeURIComponent(config.cluster.k3sVersion)}/install.sh (curl -sfL <url> | sha256sum), or every node refuses to install k3s`);
    }
  }
  const supabaseUrl = (config.platform.supabase as { url?: unknown } | undefined)?.url;
  if (config.deployPlatform && typeof supabaseUrl === "string" && supabaseUrl.includes(SUPABASE_PLACEHOLDER)) {
    problems.push(`mindroom:platform.supabase.url: ${supabaseUrl} is a placeholder; set your Supabase project's URL (Supabase dashboard → Project Settings → API)`);
  }
  return problems;
}
