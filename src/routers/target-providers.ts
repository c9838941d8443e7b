import type { Canary } from '../api/types.js';

/**
 * Targets released without a primary copy have one provider of their own, which is
 * also their default: a StatefulSet its update partition (ADR 0019), a Knative
 * Service its own traffic split (ADR 0020). Any other provider would route to a
 * primary that does not exist.
 */
const ownProviders: Record<string, { provider: string; why: string }> = {
  StatefulSet: {
    provider: 'kubernetes',
    why: 'a StatefulSet is released in place, a share of its pods at a time (ADR 0019), with no primary copy',
  },
  Service: {
    provider: 'knative',
    why: 'a Knative Service splits its own traffic between its Revisions (ADR 0020), with no primary copy',
  },
};

/** The provider the Canary's target kind must use, when it has one of its own. */
export function ownProviderOf(canary: Canary): string | undefined {
  return ownProviders[canary.spec?.targetRef?.kind ?? '']?.provider;
}

/** Why `provider` cannot release the Canary's target kind, or undefined. */
export function targetProviderProblem(canary: Canary, provider: string): string | undefined {
  const own = ownProviders[canary.spec?.targetRef?.kind ?? ''];
  if (!own || provider.split(':')[0] === own.provider) return undefined;
  return `${own.why} for the ${provider} provider to route to: set spec.provider to ${own.provider}, or leave it out`;
}
