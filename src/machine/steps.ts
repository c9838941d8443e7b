import type { CanaryAnalysis, CanaryPhase, WebhookType } from '../api/canary-schema.js';
import { strategyOf } from '../api/strategy.js';

/** The weight after `weight` for a weighted canary (Flagger's stepWeight/stepWeights semantics). */
export function nextStepWeight(analysis: CanaryAnalysis, weight: number): number {
  if (analysis.stepWeights && analysis.stepWeights.length > 0) {
    return analysis.stepWeights.find((w) => w > weight) ?? analysis.stepWeights.at(-1)!;
  }
  const max = analysis.maxWeight ?? 100;
  return Math.min(weight + (analysis.stepWeight ?? max), max);
}

/** The weight at which a weighted canary is ready for promotion. */
export function finalStepWeight(analysis: CanaryAnalysis): number {
  if (analysis.stepWeights && analysis.stepWeights.length > 0) return analysis.stepWeights.at(-1)!;
  return analysis.maxWeight ?? 100;
}

/**
 * True when the checks that just passed complete the analysis: the weighted
 * canary already runs at its final weight, or blue/green and A/B have done
 * `iterations` steps.
 */
export function analysisComplete(
  analysis: CanaryAnalysis,
  weight: number,
  iterations: number,
): boolean {
  return strategyOf(analysis) === 'canary'
    ? weight >= finalStepWeight(analysis)
    : iterations >= (analysis.iterations ?? 1);
}

/** Canary weight during a release step: weighted canaries shift traffic; blue/green and A/B route by rule. */
export function routeWeight(analysis: CanaryAnalysis, weight: number): number {
  return strategyOf(analysis) === 'canary' ? weight : 0;
}

/**
 * Whether traffic is mirrored to the canary at this step (`analysis.mirror`, as in
 * Flagger): through the whole analysis of a blue/green release, and for the first
 * step (weight 0) of a weighted canary, before any user traffic moves.
 */
export function mirrorStep(analysis: CanaryAnalysis, phase: CanaryPhase, weight: number): boolean {
  if (!analysis.mirror || phase !== 'Progressing') return false;
  const strategy = strategyOf(analysis);
  return strategy === 'blueGreen' || (strategy === 'canary' && weight === 0);
}

/**
 * Whether a step has canary traffic to judge. The first step of a release runs at
 * weight 0 before any traffic moves (Flagger skips the analysis there too): only
 * its gates and pre-rollout webhooks run, and metrics would find no data. A
 * mirrored step has traffic: copies of the primary's requests.
 */
export function stepHasTraffic(
  phase: CanaryPhase,
  weight: number,
  iterations: number,
  mirrored = false,
): boolean {
  if (phase === 'Waiting') return false;
  if (mirrored) return true;
  return !(phase === 'Progressing' && weight === 0 && iterations === 0);
}

/**
 * The webhook types an analysis step calls (Flagger's semantics): Waiting asks
 * confirm-rollout; the first step runs pre-rollout (until a step passes) instead
 * of rollout, since no traffic has moved yet; every step runs rollback; a step
 * that would raise the weight asks confirm-traffic-increase; a step that may
 * complete the analysis, and every step in WaitingPromotion, asks
 * confirm-promotion.
 */
export function stepHooks(
  phase: CanaryPhase,
  analysis: CanaryAnalysis,
  at: { weight: number; iterations: number; stepPassed?: boolean },
): WebhookType[] {
  const { weight, iterations, stepPassed = false } = at;
  if (phase === 'Waiting') return ['confirm-rollout'];
  if (phase === 'WaitingPromotion') return ['rollout', 'rollback', 'confirm-promotion'];
  if (phase !== 'Progressing') return [];
  const hooks: WebhookType[] = [];
  if (!stepHasTraffic(phase, weight, iterations)) {
    if (!stepPassed) hooks.push('pre-rollout');
  } else hooks.push('rollout');
  hooks.push('rollback');
  if (analysisComplete(analysis, weight, iterations + 1)) hooks.push('confirm-promotion');
  else if (strategyOf(analysis) === 'canary') hooks.push('confirm-traffic-increase');
  return hooks;
}
