import type { CanaryView } from '../../../src/cli/get-view.js';

/** frontend in shop, 20 s into a release of 1.0.2 that has just failed one check. */
export const view: CanaryView = {
  now: Date.parse('2026-11-22T10:10:30Z'),
  images: { primary: ['weir-demo-app:1.0.1'], canary: ['weir-demo-app:1.0.2'] },
  canary: {
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'frontend', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'frontend' },
      service: { port: 80 },
      analysis: { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 25 },
    },
    status: {
      phase: 'Progressing',
      canaryWeight: 25,
      failedChecks: 1,
      iterations: 1,
      lastAppliedSpec: '42b4472e1f',
      lastPromotedSpec: '7306754f39',
      lastTransitionTime: '2026-11-22T10:10:04Z',
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'Progressing',
          message: '',
          lastTransitionTime: '2026-11-22T10:10:04Z',
        },
      ],
    },
  },
  run: {
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'CanaryRun',
    metadata: { name: 'frontend-8', namespace: 'shop' },
    spec: { canary: 'frontend', revision: '42b4472e1f', startTime: '2026-11-22T10:10:04Z' },
    status: {
      transitions: [
        {
          time: '2026-11-22T10:10:04Z',
          to: 'Progressing',
          event: 'new-revision',
          reason: 'NewRevision',
          weight: 0,
          message: 'New revision 42b4472e1f detected: starting the analysis',
        },
        {
          time: '2026-11-22T10:10:14Z',
          to: 'Progressing',
          event: 'checks',
          reason: 'StepAdvanced',
          weight: 25,
          message: 'Advance canary weight to 25',
        },
        {
          time: '2026-11-22T10:10:24Z',
          to: 'Progressing',
          event: 'checks',
          reason: 'CheckFailed',
          weight: 25,
          message: 'Failed checks 1/2: request-success-rate 71.32% < 99%',
          metrics: [
            {
              name: 'request-success-rate',
              value: 71.32,
              min: 99,
              passed: false,
              message: 'request-success-rate 71.32% < 99%',
            },
            { name: 'request-duration', value: 9.94, max: 500, passed: true },
            { name: 'p95-latency', value: 9.71, max: 250, passed: true },
            {
              name: 'latency-vs-primary',
              passed: false,
              message:
                'latency-vs-primary 23 % higher than the primary (98 % CI 18 % to 29 %, 1,240 vs 1,310 samples), beyond the 5 % allowed',
              judge: {
                canarySamples: 1240,
                primarySamples: 1310,
                estimate: 0.23,
                lower: 0.18,
                upper: 0.29,
                confidence: 0.98,
                tolerance: 0.05,
              },
            },
          ],
        },
      ],
    },
  },
};
