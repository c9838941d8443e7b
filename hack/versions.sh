# Versions read from the pins in hack/tools/*/go.mod, for scripts to source.
_versions_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/tools"
_pin() { awk -v m="$2" '$1 == m {print $2} $1 == "require" && $2 == m {print $3}' "$_versions_dir/$1/go.mod" | head -1; }
KUBERNETES_VERSION="$(_pin kubernetes k8s.io/kubernetes)"
ETCD_VERSION="$(_pin kubernetes go.etcd.io/etcd/server/v3)"
KWOK_VERSION="$(_pin kwok sigs.k8s.io/kwok)"
HELM_VERSION="$(_pin helm helm.sh/helm/v3)"
FLUX_SOURCE_CONTROLLER_VERSION="$(_pin flux/source-controller github.com/fluxcd/source-controller)"
FLUX_KUSTOMIZE_CONTROLLER_VERSION="$(_pin flux/kustomize-controller github.com/fluxcd/kustomize-controller)"
VICTORIAMETRICS_VERSION="$(_pin victoriametrics github.com/VictoriaMetrics/VictoriaMetrics)"
INFLUXDB_VERSION="$(_pin influxdb github.com/influxdata/influxdb)"
TRAEFIK_VERSION="$(_pin traefik github.com/traefik/traefik/v3)"
unset -f _pin
