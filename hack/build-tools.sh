#!/usr/bin/env bash
# Builds the pinned Go tools Weir's tests and demo need (etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubectl, kwok, helm, Flux's
# source-controller and kustomize-controller, VictoriaMetrics, a second
# PromQL store for the metric provider's tests, InfluxDB 1.8, and Traefik, the
# gateway that carries real traffic in the demo and the data-plane tests) from the Go module
# proxy, as static version-stamped binaries, into a cache outside git, and copies
# beside them the assets the local cluster installs (KWOK stages, router CRDs).
# Everything is rebuilt only when a pin in hack/tools/**/go.{mod,sum} or this
# script changes; the Go build cache makes a rebuild after a small change quick.
#
# Usage: hack/build-tools.sh            build what is missing, print the tools dir
#        hack/build-tools.sh --print    print the tools dir (exit 1 if not built)
#
# Layout of the tools dir: bin/<binaries>, kwok-stages.yaml, crds/*.yaml,
# flux-crds/*.yaml (Flux's own CRDs, from the modules its controllers are built from)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cache="${WEIR_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/weir}"
mode="${1:-build}"

# shellcheck source=hack/versions.sh
source "$here/versions.sh"
k8s_version="$KUBERNETES_VERSION"
k8s_minor="$(echo "$k8s_version" | cut -d. -f2)"
k8s_ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  k8s_ldflags+=" -X $pkg.gitVersion=$k8s_version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$k8s_minor"
  k8s_ldflags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
# group|packages (pkg or pkg=output-name)|ldflags
groups=(
  "kubernetes|go.etcd.io/etcd/server/v3=etcd k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kube-controller-manager k8s.io/kubernetes/cmd/kube-scheduler k8s.io/kubernetes/cmd/kubectl|$k8s_ldflags"
  "kwok|sigs.k8s.io/kwok/cmd/kwok|-X sigs.k8s.io/kwok/pkg/consts.Version=${KWOK_VERSION#v}"
  "helm|helm.sh/helm/v3/cmd/helm|-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION -X helm.sh/helm/v3/internal/version.gitTreeState=clean"
  "flux/source-controller|github.com/fluxcd/source-controller=source-controller|"
  "flux/kustomize-controller|github.com/fluxcd/kustomize-controller=kustomize-controller|"
  "victoriametrics|github.com/VictoriaMetrics/VictoriaMetrics/app/victoria-metrics|-X github.com/VictoriaMetrics/VictoriaMetrics/lib/buildinfo.Version=victoria-metrics-${VICTORIAMETRICS_VERSION}"
  "influxdb|github.com/influxdata/influxdb/cmd/influxd|-X main.version=${INFLUXDB_VERSION#v}"
)

# One stamp for all groups: the bin dir is a pure function of the pins, the
# script and the Go toolchain, so two checkouts with different pins never clash.
stamp="$( { cat "$here"/tools/*/go.mod "$here"/tools/*/go.sum "$here"/tools/flux/*/go.{mod,sum} "${BASH_SOURCE[0]}" "$here/versions.sh"; go env GOVERSION; } | sha256sum | cut -c1-16)"
dir="$cache/tools/$stamp"
bin="$dir/bin"

if [[ "$mode" == "--print" ]]; then
  [[ -f "$dir/.complete" ]] || { echo "tools not built yet: run hack/build-tools.sh" >&2; exit 1; }
  echo "$dir"; exit 0
fi
if [[ -f "$dir/.complete" ]]; then echo "$dir"; exit 0; fi

command -v go >/dev/null || { echo "build-tools: Go is required (the machine's Go toolchain)" >&2; exit 1; }
mkdir -p "$bin"
start=$SECONDS
for g in "${groups[@]}"; do
  IFS='|' read -r name pkgs ldflags <<<"$g"
  for spec in $pkgs; do
    pkg="${spec%%=*}"; out="${spec#*=}"; [[ "$out" == "$spec" ]] && out="$(basename "$pkg")"
    [[ -x "$bin/$out" ]] && continue
    echo "build-tools: building $out ($name) ..." >&2
    t0=$SECONDS
    (cd "$here/tools/$name" && CGO_ENABLED=0 GOFLAGS=-mod=readonly go build -trimpath \
      -ldflags "-s -w $ldflags" -o "$bin/$out.tmp" "$pkg")
    mv "$bin/$out.tmp" "$bin/$out"
    echo "build-tools: built $out in $((SECONDS - t0))s" >&2
  done
