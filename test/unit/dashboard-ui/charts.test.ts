import { describe, expect, it } from 'vitest';
import type { MetricPoint, TransitionView } from '../../../src/dashboard/model.js';
import {
  chartBox,
  linearScale,
  markerPath,
  metricChart,
  niceDomain,
  niceTicks,
  stepPoints,
  weightChart,
} from '../../../src/dashboard/ui/geometry.js';
import {
  boundText,
  checkCount,
  metricSeries,
  metricSummary,
  valueText,
  weightSamples,
  weightSummary,
} from '../../../src/dashboard/ui/series.js';

const t0 = Date.parse('2026-12-04T10:10:00Z');
const time = (s: number) => new Date(t0 + s * 1000).toISOString();
const transition = (s: number, over: Partial<TransitionView> = {}): TransitionView => ({
  time: time(s),
  to: 'Progressing',
  event: 'checks',
  metrics: [],
  webhooks: [],
  ...over,
});
const metric = (name: string, over: Partial<MetricPoint> = {}): MetricPoint => ({
  name,
  passed: true,
  ...over,
});

/** The demo's third release: two checks pass, the third fails one bounded metric. */
const release: TransitionView[] = [
  transition(0, { from: 'Succeeded', event: 'new-revision', weight: 0 }),
  transition(10, { event: 'step', weight: 25 }),
  transition(20, {
    metrics: [
      metric('success-rate', { value: 99.5, min: 99 }),
      metric('latency', { value: 120, max: 250 }),
    ],
  }),
  transition(30, { event: 'step', weight: 50 }),
  transition(40, { event: 'no-weight' }),
  transition(50, {
    metrics: [
      metric('success-rate', { value: 71.32, min: 99, passed: false }),
      metric('latency', { value: 130, max: 250 }),
    ],
  }),
  transition(60, {
    metrics: [metric('success-rate', { min: 99, passed: false, message: 'no values found' })],
  }),
];

