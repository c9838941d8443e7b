/**
 * The charts' geometry, in the SVG's own units (its viewBox): scales, ticks, the weight's
 * step line, and each metric's points, bound lines and interval band. Pure: charts.ts
 * only creates the elements these describe.
 */
import type { MetricSeries, Outcome, WeightSample } from './series.js';
import { outcomeOf, plotted } from './series.js';
import { formatClock, formatNumber, formatRelative } from './format.js';

/** A chart's size and the margins around its plot area. */
export interface Box {
  width: number;
  height: number;
  top: number;
  right: number;
  bottom: number;
  left: number;
}

export const chartBox: Box = { width: 640, height: 190, top: 10, right: 16, bottom: 34, left: 60 };

/** One tick of an axis: where, and its label. */
export interface Tick {
  at: number;
  label: string;
}

/** A linear map from `domain` to `range`; a domain of no width maps to the range's middle. */
export function linearScale(
  [d0, d1]: readonly [number, number],
  [r0, r1]: readonly [number, number],
): (v: number) => number {
  const span = d1 - d0;
  return (v) => (span === 0 ? (r0 + r1) / 2 : r0 + ((v - d0) / span) * (r1 - r0));
}

/** A round step (1, 2 or 5 times a power of ten) that cuts `span` into about `count` parts. */
export function niceStep(span: number, count: number): number {
  const raw = span / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  // Rounded, so that float noise (0.021 - 0.013 = 0.008000000000000002) picks no bigger step.
  const f = Number((raw / magnitude).toPrecision(12));
  return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * magnitude;
}

const tidy = (v: number) => Number(v.toPrecision(12));

/**
 * A domain that holds every finite value, widened to round steps so that ticks fall on
 * its ends. No value gives [0, 1]; a single value gets room on both sides.
 */
export function niceDomain(values: readonly number[], count = 4): [number, number] {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return [0, 1];
  let lo = Math.min(...finite);
  let hi = Math.max(...finite);
  if (lo === hi) {
    const room = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= room;
    hi += room;
  }
  const step = niceStep(hi - lo, count);
  return [tidy(Math.floor(lo / step) * step), tidy(Math.ceil(hi / step) * step)];
}

/** Round values from `lo` to `hi`, about `count` steps apart. */
export function niceTicks(lo: number, hi: number, count = 4): number[] {
  if (!(hi > lo)) return [lo];
  const step = niceStep(hi - lo, count);
  const ticks: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) ticks.push(tidy(v));
  return ticks;
}

const round = (v: number) => Math.round(v * 10) / 10;

/** The vertices of a step line: each value holds until the next sample, the last until `end`. */
export function stepPoints(
  samples: readonly { at: number; value: number }[],
  end: number,
): [number, number][] {
  const points: [number, number][] = [];
  samples.forEach((s, i) => {
    if (i > 0) points.push([s.at, samples[i - 1]!.value]);
    points.push([s.at, s.value]);
  });
  const last = samples.at(-1);
  if (last && end > last.at) points.push([end, last.value]);
  return points;
}

/** An SVG path through `points` (one `M`, then `L`s). */
export const linePath = (points: readonly [number, number][]): string =>
  points.map(([x, y], i) => `${i === 0 ? 'M' : 'L'}${round(x)} ${round(y)}`).join(' ');

/** The weight chart: its step line, its points, and the ticks of both axes. */
export interface WeightChart {
  box: Box;
  path: string;
  points: { x: number; y: number }[];
  xTicks: Tick[];
  yTicks: Tick[];
}

/**
 * The weight over time as a step line from the first transition to `end` (now, or the
 * release's end), on 0–100 %. Undefined without a transition.
 */
export function weightChart(
  samples: readonly WeightSample[],
  end: number,
  timeZone?: string,
  box: Box = chartBox,
): WeightChart | undefined {
  const first = samples[0];
  const last = samples.at(-1);
  if (!first || !last) return undefined;
  const stop = Math.max(end, last.at);
  const x = linearScale([first.at, stop], [box.left, box.width - box.right]);
  const y = linearScale([0, 100], [box.height - box.bottom, box.top]);
  const steps = stepPoints(
    samples.map((s) => ({ at: s.at, value: s.weight })),
    stop,
  );
  const times = stop > first.at ? [first.at, (first.at + stop) / 2, stop] : [first.at];
  return {
    box,
    path: linePath(steps.map(([t, w]) => [x(t), y(w)])),
    points: samples.map((s) => ({ x: round(x(s.at)), y: round(y(s.weight)) })),
    xTicks: times.map((t) => ({
      at: round(x(t)),
      label: formatClock(new Date(t).toISOString(), timeZone),
    })),
    yTicks: [0, 25, 50, 75, 100].map((w) => ({ at: round(y(w)), label: `${w} %` })),
  };
}

/** The path of a point's marker: a circle passed, a cross failed, a diamond inconclusive. */
export function markerPath(outcome: Outcome, x: number, y: number, r = 5): string {
  const [cx, cy] = [round(x), round(y)];
  switch (outcome) {
    case 'passed':
      return `M${cx - r} ${cy} a${r} ${r} 0 1 0 ${2 * r} 0 a${r} ${r} 0 1 0 ${-2 * r} 0 Z`;
    case 'failed':
      return `M${cx - r} ${cy - r} L${cx + r} ${cy + r} M${cx - r} ${cy + r} L${cx + r} ${cy - r}`;
    case 'inconclusive':
      return `M${cx} ${cy - r} L${cx + r} ${cy} L${cx} ${cy + r} L${cx - r} ${cy} Z`;
  }
}

