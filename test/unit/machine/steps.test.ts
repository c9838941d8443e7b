import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis, CanaryPhase } from '../../../src/api/canary-schema.js';
import { mirrorStep, stepHasTraffic } from '../../../src/machine/steps.js';

const weighted: CanaryAnalysis = { interval: '10s', stepWeight: 10, maxWeight: 30, mirror: true };
const blueGreen: CanaryAnalysis = { interval: '10s', iterations: 3, mirror: true };
const abTesting: CanaryAnalysis = {
  interval: '10s',
  iterations: 3,
  mirror: true,
  match: [{ headers: { x: { exact: 'y' } } }],
};

describe('mirrorStep', () => {
  it.each<[string, CanaryAnalysis, CanaryPhase, number, boolean]>([
    ['weighted, first step (weight 0)', weighted, 'Progressing', 0, true],
    ['weighted, once traffic moved', weighted, 'Progressing', 10, false],
    ['weighted, promoting', weighted, 'Promoting', 0, false],
    ['blue/green, whole analysis', blueGreen, 'Progressing', 0, true],
    ['blue/green, waiting for promotion', blueGreen, 'WaitingPromotion', 0, false],
    ['blue/green, rolled back', blueGreen, 'Failed', 0, false],
    ['A/B never mirrors', abTesting, 'Progressing', 0, false],
    ['mirror off', { ...weighted, mirror: false }, 'Progressing', 0, false],
  ])('%s', (_what, analysis, phase, weight, expected) => {
    expect(mirrorStep(analysis, phase, weight)).toBe(expected);
  });
});

describe('stepHasTraffic', () => {
  it('the first step has nothing to measure, unless requests are mirrored to the canary', () => {
    expect(stepHasTraffic('Progressing', 0, 0)).toBe(false);
    expect(stepHasTraffic('Progressing', 0, 0, true)).toBe(true);
    expect(stepHasTraffic('Progressing', 10, 1)).toBe(true);
  });

  it('Waiting never measures, mirrored or not', () => {
    expect(stepHasTraffic('Waiting', 0, 0, true)).toBe(false);
  });
});