describe('scales and ticks', () => {
  it('maps a domain onto a range, flipped for y', () => {
    const y = linearScale([0, 100], [180, 10]);
    expect(y(0)).toBe(180);
    expect(y(100)).toBe(10);
    expect(y(50)).toBe(95);
    expect(linearScale([5, 5], [0, 10])(5)).toBe(5);
  });

  it('widens a domain to round steps that hold every finite value', () => {
    expect(niceDomain([71.32, 99.5, 99])).toEqual([70, 100]);
    expect(niceDomain([0.013, 0.021])).toEqual([0.012, 0.022]);
    expect(niceDomain([NaN, Infinity])).toEqual([0, 1]);
    const [lo, hi] = niceDomain([42]);
    expect(lo).toBeLessThan(42);
    expect(hi).toBeGreaterThan(42);
    expect(niceDomain([0])).toEqual([-1, 1]);
  });

  it('puts ticks on round values without float noise', () => {
    expect(niceTicks(70, 100)).toEqual([70, 80, 90, 100]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    expect(niceTicks(5, 5)).toEqual([5]);
  });
});

describe('the weight chart', () => {
  const samples = weightSamples(release);

  it('carries the weight forward through transitions that name none', () => {
    expect(samples.map((s) => s.weight)).toEqual([0, 25, 25, 50, 50, 50, 50]);
  });

  it('draws a step line: each weight holds until the next, the last until the end', () => {
    const points = stepPoints(
      [
        { at: 0, value: 0 },
        { at: 10, value: 25 },
        { at: 30, value: 50 },
      ],
      45,
    );
    expect(points).toEqual([
      [0, 0],
      [10, 0],
      [10, 25],
      [30, 25],
      [30, 50],
      [45, 50],
    ]);
    expect(stepPoints([], 10)).toEqual([]);
  });

  it('spans the first transition to the end on 0–100 %', () => {
    const chart = weightChart(samples, t0 + 120_000, 'UTC')!;
    const [left, right] = [chartBox.left, chartBox.width - chartBox.right];
    const bottom = chartBox.height - chartBox.bottom;
    expect(chart.path.startsWith(`M${left} ${bottom}`)).toBe(true);
    expect(chart.path.endsWith(`L${right} ${(bottom + chartBox.top) / 2}`)).toBe(true);
    expect(chart.path).not.toMatch(/NaN/);
    expect(chart.xTicks.map((t) => t.label)).toEqual(['10:10:00', '10:11:00', '10:12:00']);
    expect(chart.yTicks.map((t) => t.label)).toEqual(['0 %', '25 %', '50 %', '75 %', '100 %']);
    expect(weightChart([], 0)).toBeUndefined();
  });

  it('says what it shows in words', () => {
    expect(weightSummary(samples, 'UTC')).toBe(
      'Canary weight over time, 7 transitions from 10:10:00 to 10:11:00: starts at 0 %, highest 50 %, last 50 %',
    );
  });
});

describe('the metric charts', () => {
  const series = metricSeries(release);
  const [success, latency] = series;

  it('numbers the checks of a release and gives each metric its samples', () => {
    expect(checkCount(release)).toBe(3);
    expect(series.map((s) => s.name)).toEqual(['success-rate', 'latency']);
    expect(success!.samples.map((s) => s.check)).toEqual([1, 2, 3]);
    expect(latency!.samples.map((s) => s.check)).toEqual([1, 2]);
  });

  it('marks failed checks with a cross, passed with a circle, and puts no-data on the edge', () => {
    const chart = metricChart(success!, 3);
    expect(chart.markers.map((m) => m.outcome)).toEqual(['passed', 'failed', 'failed']);
    expect(chart.markers[1]!.d).toMatch(/^M[\d.]+ [\d.]+ L[\d.]+ [\d.]+ M/);
    expect(chart.markers[0]!.d).toContain(' a5 5 ');
    expect(chart.markers[2]).toMatchObject({ noData: true, y: chartBox.height - chartBox.bottom });
  });

  it('draws the bound across each check as a step line', () => {
    const chart = metricChart(success!, 3);
    expect(chart.lines.map((l) => l.kind)).toEqual(['min']);
    // One run over the three checks: one move, then a horizontal line per check.
    expect(chart.lines[0]!.d.match(/M/g)).toHaveLength(1);
    expect(chart.lines[0]!.d.match(/H/g)).toHaveLength(3);
    // The domain is 70–100 (the values and the bound, rounded): the line starts at the left edge, at 99.
    const y99 = linearScale([70, 100], [chartBox.height - chartBox.bottom, chartBox.top])(99);
    expect(chart.lines[0]!.d.startsWith(`M${chartBox.left} ${Math.round(y99 * 10) / 10} `)).toBe(
      true,
    );
    expect(chart.bands).toEqual([]);
  });

  it('breaks a bound line where a check did not measure the metric', () => {
    const gappy = metricSeries([
      transition(0, { metrics: [metric('m', { value: 1, max: 5 })] }),
      transition(1, { metrics: [metric('other', { value: 1 })] }),
      transition(2, { metrics: [metric('m', { value: 2, max: 5 })] }),
    ]).find((s) => s.name === 'm')!;
    expect(metricChart(gappy, 3).lines[0]!.d.match(/M/g)).toHaveLength(2);
  });

  it("draws a judged metric's interval as a band, its tolerance either side of zero", () => {
    const judged = metricSeries([
      transition(0, {
        metrics: [
          metric('p99', { judge: { estimate: 0.02, lower: -0.01, upper: 0.04, tolerance: 0.05 } }),
        ],
      }),
      transition(1, {
        metrics: [
          metric('p99', {
            passed: false,
            judge: { estimate: 0.23, lower: 0.18, upper: 0.29, tolerance: 0.05 },
          }),
        ],
      }),
      transition(2, { metrics: [metric('p99', { passed: false, inconclusive: true, judge: {} })] }),
    ])[0]!;
    expect(judged.judged).toBe(true);
    const chart = metricChart(judged, 3);
    expect(chart.bands).toHaveLength(1);
    // Four corners per check in the run (two checks): eight points.
    expect(chart.bands[0]!.split(' ')).toHaveLength(8);
    expect(chart.lines.map((l) => l.kind)).toEqual(['tolerance', 'tolerance']);
    expect(chart.zero).toBeDefined();
    expect(chart.markers.map((m) => m.outcome)).toEqual(['passed', 'failed', 'inconclusive']);
    expect(chart.markers[2]!.noData).toBe(true);
    expect(chart.yTicks.map((t) => t.label)).toContain('0 %');
    expect(valueText(judged.samples[1]!.point, true)).toBe('+23 %');
    expect(boundText(judged.samples[1]!.point, true)).toBe(
      'interval +18 % to +29 %, tolerance ±5 %',
    );
  });

  it('writes bounds and values in words, for the tables and the summary', () => {
    expect(boundText(metric('m', { min: 99 }), false)).toBe('min 99');
    expect(boundText(metric('m', { max: 250 }), false)).toBe('max 250');
    expect(boundText(metric('m', { min: 1, max: 2 }), false)).toBe('1 to 2');
    expect(boundText(metric('m'), false)).toBe('no bound');
    expect(valueText(metric('m'), false)).toBe('no data');
    expect(metricSummary(success!)).toBe(
      'success-rate over 3 checks: 1 passed, 2 failed, 0 inconclusive; last value no data (min 99)',
    );
  });

  it('keeps every coordinate a number, even for odd data', () => {
    const odd = metricSeries([
      transition(0, { metrics: [metric('m', { value: null as unknown as number, min: 3 })] }),
      transition(1, { metrics: [metric('m', { value: 3, min: 3, max: 3 })] }),
    ])[0]!;
    const chart = metricChart(odd, 0);
    const text = JSON.stringify(chart);
    expect(text).not.toMatch(/NaN|Infinity|null/);
  });

  it('draws three distinct marker shapes', () => {
    const shapes = (['passed', 'failed', 'inconclusive'] as const).map((o) =>
      markerPath(o, 10, 10),
    );
    expect(new Set(shapes).size).toBe(3);
  });
});
