import { describe, expect, it } from 'vitest';
import { defaultJudgeOptions, judge, type SideSamples } from '../../../src/analysis/judge.js';
import { seededRandom } from '../stats/seeded-random.js';

/** Log-normal latencies (median `median` ms), seeded: the same sample on every run. */
function latencies(seed: number, n: number, median: number): number[] {
  const random = seededRandom(seed);
  const normal = () => {
    const u = 1 - random();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  };
  return Array.from({ length: n }, () => median * Math.exp(0.3 * normal()));
}
const samples = (values: readonly number[]): SideSamples => ({ kind: 'samples', values });
const options = defaultJudgeOptions;

describe('the statistical judge of one metric', () => {
  it('passes a canary drawn like the primary, and says by how much they differ', () => {
    const j = judge(
      'latency',
      samples(latencies(1, 300, 50)),
      samples(latencies(2, 300, 50)),
      options,
    );
    expect(j.outcome).toBe('pass');
    expect(j.relative!.lower).toBeLessThan(options.tolerance);
    expect(j.reason).toMatch(
      /^latency [\d.]+ % (higher|lower) than the primary \(98 % CI -?[\d.]+ % to -?[\d.]+ %, 300 vs 300 samples\)$/,
    );
  });

  it('fails a canary 20 % slower, naming the estimate, the interval, the sample sizes and the tolerance', () => {
    const j = judge(
      'latency',
      samples(latencies(3, 1240, 60)),
      samples(latencies(4, 1310, 50)),
      options,
    );
    expect(j.outcome).toBe('fail');
    expect(j.relative!.estimate).toBeGreaterThan(0.15);
    expect(j.relative!.estimate).toBeLessThan(0.25);
    expect(j.relative!.lower).toBeGreaterThan(0.05);
    expect(j.medianRatio).toBeGreaterThan(1.15);
    expect(j.reason).toMatch(
      /^latency \d+(\.\d)? % higher than the primary \(98 % CI \d+(\.\d)? % to \d+(\.\d)? %, 1,240 vs 1,310 samples\), beyond the 5 % allowed$/,
    );
  });

  it('judges only the direction asked for', () => {
    const slower = samples(latencies(5, 200, 60));
    const faster = samples(latencies(6, 200, 40));
    const primary = samples(latencies(7, 200, 50));
    const outcome = (c: SideSamples, direction: 'increase' | 'decrease' | 'either') =>
      judge('m', c, primary, { ...options, direction }).outcome;
    expect(outcome(slower, 'increase')).toBe('fail');
    expect(outcome(faster, 'increase')).toBe('pass');
    expect(outcome(slower, 'decrease')).toBe('pass');
    expect(outcome(faster, 'decrease')).toBe('fail');
    expect(outcome(slower, 'either')).toBe('fail');
    expect(outcome(faster, 'either')).toBe('fail');
  });

  it('lets a shift within the tolerance pass even when it is certain', () => {
    const primary = Array.from({ length: 50 }, () => 100);
    const canary = Array.from({ length: 50 }, () => 104);
    const j = judge('latency', samples(canary), samples(primary), options);
    expect(j.outcome).toBe('pass');
    expect(j.reason).toBe(
      'latency 4 % higher than the primary (98 % CI 4 % to 4 %, 50 vs 50 samples)',
    );
  });

  it('needs no noise for constant samples: equal constants pass, different ones are judged, always alike', () => {
    const ten = (v: number) => samples(Array.from({ length: 10 }, () => v));
    expect(judge('m', ten(7), ten(7), options)).toMatchObject({
      outcome: 'pass',
      reason: 'm no different from the primary (98 % CI 0 % to 0 %, 10 vs 10 samples)',
    });
    const first = judge('latency', ten(123), ten(100), options);
    expect(first).toEqual(judge('latency', ten(123), ten(100), options));
    expect(first.reason).toBe(
      'latency 23 % higher than the primary (98 % CI 23 % to 23 %, 10 vs 10 samples), beyond the 5 % allowed',
    );
  });

  it('is inconclusive, never a pass, without data, with a failed query or with too few samples', () => {
    const some = samples(latencies(8, 40, 50));
    expect(
      judge('latency', { kind: 'no-data', reason: 'the query returned no series' }, some, options),
    ).toMatchObject({
      outcome: 'inconclusive',
      reason: 'latency: no data for the canary: the query returned no series',
    });
    expect(judge('latency', some, { kind: 'error', reason: 'HTTP 503' }, options)).toMatchObject({
      outcome: 'inconclusive',
      reason: "latency: the primary's query failed: HTTP 503",
    });
    expect(judge('latency', samples(latencies(9, 4, 50)), some, options)).toMatchObject({
      outcome: 'inconclusive',
      reason: 'latency: too few samples (4 vs 40 samples; needs 10 a side)',
      canarySamples: 4,
      primarySamples: 40,
    });
  });

  it('drops NaN and infinities and counts them, instead of reading them as 0', () => {
    const withHoles = [...latencies(10, 30, 50), NaN, Infinity, NaN];
    const j = judge('latency', samples(withHoles), samples(latencies(11, 30, 50)), options);
    expect(j).toMatchObject({ canarySamples: 30, primarySamples: 30, dropped: 3 });
    expect(j.outcome).toBe('pass');
    expect(
      judge('latency', samples([NaN, NaN]), samples(latencies(12, 30, 50)), options),
    ).toMatchObject({
      outcome: 'inconclusive',
      reason: 'latency: no data for the canary (2 NaN or infinite values dropped)',
    });
  });

  it('reads any rise from a primary at zero as unbounded', () => {
    const zeros = samples(Array.from({ length: 20 }, () => 0));
    const errors = samples(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 0.02 : 0.03)));
    const j = judge('error rate', errors, zeros, options);
    expect(j.outcome).toBe('fail');
    expect(j.relative!.lower).toBe(Infinity);
    expect(j.reason).toMatch(/^error rate \+∞ % higher than the primary/);
    expect(judge('error rate', zeros, zeros, options).outcome).toBe('pass');
  });

  it('refuses a confidence outside (0, 1)', () => {
    const s = samples([1, 2, 3]);
    expect(() => judge('m', s, s, { ...options, confidence: 1 })).toThrow(
      'judge: confidence must be strictly between 0 and 1, got 1',
    );
  });
});
