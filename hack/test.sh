#!/usr/bin/env bash
# README command 2: every check and test. Installs what is missing (Debian
# packages, npm packages, Go-built tools, local images), makes a Docker engine
# reachable, then runs lint, the type check, and the unit and integration suites.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
start=$SECONDS
tools="$(hack/install-deps.sh | tail -1)"
# The pinned Node.js and npm (installed by install-deps.sh) first on PATH.
# shellcheck source=hack/node.sh
source hack/node.sh
eval "$(hack/docker.sh up)"
if [[ "${WEIR_DOCKERD_STARTED:-}" == 1 ]]; then trap 'hack/docker.sh down' EXIT; fi
hack/build-images.sh "$tools"
echo "test.sh: set-up done in $((SECONDS - start))s" >&2
npm run --silent lint
npm run --silent typecheck
npx vitest run "$@"
