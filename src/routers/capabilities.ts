import type { Canary } from '../api/types.js';
import { strategyOf, type Strategy } from '../api/strategy.js';
import { contourUnsupported } from './contour-router.js';
import { gatewayApiUnsupported } from './gateway-api-router.js';
import { istioUnsupported } from './istio-objects.js';
import { kubernetesUnsupported } from './kubernetes-router.js';
import { trafficSplitUnsupported } from './linkerd-router.js';
import { nginxUnsupported } from './nginx-router.js';
import { traefikUnsupported } from './traefik-router.js';

/**
 * What each provider cannot route, decided from the Canary alone. The routers
 * answer `Router.unsupported` with these, and `weir lint` asks them before a
 * Canary reaches a cluster.
 */
export const unsupportedBy: Record<
  string,
  (canary: Canary, strategy: Strategy) => string | undefined
> = {
  gatewayapi: gatewayApiUnsupported,
  istio: istioUnsupported,
  linkerd: (canary, strategy) => trafficSplitUnsupported('linkerd', canary, strategy),
  smi: (canary, strategy) => trafficSplitUnsupported('smi', canary, strategy),
  traefik: traefikUnsupported,
  contour: contourUnsupported,
  nginx: nginxUnsupported,
  kubernetes: kubernetesUnsupported,
};

/**
 * Why `provider` cannot route the Canary (an unknown provider included), or
 * undefined. `gatewayapi:v1` is the gatewayapi provider, as in the registry.
 */
export function providerProblem(provider: string, canary: Canary): string | undefined {
  const check = unsupportedBy[provider.split(':')[0]!];
  if (!check)
    return `unknown provider "${provider}": Weir supports ${Object.keys(unsupportedBy).sort().join(', ')}`;
  return check(canary, strategyOf(canary.spec.analysis));
}
