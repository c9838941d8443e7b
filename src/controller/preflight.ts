import type { CanaryPhase } from '../api/canary-schema.js';
import type { Canary } from '../api/types.js';
import type { Background } from './background.js';
import type { CheckRunner } from '../contracts/checks.js';
import { conditionsAt, metricsCondition, type Condition } from './status.js';

/** How often (at most) an idle Canary's metric providers are probed again. */
const preflightEveryMs = 5 * 60_000;

/** Phases outside a release, when the providers are probed. */
const idlePhases = new Set<CanaryPhase>([
  'Initializing',
  'Initialized',
  'Waiting',
  'Succeeded',
  'Failed',
]);

/**
 * The MetricsAvailable condition. Outside a release (and before the first one)
 * every metric provider is probed in the background, at most every five minutes;
 * during a release the condition stays as it was and failed checks speak instead.
 */
export function metricsReadiness(input: {
  key: string;
  canary: Canary;
  phase: CanaryPhase;
  checks: CheckRunner;
  probes: Background<string | undefined>;
  now: number;
}): Condition | undefined {
  const { key, canary, checks, probes, now } = input;
  const previous = canary.status?.conditions?.find((c) => c.type === metricsCondition);
  if (!canary.spec.analysis.metrics?.length || !checks.preflight) {
    probes.cancel(key);
    return undefined;
  }
  if (!idlePhases.has(input.phase)) return previous;
  const id = `${canary.metadata.generation}/${Math.floor(now / preflightEveryMs)}`;
  const preflight = checks.preflight.bind(checks);
  const polled = probes.poll(key, id, (signal) =>
    preflight(canary, signal).catch((err: Error) => err.message),
  );
  if (!polled.done) return previous;
  const condition = conditionsAt(canary.status?.conditions, {
    generation: canary.metadata.generation ?? 0,
    nowIso: new Date(now).toISOString(),
  });
  return polled.result === undefined
    ? condition(metricsCondition, 'True', 'ProvidersAnswer', 'Every metric provider answers')
    : condition(metricsCondition, 'False', 'ProviderUnavailable', polled.result);
}
