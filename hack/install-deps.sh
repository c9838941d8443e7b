#!/usr/bin/env bash
# Installs everything Weir's two commands need on a fresh machine, reusing what is
# already there: Debian packages, npm packages (from the lockfile), the Go-built
# tools (hack/build-tools.sh) and the local images (hack/build-images.sh).
# Prints the tools dir on its last line.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"

# Debian packages, by name: dockerd for testcontainers, Prometheus for metrics,
# git for the demo's repository, tmux for terminal tests, busybox-static for the
# shell of the local Node base image, curl and openssl to fetch and verify Node.js
# (hack/node.sh), libatomic1 which Node's binary links, lua5.1 to test the Argo CD
# health check (Argo CD runs Lua 5.1), tinyproxy as a real HTTP proxy for the alert
# providers' `proxy`, graphite-carbon and graphite-web as a real Graphite for its provider,
# iproute2 and util-linux (unshare, setpriv) for the data plane's network namespace,
# chromium and a font for the dashboard's browser tests (playwright-core drives it).
debs=(docker.io prometheus git tmux ca-certificates busybox-static curl openssl libatomic1 lua5.1 tinyproxy
  graphite-carbon graphite-web iproute2 util-linux chromium fonts-dejavu-core)
missing=()
for p in "${debs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if ((${#missing[@]})); then
  sudo=""; [[ "$(id -u)" == 0 ]] || sudo="sudo"
  echo "install-deps: installing Debian packages: ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
# The Debian packages enable Prometheus, tinyproxy and carbon-cache services on machines
# with an init system; the harness runs its own instances on free ports, so stop those.
for service in prometheus tinyproxy carbon-cache; do
  if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
    systemctl stop "$service" >&2 || true
  fi
done

# The pinned Node.js and npm (hack/node.sh), then the npm packages exactly as locked,
# skipped when node_modules was installed from this lockfile by this Node.
# shellcheck source=hack/node.sh
source "$here/node.sh"
stamp="$( { cat "$root/package-lock.json"; node --version; } | sha256sum | cut -c1-16)"
if [[ "$(cat "$root/node_modules/.weir-install-stamp" 2>/dev/null)" != "$stamp" ]]; then
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
  echo "$stamp" >"$root/node_modules/.weir-install-stamp"
fi

"$here/build-tools.sh"
