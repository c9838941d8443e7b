import { describe, expect, it } from 'vitest';
import {
  parseDuration,
  percentile,
  slopePerHour,
  stepLateness,
  summarize,
} from '../../../bench/scale/stats.js';
import { releaseView } from '../../../bench/scale/releases.js';

describe('percentile (nearest rank)', () => {
  it('picks the smallest value with at least q of the sample at or below it', () => {
    const values = Array.from({ length: 100 }, (_, i) => 100 - i); // 100 … 1, unsorted
    expect(percentile(values, 0.5)).toBe(50);
    expect(percentile(values, 0.99)).toBe(99);
    expect(percentile(values, 1)).toBe(100);
    expect(percentile(values, 0)).toBe(1);
  });

  it('is the value itself for one sample and NaN for none', () => {
    expect(percentile([7], 0.99)).toBe(7);
    expect(percentile([], 0.5)).toBeNaN();
  });

  it('summarizes count, p50, p99 and max', () => {
    expect(summarize([3, 1, 2, 10])).toEqual({ count: 4, p50: 2, p99: 10, max: 10 });
    expect(summarize([])).toMatchObject({ count: 0, p50: NaN });
  });
});

describe('stepLateness', () => {
  const at = (s: number) => 1_000_000 + s * 1000;

  it('is the time between two steps up minus the interval', () => {
    const changes = [
      { at: at(0), weight: 10 },
      { at: at(10.2), weight: 20 },
      { at: at(19.9), weight: 30 },
    ];
    expect(stepLateness(changes, 10_000)).toEqual([200, -300]);
  });

  it('leaves out the first move from 0 and the return to 0 at promotion', () => {
    const changes = [
      { at: at(0), weight: 0 },
      { at: at(3), weight: 10 },
      { at: at(13), weight: 20 },
      { at: at(40), weight: 0 },
    ];
    expect(stepLateness(changes, 10_000)).toEqual([0]);
  });
});

describe('releaseView', () => {
  const timeline = {
    phases: [
      { at: 100, phase: 'Initialized' },
      { at: 1_300, phase: 'Progressing' },
      { at: 52_000, phase: 'Succeeded' },
    ],
    weights: [
      { at: 50, weight: 0 },
      { at: 11_000, weight: 10 },
      { at: 21_500, weight: 20 },
      { at: 51_000, weight: 0 },
    ],
  };

  it('measures detection from the update and lateness within the release', () => {
    expect(releaseView(timeline, 1_000, 10_000)).toEqual({
      detectionMs: 300,
      endedAt: 52_000,
      result: 'Succeeded',
      latenessMs: [500],
      weightChanges: 3,
      phase: 'Succeeded',
    });
  });

  it('has no result while the release has not ended', () => {
    const view = releaseView(timeline, 1_000, 10_000, 30_000);
    expect(view.result).toBeUndefined();
    expect(view.phase).toBe('Progressing');
  });

  it('ends a release at a Succeeded seen in the same millisecond as the next update (soak)', () => {
    expect(releaseView(timeline, 1_000, 10_000, 52_000).result).toBe('Succeeded');
  });

  it('does not take an earlier Succeeded for the end of this release', () => {
    const view = releaseView(timeline, 60_000, 10_000);
    expect(view).toMatchObject({ latenessMs: [], weightChanges: 0 });
    expect(view.detectionMs).toBeUndefined();
  });
});

describe('slopePerHour', () => {
  it('is the least-squares slope in units per hour', () => {
    const start = Date.parse('2026-01-01T00:00:00Z');
    // 100 MiB growing 12 MiB/hour, sampled every 10 s for 30 minutes, with a little noise.
    const samples = Array.from({ length: 181 }, (_, i) => ({
      at: start + i * 10_000,
      value: 100 + (12 * i * 10) / 3600 + (i % 2 === 0 ? 0.5 : -0.5),
    }));
    expect(slopePerHour(samples)).toBeCloseTo(12, 1);
  });

  it('is 0 for a flat line, one sample, or samples at one moment', () => {
    expect(slopePerHour([1, 2, 3].map((i) => ({ at: i * 1000, value: 5 })))).toBe(0);
    expect(slopePerHour([{ at: 0, value: 5 }])).toBe(0);
    expect(
      slopePerHour([
        { at: 0, value: 5 },
        { at: 0, value: 6 },
      ]),
    ).toBe(0);
  });
});

describe('parseDuration', () => {
  it('reads s, m, h and ms and their sums', () => {
    expect(parseDuration('30m')).toBe(1_800_000);
    expect(parseDuration('1h30m')).toBe(5_400_000);
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('500ms')).toBe(500);
  });

  it('names a bad value', () => {
    expect(() => parseDuration('30')).toThrow('"30" is not a duration');
    expect(() => parseDuration('5x')).toThrow('"5x"');
  });
});
