#!/usr/bin/env bash
# Makes a Docker engine reachable for testcontainers.
#
#   eval "$(hack/docker.sh up)"   use a reachable engine, or start Debian's dockerd
#                                 (host networking only: no bridge, no iptables)
#   hack/docker.sh down           stop the dockerd that `up` started, if any
#
# `up` prints shell exports: DOCKER_HOST, and WEIR_DOCKERD_STARTED=1 when it
# started a daemon, so the caller knows to stop it.
set -euo pipefail

cache="${WEIR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir}"
run="/run/weir-docker"   # short: containerd's socket path must stay under 108 bytes
sock="unix://$run/docker.sock"
pidfile="$run/dockerd.pid"

case "${1:-}" in
  up)
    if [[ -n "${DOCKER_HOST:-}" ]] && docker info >/dev/null 2>&1; then
      echo "export DOCKER_HOST='$DOCKER_HOST'"; exit 0
    fi
    if [[ -z "${DOCKER_HOST:-}" ]] && docker info >/dev/null 2>&1; then exit 0; fi
    if DOCKER_HOST="$sock" docker info >/dev/null 2>&1; then
      echo "export DOCKER_HOST='$sock'"; exit 0
    fi
    command -v dockerd >/dev/null || { echo "docker.sh: dockerd missing (hack/install-deps.sh installs docker.io)" >&2; exit 1; }
    mkdir -p "$run" "$cache/docker"
    # --bridge=none and no iptables: containers get host networking only, so
    # nothing is ever routed to a bridge address. setsid: a Ctrl-C in the
    # caller's terminal must not reach the daemon before the caller has removed
    # its containers; the caller stops the daemon last (`down`).
    setsid nohup dockerd --host "$sock" --data-root "$cache/docker" --exec-root "$run/exec" \
      --pidfile "$pidfile" --bridge=none --iptables=false --ip6tables=false \
      --ip-forward=false --ip-masq=false >"$run/dockerd.log" 2>&1 &
    for _ in $(seq 1 150); do
      if DOCKER_HOST="$sock" docker info >/dev/null 2>&1; then
        echo "export DOCKER_HOST='$sock' WEIR_DOCKERD_STARTED=1"; exit 0
      fi
      sleep 0.2
    done
    echo "docker.sh: dockerd did not come up in 30s; its log:" >&2; tail -20 "$run/dockerd.log" >&2; exit 1
    ;;
  down)
    [[ -f "$pidfile" ]] || exit 0
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || exit 0
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || exit 0; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
    ;;
  *) echo "usage: hack/docker.sh up|down" >&2; exit 2 ;;
esac
