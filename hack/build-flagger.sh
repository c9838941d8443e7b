#!/usr/bin/env bash
# Builds Flagger, pinned in hack/flagger/go.mod, from the Go module proxy as a
# static version-stamped binary, for running it side by side with Weir in the
# scale benchmark. Not part of the test path: nothing in the test suite needs it.
# Output goes to a cache dir outside git keyed by a hash of the pin, this script
# and the Go toolchain (as hack/build-tools.sh does for the cluster tools), with
# Flagger's own CRDs copied beside the binary.
#
# Usage: hack/build-flagger.sh            build if missing, print the dir
#        hack/build-flagger.sh --print    print the dir (exit 1 if not built)
#
# Layout: bin/flagger, crds/flagger.yaml (Canary, MetricTemplate, AlertProvider
# in group flagger.app)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
mod="$here/flagger"
cache="${WEIR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir}"
mode="${1:-build}"

version="$(awk '$1 == "require" && $2 == "github.com/fluxcd/flagger" {print $3}' "$mod/go.mod")"
[[ -n "$version" ]] || { echo "build-flagger: hack/flagger/go.mod does not pin github.com/fluxcd/flagger" >&2; exit 1; }

stamp="$( { cat "$mod/go.mod" "$mod/go.sum" "${BASH_SOURCE[0]}"; go env GOVERSION; } | sha256sum | cut -c1-16)"
dir="$cache/flagger/$stamp"

if [[ "$mode" == "--print" ]]; then
  [[ -f "$dir/.complete" ]] || { echo "flagger not built yet: run hack/build-flagger.sh" >&2; exit 1; }
  echo "$dir"; exit 0
fi
if [[ -f "$dir/.complete" ]]; then echo "$dir"; exit 0; fi

command -v go >/dev/null || { echo "build-flagger: Go is required (the machine's Go toolchain)" >&2; exit 1; }
mkdir -p "$dir/bin" "$dir/crds"
start=$SECONDS
echo "build-flagger: building flagger $version ..." >&2
# Flagger reports pkg/version.VERSION (already the release number in the module)
# and REVISION, which its release build sets to the git commit; stamp the tag.
(cd "$mod" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
  -ldflags "-s -w -X github.com/fluxcd/flagger/pkg/version.VERSION=${version#v} -X github.com/fluxcd/flagger/pkg/version.REVISION=$version" \
  -o "$dir/bin/flagger.tmp" github.com/fluxcd/flagger/cmd/flagger)
mv "$dir/bin/flagger.tmp" "$dir/bin/flagger"

src="$(cd "$mod" && GOFLAGS=-mod=readonly go mod download -json github.com/fluxcd/flagger |
  sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
cp "$src/artifacts/flagger/crd.yaml" "$dir/crds/flagger.yaml"
chmod -R u+w "$dir/crds"

touch "$dir/.complete"
echo "build-flagger: $("$dir/bin/flagger" -version) ready in $((SECONDS - start))s" >&2
echo "$dir"
