/**
 * What the detail page's charts plot, taken from a release's transitions: the weight over
 * time and each metric per check, with the words that summarise them for people who do
 * not see the chart. Pure; geometry.ts turns these into coordinates.
 */
import type { MetricPoint, TransitionView } from '../model.js';
import { formatClock, formatNumber, formatRelative } from './format.js';

/** The weight from one transition on (a transition without one keeps the last). */
export interface WeightSample {
  /** Epoch ms. */
  at: number;
  time: string;
  weight: number;
  event: string;
}

/**
 * The weight at each transition, in time order. Before the first transition that names
 * a weight the canary has none (0); transitions whose time does not parse are skipped.
 */
export function weightSamples(transitions: readonly TransitionView[]): WeightSample[] {
  let weight = 0;
  const samples: WeightSample[] = [];
  for (const t of transitions) {
    if (typeof t.weight === 'number' && Number.isFinite(t.weight)) weight = t.weight;
    const at = Date.parse(t.time);
    if (!Number.isNaN(at)) samples.push({ at, time: t.time, weight, event: t.event });
  }
  return samples.sort((a, b) => a.at - b.at);
}

/** How one check judged one metric. */
export type Outcome = 'passed' | 'failed' | 'inconclusive';

export const outcomeOf = (p: MetricPoint): Outcome =>
  p.inconclusive ? 'inconclusive' : p.passed ? 'passed' : 'failed';

/** One metric at one check (the `check`-th transition of the release that measured any). */
export interface MetricSample {
  check: number;
  time: string;
  point: MetricPoint;
}

/**
 * One metric over a release. A judged metric is plotted as the judge's estimate (relative
 * to the primary) against its interval and tolerance; any other as its value against its
 * min and max.
 */
export interface MetricSeries {
  name: string;
  judged: boolean;
  samples: MetricSample[];
}

/** The number of checks in a release: transitions that measured at least one metric. */
export const checkCount = (transitions: readonly TransitionView[]): number =>
  transitions.filter((t) => t.metrics.length > 0).length;

/** Each metric's samples over the release, metrics in the order they first appear. */
export function metricSeries(transitions: readonly TransitionView[]): MetricSeries[] {
  const byName = new Map<string, MetricSeries>();
  let check = 0;
  for (const t of transitions) {
    if (t.metrics.length === 0) continue;
    check++;
    for (const point of t.metrics) {
      let series = byName.get(point.name);
      if (!series)
        byName.set(point.name, (series = { name: point.name, judged: false, samples: [] }));
      series.samples.push({ check, time: t.time, point });
      if (point.judge) series.judged = true;
    }
  }
  return [...byName.values()];
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** The value a chart plots for a sample: the judge's estimate, or the measured value. */
export function plotted(point: MetricPoint, judged: boolean): number | undefined {
  const v = judged ? point.judge?.estimate : point.value;
  return finite(v) ? v : undefined;
}

/** A sample's value in words: `71.32`, `+23 %`, or `no data`. */
export function valueText(point: MetricPoint, judged: boolean): string {
  const v = plotted(point, judged);
  if (v === undefined) return 'no data';
  return judged ? formatRelative(v) : formatNumber(v);
}

/** A sample's bound in words: `min 99`, `max 500`, `99 to 500`, or the judge's interval. */
export function boundText(point: MetricPoint, judged: boolean): string {
  const j = point.judge;
  if (judged && j) {
    const interval =
      finite(j.lower) && finite(j.upper)
        ? `interval ${formatRelative(j.lower)} to ${formatRelative(j.upper)}`
        : 'no interval';
    return finite(j.tolerance)
      ? `${interval}, tolerance ${formatRelative(j.tolerance).replace('+', '±')}`
      : interval;
  }
  const { min, max } = point;
  if (finite(min) && finite(max)) return `${formatNumber(min)} to ${formatNumber(max)}`;
  if (finite(min)) return `min ${formatNumber(min)}`;
  if (finite(max)) return `max ${formatNumber(max)}`;
  return 'no bound';
}

/** The weight chart's summary, for its `aria-label`. */
export function weightSummary(samples: readonly WeightSample[], timeZone?: string): string {
  if (samples.length === 0) return 'Canary weight over time: no transition yet';
  const first = samples[0]!;
  const last = samples.at(-1)!;
  const highest = Math.max(...samples.map((s) => s.weight));
  return (
    `Canary weight over time, ${samples.length} transitions from ${formatClock(first.time, timeZone)}` +
    ` to ${formatClock(last.time, timeZone)}: starts at ${first.weight} %, highest ${highest} %,` +
    ` last ${last.weight} %`
  );
}

/** A metric chart's summary, for its `aria-label`. */
export function metricSummary(series: MetricSeries): string {
  const count = (o: Outcome) => series.samples.filter((s) => outcomeOf(s.point) === o).length;
  const last = series.samples.at(-1);
  const what = series.judged ? 'estimate against the primary' : 'value';
  const checks = series.samples.length === 1 ? '1 check' : `${series.samples.length} checks`;
  const tail = last
    ? `; last ${what} ${valueText(last.point, series.judged)} (${boundText(last.point, series.judged)})`
    : '';
  return (
    `${series.name} over ${checks}: ${count('passed')} passed, ${count('failed')} failed, ` +
    `${count('inconclusive')} inconclusive${tail}`
  );
}
