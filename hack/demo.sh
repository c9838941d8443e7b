#!/usr/bin/env bash
# README command 1: Weir's main job on an embedded default. Installs what is
# missing (Debian packages, npm packages, Go-built tools, local images), makes a
# Docker engine reachable, then runs hack/demo.ts. Stops everything on exit.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
tools="$(hack/install-deps.sh | tail -1)"
# The pinned Node.js and npm (installed by install-deps.sh) first on PATH.
# shellcheck source=hack/node.sh
source hack/node.sh
eval "$(hack/docker.sh up)"
if [[ "${WEIR_DOCKERD_STARTED:-}" == 1 ]]; then trap 'hack/docker.sh down' EXIT; fi
hack/build-images.sh "$tools"
node --import tsx hack/demo.ts "$@"
