// Pins the modules whose router CRDs the local test cluster installs. Nothing
// here is compiled: hack/build-tools.sh runs `go mod download` on each module
// (verified against go.sum) and copies the CRD manifests out of it.
module weir.dev/hack/tools/crds

go 1.26.0

require (
	github.com/apache/apisix-ingress-controller v1.8.4
	github.com/kumahq/kuma v1.8.1
	github.com/projectcontour/contour v1.33.8
	github.com/servicemeshinterface/smi-sdk-go v0.5.0
	istio.io/api v1.31.1
	knative.dev/serving v0.51.0
	sigs.k8s.io/gateway-api v1.4.1
)
