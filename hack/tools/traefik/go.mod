// Traefik v3, the Gateway API implementation that carries real traffic in the
// demo and the data-plane tests. Download-only: its go.mod has replace directives,
// so hack/build-tools.sh builds ./cmd/traefik inside the unpacked module, whose
// go.sum verifies every dependency. v3.7.x is not used: it replaces a module by a
// nested one that is not published and depends on a fork the proxy does not serve.
module weir.dev/hack/tools/traefik

go 1.26.0

require github.com/traefik/traefik/v3 v3.6.12
