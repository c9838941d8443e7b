#!/usr/bin/env bash
# Builds the local container images the test harness runs with testcontainers:
# one FROM-scratch image per control-plane binary built by hack/build-tools.sh,
# and one for Debian's Prometheus (its binary plus the few shared libraries it
# links). Binaries sit at the paths the upstream images use, so the harness can
# run upstream images instead on a machine with a registry (see README).
# An image is rebuilt only when the tools it holds change (label dev.weir.stamp).
#
# Usage: hack/build-images.sh TOOLS_DIR
set -euo pipefail

tools="${1:?usage: hack/build-images.sh TOOLS_DIR (printed by hack/build-tools.sh)}"
stamp="$(basename "$tools")"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=hack/versions.sh
source "$here/versions.sh"

build_image() { # build_image IMAGE STAMP CONTEXT_DIR
  local image="$1" want="$2" ctx="$3" have
  have="$(docker image inspect -f '{{index .Config.Labels "dev.weir.stamp"}}' "$image" 2>/dev/null || true)"
  if [[ "$have" == "$want" ]]; then return 0; fi
  echo "build-images: building $image" >&2
  # The daemon is Debian's without buildx; the legacy builder's deprecation notice is noise.
  if ! docker build -q --label "dev.weir.stamp=$want" -t "$image" "$ctx" >"$work/build.log" 2>&1; then
    cat "$work/build.log" >&2; return 1
  fi
}

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# name|binary|path in image (as in the upstream image)|version
for spec in \
  "etcd|etcd|/usr/local/bin/etcd|$ETCD_VERSION" \
  "kube-apiserver|kube-apiserver|/usr/local/bin/kube-apiserver|$KUBERNETES_VERSION" \
  "kube-controller-manager|kube-controller-manager|/usr/local/bin/kube-controller-manager|$KUBERNETES_VERSION" \
  "kube-scheduler|kube-scheduler|/usr/local/bin/kube-scheduler|$KUBERNETES_VERSION" \
  "kwok|kwok|/usr/local/bin/kwok|$KWOK_VERSION"; do
  IFS='|' read -r name binary path version <<<"$spec"
  ctx="$work/$name"; mkdir -p "$ctx/root$(dirname "$path")"
  cp "$tools/bin/$binary" "$ctx/root$path"
  printf 'FROM scratch\nCOPY root/ /\nENTRYPOINT ["%s"]\n' "$path" >"$ctx/Dockerfile"
  build_image "weir.local/$name:$version" "$stamp" "$ctx"
done

# Prometheus from Debian: dynamically linked against libc only, so the image holds
# the binary and exactly the libraries ldd lists.
prom="$(command -v prometheus || true)"
[[ -n "$prom" ]] || { echo "build-images: prometheus not installed (hack/install-deps.sh installs it)" >&2; exit 1; }
# Image tags cannot hold '+', which Debian versions do (2.42.0+ds).
prom_version="$(prometheus --version 2>&1 | sed -n 's/^prometheus, version \([^ ]*\).*/\1/p' | tr '+' '-')"
ctx="$work/prometheus"; mkdir -p "$ctx/root/bin"
cp "$prom" "$ctx/root/bin/prometheus"
for lib in $(ldd "$prom" | grep -o '/[^ ]*'); do
  mkdir -p "$ctx/root$(dirname "$lib")"; cp -L "$lib" "$ctx/root$lib"
done
printf 'FROM scratch\nCOPY root/ /\nENTRYPOINT ["/bin/prometheus"]\n' >"$ctx/Dockerfile"
build_image "weir.local/prometheus:$prom_version" "$(sha256sum "$prom" | cut -c1-16)" "$ctx"

# A Node base image for the Dockerfile when no registry is reachable: the machine's
# node binary and npm, the libraries ldd lists, busybox for RUN steps, CA
# certificates (npm ci), and a nonroot user 65532. Stands in for node:<lts>-slim.
node_bin="$(readlink -f "$(command -v node)")"
node_version="$(node --version | tr -d v)"
npm_dir="$(npm root -g 2>/dev/null)/npm"
ctx="$work/node"; root_fs="$ctx/root"
mkdir -p "$root_fs/usr/local/bin" "$root_fs/usr/local/lib/node_modules" "$root_fs/bin" "$root_fs/etc/ssl/certs" \
  "$root_fs/tmp" "$root_fs/root" "$root_fs/home/nonroot"
cp "$node_bin" "$root_fs/usr/local/bin/node"
cp -r "$npm_dir" "$root_fs/usr/local/lib/node_modules/npm"
printf '#!/bin/sh\nexec /usr/local/bin/node /usr/local/lib/node_modules/npm/bin/npm-cli.js "$@"\n' >"$root_fs/usr/local/bin/npm"
chmod 755 "$root_fs/usr/local/bin/npm"
for lib in $(ldd "$node_bin" | grep -o '/[^ ]*'); do
  mkdir -p "$root_fs$(dirname "$lib")"; cp -L "$lib" "$root_fs$lib"
done
cp /bin/busybox "$root_fs/bin/busybox"
for app in sh ls cat cp mv rm mkdir env id chmod; do ln -sf busybox "$root_fs/bin/$app"; done
# Scripts start with #!/usr/bin/env node (npm's bin links).
mkdir -p "$root_fs/usr/bin"; ln -sf ../../bin/busybox "$root_fs/usr/bin/env"
cp /etc/ssl/certs/ca-certificates.crt "$root_fs/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/bin/sh\nnonroot:x:65532:65532:nonroot:/home/nonroot:/bin/false\n' >"$root_fs/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root_fs/etc/group"
chmod 1777 "$root_fs/tmp"
chown 65532:65532 "$root_fs/home/nonroot"
printf 'FROM scratch\nCOPY root/ /\nENV PATH=/usr/local/bin:/bin HOME=/root SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt\nCMD ["node"]\n' >"$ctx/Dockerfile"
node_stamp="$(cat "$node_bin" "$npm_dir/package.json" /bin/busybox /etc/ssl/certs/ca-certificates.crt "${BASH_SOURCE[0]}" | sha256sum | cut -c1-16)"
build_image "weir.local/node:$node_version" "$node_stamp" "$ctx"
echo "build-images: images ready" >&2
