import { describe, expect, it } from 'vitest';
import {
  assessMetric,
  formatValue,
  type MetricJudgement,
} from '../../../src/analysis/assess-metric.js';

const value = (v: number) => ({ kind: 'value' as const, value: v });
const base = (over: Partial<MetricJudgement>): MetricJudgement => ({
  name: 'request-success-rate',
  unit: '%',
  bounds: { min: 99 },
  canary: value(100),
  ...over,
});

describe('assessMetric', () => {
  it.each<[string, Partial<MetricJudgement>, boolean, string | undefined]>([
    ['a value inside the bounds passes', {}, true, undefined],
    ['a value on the bound passes', { canary: value(99) }, true, undefined],
    [
      'a value below min fails naming value and bound',
      { canary: value(93.1234) },
      false,
      'request-success-rate 93.12% < 99%',
    ],
    [
      'a value above max fails',
      { name: 'request-duration', unit: 'ms', bounds: { max: 500 }, canary: value(512) },
      false,
      'request-duration 512ms > 500ms',
    ],
    [
      'no data fails with its own message',
      { canary: { kind: 'no-data', reason: 'the query returned no series' } },
      false,
      'request-success-rate: no data (the query returned no series): is the canary receiving traffic?',
    ],
    [
      'NaN fails',
      { canary: value(NaN) },
      false,
      'request-success-rate: the query returned NaN (no requests in the window?): is the canary receiving traffic?',
    ],
    [
      'an error fails with the reason',
      { canary: { kind: 'error', reason: 'Prometheus answered HTTP 500' } },
      false,
      'request-success-rate: Prometheus answered HTTP 500',
    ],
    [
      '+Inf above a max fails',
      { name: 'request-duration', unit: 'ms', bounds: { max: 500 }, canary: value(Infinity) },
      false,
      'request-duration +Infms > 500ms',
    ],
    ['no bounds: any value passes', { bounds: {}, canary: value(1) }, true, undefined],
  ])('%s', (_name, over, passed, message) => {
    const a = assessMetric(base(over));
    expect(a.passed).toBe(passed);
    expect(a.message).toBe(message);
  });

  describe('compared with the primary', () => {
    const latency = (canary: number, primary: number, bounds = { maxRatio: 1.2 }) =>
      assessMetric({
        name: 'request-duration',
        unit: 'ms',
        bounds: { max: 1000 },
        canary: value(canary),
        compare: { bounds, primary: value(primary) },
      });

    it('passes within the ratio and records both values and the effective bound', () => {
      expect(latency(110, 100)).toEqual({
        name: 'request-duration',
        value: 110,
        primaryValue: 100,
        max: 120,
        passed: true,
      });
    });

    it('fails beyond the ratio and says how the bound was derived', () => {
      expect(latency(130, 100).message).toBe(
        'request-duration 130ms > 120ms (1.2 × primary 100ms)',
      );
    });

    it('the fixed bound still applies when it is tighter', () => {
      expect(latency(1100, 1000).message).toBe('request-duration 1100ms > 1000ms');
    });

    it('a delta below the primary bounds the success rate', () => {
      const a = assessMetric(
        base({
          canary: value(98.2),
          bounds: { min: 90 },
          compare: { bounds: { minDelta: -1 }, primary: value(99.5) },
        }),
      );
      expect(a.message).toBe('request-success-rate 98.2% < 98.5% (primary 99.5% − 1)');
    });

    it('an error rate may be at most a point above the primary', () => {
      const a = assessMetric({
        name: 'error-rate',
        unit: '',
        bounds: {},
        canary: value(2.5),
        compare: { bounds: { maxDelta: 1 }, primary: value(1) },
      });
      expect(a.passed).toBe(false);
      expect(a.message).toBe('error-rate 2.5 > 2 (primary 1 + 1)');
    });

    it('a primary without data fails the check rather than passing it', () => {
      const a = assessMetric(
        base({
          compare: {
            bounds: { minDelta: -1 },
            primary: { kind: 'no-data', reason: 'the query returned no series' },
          },
        }),
      );
      expect(a).toMatchObject({ passed: false, value: 100 });
      expect(a.message).toBe(
        'request-success-rate: cannot compare with the primary: no data (the query returned no series)',
      );
    });
  });

  it('formats values for people', () => {
    expect(formatValue(93.10000001, '%')).toBe('93.1%');
    expect(formatValue(-Infinity, 'ms')).toBe('-Infms');
    expect(formatValue(NaN, 'ms')).toBe('NaN');
  });
});
