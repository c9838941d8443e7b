import type { Canary } from '../api/types.js';
import { strategyOf, type Strategy } from '../api/strategy.js';
import { targetProviderProblem } from './target-providers.js';
import { routerFamily } from './routers.js';

/**
 * What each provider cannot route, decided from the Canary alone (from
 * {@link routerFamily}). The routers answer `Router.unsupported` with these, and
 * `weir lint` asks them before a Canary reaches a cluster.
 */
export const unsupportedBy: Record<
  string,
  (canary: Canary, strategy: Strategy) => string | undefined
> = Object.fromEntries(routerFamily.map((r) => [r.name, r.unsupported]));

/**
 * Why `provider` cannot route the Canary (an unknown provider included), or
 * undefined. `gatewayapi:v1` is the gatewayapi provider, as in the registry.
 */
export function providerProblem(provider: string, canary: Canary): string | undefined {
  const check = unsupportedBy[provider.split(':')[0]!];
  if (!check)
    return `unknown provider "${provider}": Weir supports ${Object.keys(unsupportedBy).sort().join(', ')}`;
  return targetProviderProblem(canary, provider) ?? check(canary, strategyOf(canary.spec.analysis));
}
