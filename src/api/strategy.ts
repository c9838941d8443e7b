import type { CanaryAnalysis } from './canary-schema.js';

/** Which strategy an analysis describes. */
export type Strategy = 'canary' | 'blueGreen' | 'abTesting';

export function strategyOf(analysis: CanaryAnalysis): Strategy {
  if (analysis.match && analysis.match.length > 0) return 'abTesting';
  if (
    analysis.iterations !== undefined &&
    analysis.stepWeight === undefined &&
    !analysis.stepWeights
  )
    return 'blueGreen';
  return 'canary';
}
