#!/usr/bin/env bash
# Builds Weir's controller image from the Dockerfile with the local Node base
# (hack/build-images.sh makes it; no registry is reachable here). npm ci inside
# the build reaches the npm registry through the host network. Layers are cached,
# so a rebuild after a source change only recompiles.
#
# Usage: hack/build-weir-image.sh [TAG]   (default weir.local/weir:dev)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tag="${1:-weir.local/weir:dev}"
base="weir.local/node:$(node --version | tr -d v)"
docker image inspect "$base" >/dev/null 2>&1 || { echo "build-weir-image: $base missing: run hack/build-images.sh first" >&2; exit 1; }
log="$(mktemp)"; trap 'rm -f "$log"' EXIT
if ! docker build --network host --build-arg "NODE_IMAGE=$base" -t "$tag" "$root" >"$log" 2>&1; then
  cat "$log" >&2; exit 1
fi
echo "build-weir-image: built $tag from $base" >&2
echo "$tag"
