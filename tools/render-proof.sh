#!/usr/bin/env bash
# Proves that a change altered no rendered object (for refactors such as the values recipe): on
# <base> and on the working tree it renders every values fixture with the render CLI and records
# every render the component, stack and infra tests make (MINDROOM_RENDER_LOG, infra/render/render-log.ts),
# then compares both byte for byte. Exit 0 when identical, 1 with the first differences otherwise.
# Usage: bash tools/render-proof.sh [<base-ref>]   (default HEAD: the last commit vs uncommitted work)
set -euo pipefail
cd "$(dirname "$0")/.."
base=${1:-HEAD}
out=$(mktemp -d /tmp/render-proof.XXXXXX)
git worktree add --quiet --detach "$out/base" "$base"
ln -s "$PWD/node_modules" "$out/base/node_modules"
trap 'git worktree remove --force "$out/base"' EXIT

# The working tree's fixtures, by absolute path, so both sides render the same inputs.
mapfile -t fixtures < <(find "$PWD/test/fixtures/instance" "$PWD/test/fixtures/platform" "$PWD/test/fixtures/runtime" -name '*.yaml' ! -name '*.helm.yaml' | sort)

capture() { # <tree> <side>
  local tree=$1 side=$2 f target
  for f in "${fixtures[@]}"; do
    target=$(basename "$(dirname "${f%/helm/*}/x")")
    echo "=== ${f#"$PWD/"}"
    (cd "$tree" && npm run --silent render -- "$target" -f "$f" 2>&1) || echo "(exit $?)"
  done > "$out/$side.fixtures.yaml"
  (cd "$tree" && MINDROOM_RENDER_LOG="$out/$side.renders.jsonl" npx tsx test/run.ts test/components test/stacks test/infra > "$out/$side.tests.log" 2>&1) || true
  echo "$side: $(grep -c '^===' "$out/$side.fixtures.yaml") fixtures, $(wc -l < "$out/$side.renders.jsonl") test renders, tests: $(tail -n 1 "$out/$side.tests.log")"
}
capture "$out/base" base
capture "$PWD" change

same=0
for kind in fixtures.yaml renders.jsonl; do
  if cmp -s "$out/base.$kind" "$out/change.$kind"; then echo "$kind: identical"
  else same=1; echo "$kind: DIFFERENT"; { diff "$out/base.$kind" "$out/change.$kind" || true; } | cut -c1-300 | head -n 20 || true; fi
done
echo "files kept in $out"
exit $same
