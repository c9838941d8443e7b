import { describe, expect, it } from 'vitest';
import type { CanaryRun } from '../../../src/api/types.js';
import { formatHistory } from '../../../src/cli/history.js';
import { view } from './get-view-fixture.js';

describe('weir history', () => {
  it('says what the judge found in words, and which checks could not be judged', () => {
    const run: CanaryRun = {
      ...view.run!,
      status: {
        transitions: [
          {
            time: '2026-11-22T10:10:34Z',
            to: 'Progressing',
            event: 'checks',
            reason: 'CheckInconclusive',
            weight: 25,
            message:
              'Inconclusive checks 1/5, holding the weight at 25: request-success-rate: Prometheus at http://prometheus:9090 is unreachable (ECONNREFUSED)',
            metrics: [
              {
                name: 'request-success-rate',
                passed: false,
                inconclusive: true,
                min: 99,
                message:
                  'request-success-rate: Prometheus at http://prometheus:9090 is unreachable (ECONNREFUSED)',
              },
              {
                name: 'latency-vs-primary',
                passed: true,
                message:
                  'latency-vs-primary 1.2 % higher than the primary (98 % CI −0.8 % to 3.1 %, 13 vs 13 samples)',
                judge: { canarySamples: 13, primarySamples: 13, estimate: 0.012 },
              },
            ],
          },
        ],
      },
    };
    const line = formatHistory('frontend', [run], [])
      .split('\n')
      .find((l) => l.includes('CheckInconclusive'))!;
    expect(line).toContain(
      '[request-success-rate=no data (inconclusive, min 99) latency-vs-primary 1.2 % higher than the primary (98 % CI −0.8 % to 3.1 %, 13 vs 13 samples)]',
    );
  });
});
