#!/usr/bin/env bash
# One-step set-up of a fresh machine for every test (README "Set-up"): the Debian programs the
# tests use, the npm packages, and the real engine built from Go modules (tools/engine/build.sh).
# Safe to rerun: it installs only what is missing, and the engine build is cached.
#
#   tools/setup.sh              everything
#   tools/setup.sh --no-engine  Debian packages and npm only (enough for `npm test`)
set -euo pipefail
cd "$(dirname "$0")/.."

# cloud-init (user-data schema check), PostgreSQL (Supabase migration test), iptables + iproute2
# (the node metadata guard runs in network namespaces), systemd (`systemd-analyze verify`).
need=()
command -v cloud-init >/dev/null 2>&1 || need+=(cloud-init)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v iptables >/dev/null 2>&1 || need+=(iptables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || { echo "installing ${need[*]} needs root: run sudo $0" >&2; exit 1; }
  echo "installing: ${need[*]}"
  if ! (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}") >/tmp/setup-apt.log 2>&1; then
    tail -5 /tmp/setup-apt.log >&2; echo "apt-get install ${need[*]} failed; see /tmp/setup-apt.log" >&2; exit 1
  fi
fi

if ! npm ci --no-audit --no-fund >/tmp/setup-npm.log 2>&1; then
  tail -20 /tmp/setup-npm.log >&2; echo "npm ci failed; see /tmp/setup-npm.log" >&2; exit 1
fi

[ "${1:-}" = "--no-engine" ] || bash tools/engine/build.sh