done

# module_dir MODULE_DIR PATH: where Go unpacked a pinned module (download verified by go.sum).
module_dir() {
  (cd "$here/tools/$1" && GOFLAGS=-mod=readonly go mod download -json "$2") |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p'
}

# Traefik's go.mod has replace directives, so it is built inside its own unpacked
# module (read-only, verified by hack/tools/traefik/go.sum), whose go.sum pins
# every dependency.
if [[ ! -x "$bin/traefik" ]]; then
  echo "build-tools: building traefik (traefik) ..." >&2
  t0=$SECONDS
  (cd "$(module_dir traefik github.com/traefik/traefik/v3)" && CGO_ENABLED=0 GOFLAGS=-mod=readonly \
    GOTOOLCHAIN=local go build -trimpath -ldflags "-s -w -X github.com/traefik/traefik/v3/pkg/version.Version=${TRAEFIK_VERSION#v}" \
    -o "$bin/traefik.tmp" ./cmd/traefik)
  mv "$bin/traefik.tmp" "$bin/traefik"
  echo "build-tools: built traefik in $((SECONDS - t0))s" >&2
fi

kwok_dir="$(module_dir kwok sigs.k8s.io/kwok)"
stages=(node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml
  pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml)
for s in "${stages[@]}"; do cat "$kwok_dir/kustomize/stage/$s"; echo "---"; done >"$dir/kwok-stages.yaml"

mkdir -p "$dir/crds"
gw="$(module_dir crds sigs.k8s.io/gateway-api)"
# The whole standard channel: Traefik's Gateway provider watches every kind in it.
cp "$gw"/config/crd/standard/gateway.networking.k8s.io_*.yaml "$dir/crds/"
istio="$(module_dir crds istio.io/api)"
cp "$istio/kubernetes/customresourcedefinitions.gen.yaml" "$dir/crds/istio.yaml"
smi="$(module_dir crds github.com/servicemeshinterface/smi-sdk-go)"
# Served as apiextensions/v1 at the versions Linkerd's SMI extension serves; see
# test/harness/smi-crd.ts, which converts this legacy v1beta1 manifest.
cp "$smi/crds/split.yaml" "$dir/crds/smi-split.v1beta1.yaml.in"
# The CRDs of the Traefik that runs in the data plane, so its CRD provider finds its own kinds.
traefik="$(module_dir traefik github.com/traefik/traefik/v3)"
cp "$traefik/docs/content/reference/dynamic-configuration/kubernetes-crd-definition-v1.yml" "$dir/crds/traefik.yaml"
contour="$(module_dir crds github.com/projectcontour/contour)"
cp "$contour/examples/contour/01-crds.yaml" "$dir/crds/contour.yaml"
apisix="$(module_dir crds github.com/apache/apisix-ingress-controller)"
cp "$apisix/samples/deploy/crd/v1/ApisixRoute.yaml" "$dir/crds/apisix-route.yaml"
kuma="$(module_dir crds github.com/kumahq/kuma)"
cp "$kuma/deployments/charts/kuma/crds/kuma.io_trafficroutes.yaml" "$dir/crds/kuma-trafficroute.yaml"
knative="$(module_dir crds knative.dev/serving)"
for k in service configuration revision route; do
  cp "$knative/config/core/300-resources/$k.yaml" "$dir/crds/knative-$k.yaml"
done
chmod -R u+w "$dir/crds"

mkdir -p "$dir/flux-crds"
for c in source-controller kustomize-controller; do
  cp "$(module_dir "flux/$c" "github.com/fluxcd/$c")"/config/crd/bases/*.yaml "$dir/flux-crds/"
done
chmod -R u+w "$dir/flux-crds"

touch "$dir/.complete"
echo "build-tools: all tools ready in $((SECONDS - start))s" >&2
echo "$dir"
