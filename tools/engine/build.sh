#!/usr/bin/env bash
# Builds the real engine the tests use (docs/engine.md): the Pulumi CLI, the kubernetes provider,
# a Node.js language host, kube-apiserver and etcd, from Go modules, into a cache outside the clone.
#
#   tools/engine/build.sh            probe the proxy, build what is missing, print the bin dir last
#   tools/engine/build.sh --bin-dir  print the bin dir only (nothing is built)
#
# Cache: ${MINDROOM_ENGINE_DIR:-~/.cache/mindroom-engine}/<pin>/bin, where <pin> hashes pins.env
# and every wrapper module here, so a changed pin or wrapper builds into a fresh folder.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=pins.env
source "$here/pins.env"

pin="$(cd "$here" && cat pins.env */go.mod */go.sum */*.go | sha256sum | cut -c1-12)"
root="${MINDROOM_ENGINE_DIR:-$HOME/.cache/mindroom-engine}"
bin="$root/$pin/bin"
if [ "${1:-}" = "--bin-dir" ]; then echo "$bin"; exit 0; fi

command -v go >/dev/null 2>&1 || { echo "go not found: install Go 1.26 (apt-get install golang-go is too old; use the Go toolchain) and rerun $0" >&2; exit 1; }
mkdir -p "$bin"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false" CGO_ENABLED=0

tools=(pulumi pulumi-resource-kubernetes pulumi-language-nodejs kube-apiserver etcd)
missing=()
for t in "${tools[@]}"; do [ -x "$bin/$t" ] || missing+=("$t"); done
if [ ${#missing[@]} -eq 0 ]; then
  ln -sf "$here/pulumi-resource-pulumi-nodejs" "$bin/pulumi-resource-pulumi-nodejs"
  echo "engine tools cached: $bin"; echo "$bin"; exit 0
fi

# Download-only probe first: which exact version the proxy serves for each tool, before any build.
echo "probing the Go module proxy:"
probe() { # <wrapper dir> <module>
  local v
  v="$(cd "$here/$1" && go list -m -f '{{.Version}}' "$2")" || { echo "  $2: not served (see above)" >&2; return 1; }
  (cd "$here/$1" && go mod download) || { echo "  $1: go mod download failed" >&2; return 1; }
  echo "  $1: $2 $v"
}
probe pulumi github.com/pulumi/pulumi/pkg/v3
probe kubernetes github.com/pulumi/pulumi-kubernetes/provider/v4
probe language-nodejs github.com/pulumi/pulumi/sdk/v3
probe kube-apiserver k8s.io/kubernetes
probe etcd go.etcd.io/etcd/server/v3

build() { # <tool> <wrapper dir> <package> [ldflags]
  [ -x "$bin/$1" ] && return 0
  local start=$SECONDS
  (cd "$here/$2" && go build -trimpath -ldflags "-s -w ${4:-}" -o "$bin/$1.tmp" "$3")
  mv "$bin/$1.tmp" "$bin/$1"
  echo "built $1 in $((SECONDS - start)) s"
}
build pulumi pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi \
  "-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$PULUMI_VERSION"
# The provider's main embeds schema files its Makefile generates; ours embeds the ones the module ships.
kdir="$(cd "$here/kubernetes" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)"
install -m 0644 "$kdir/cmd/pulumi-resource-kubernetes/schema.json" "$kdir/cmd/pulumi-resource-kubernetes/terraform-mapping.json" "$here/kubernetes/"
build pulumi-resource-kubernetes kubernetes . \
  "-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=$KUBERNETES_PROVIDER_VERSION"
build pulumi-language-nodejs language-nodejs . "-X main.version=$PULUMI_VERSION"
build kube-apiserver kube-apiserver k8s.io/kubernetes/cmd/kube-apiserver
build etcd etcd .
ln -sf "$here/pulumi-resource-pulumi-nodejs" "$bin/pulumi-resource-pulumi-nodejs"
"$bin/pulumi" version >/dev/null
echo "$bin"