/** One plotted check of a metric. */
export interface Marker {
  x: number;
  y: number;
  outcome: Outcome;
  /** No value to plot: drawn on the bottom edge of the plot. */
  noData: boolean;
  d: string;
}

/** A metric chart: markers, bound lines (step lines per check), interval bands, ticks. */
export interface MetricChart {
  box: Box;
  markers: Marker[];
  lines: { kind: 'min' | 'max' | 'tolerance'; d: string }[];
  bands: string[];
  /** The zero line of a judged metric (no change against the primary). */
  zero?: number;
  xTicks: Tick[];
  yTicks: Tick[];
}

type Level = (s: MetricSeries['samples'][number]) => number | undefined;

/**
 * Runs of samples at consecutive checks for which `level` has a value: a bound line or
 * a band breaks where a check did not measure the metric, or measured it without one.
 */
function runs(series: MetricSeries, ...levels: Level[]) {
  const out: MetricSeries['samples'][] = [];
  let run: MetricSeries['samples'] = [];
  for (const s of series.samples) {
    const ok = levels.every((l) => l(s) !== undefined);
    const next = run.length > 0 && s.check === run.at(-1)!.check + 1;
    if (!ok || !next) {
      if (run.length > 0) out.push(run);
      run = [];
    }
    if (ok) run.push(s);
  }
  if (run.length > 0) out.push(run);
  return out;
}

const finiteOr = (v: number | undefined) =>
  typeof v === 'number' && Number.isFinite(v) ? v : undefined;

/**
 * A metric's chart over `checks` checks (all charts of a release share the x axis). Each
 * check is a slot; a bound is drawn across its slot, so a bound that changes shows as a
 * step. A judged metric plots the estimate with its interval as a band, the tolerance as
 * lines either side of zero; any other plots its value against its min and max lines.
 */
export function metricChart(
  series: MetricSeries,
  checks: number,
  box: Box = chartBox,
): MetricChart {
  const { judged } = series;
  const value: Level = (s) => plotted(s.point, judged);
  const lower: Level = (s) => finiteOr(s.point.judge?.lower);
  const upper: Level = (s) => finiteOr(s.point.judge?.upper);
  const tolerance: Level = (s) => finiteOr(s.point.judge?.tolerance);
  const min: Level = (s) => finiteOr(s.point.min);
  const max: Level = (s) => finiteOr(s.point.max);
  const levels = judged
    ? [value, lower, upper, tolerance, (s: MetricSeries['samples'][number]) => -(tolerance(s) ?? 0)]
    : [value, min, max];
  const all = series.samples.flatMap((s) => levels.map((l) => l(s) ?? NaN));
  const domain = niceDomain(judged ? [...all, 0] : all);
  const n = Math.max(1, checks, ...series.samples.map((s) => s.check));
  const x = linearScale([0.5, n + 0.5], [box.left, box.width - box.right]);
  const y = linearScale(domain, [box.height - box.bottom, box.top]);
  const half = (x(2) - x(1)) / 2;
  const bottom = box.height - box.bottom;

  const stepLine = (level: Level, sign = 1) =>
    runs(series, level)
      .map((run) =>
        run
          .map((s, i) => {
            const [x0, x1, yy] = [x(s.check) - half, x(s.check) + half, y(sign * level(s)!)];
            return `${i === 0 ? `M${round(x0)} ${round(yy)}` : `V${round(yy)}`} H${round(x1)}`;
          })
          .join(' '),
      )
      .join(' ');
  const lines: MetricChart['lines'] = [];
  const add = (kind: MetricChart['lines'][number]['kind'], d: string) =>
    d && lines.push({ kind, d });
  if (judged) {
    add('tolerance', stepLine(tolerance));
    add('tolerance', stepLine(tolerance, -1));
  } else {
    add('min', stepLine(min));
    add('max', stepLine(max));
  }
  const bands = judged
    ? runs(series, lower, upper).map((run) => {
        const top = run.flatMap((s) => [
          [x(s.check) - half, y(upper(s)!)],
          [x(s.check) + half, y(upper(s)!)],
        ]);
        const base = run
          .flatMap((s) => [
            [x(s.check) - half, y(lower(s)!)],
            [x(s.check) + half, y(lower(s)!)],
          ])
          .reverse();
        return [...top, ...base].map(([px, py]) => `${round(px!)},${round(py!)}`).join(' ');
      })
    : [];
  const markers = series.samples.map((s) => {
    const v = value(s);
    const [mx, my] = [x(s.check), v === undefined ? bottom : y(v)];
    const outcome = outcomeOf(s.point);
    return {
      x: round(mx),
      y: round(my),
      outcome,
      noData: v === undefined,
      d: markerPath(outcome, mx, my),
    };
  });
  const checkTicks = n <= 12 ? Array.from({ length: n }, (_, i) => i + 1) : niceTicks(1, n, 6);
  return {
    box,
    markers,
    lines,
    bands,
    ...(judged ? { zero: round(y(0)) } : {}),
    xTicks: checkTicks.map((c) => ({ at: round(x(c)), label: String(c) })),
    yTicks: niceTicks(domain[0], domain[1]).map((v) => ({
      at: round(y(v)),
      label: judged ? formatRelative(v) : formatNumber(v),
    })),
  };
}
