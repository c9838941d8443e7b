import type { MetricCheck } from '../api/canary-schema.js';
import { boundedDurationMs, durationMs } from '../api/durations.js';
import { durationBounds } from '../api/limits.js';
import type { SampleWindow, Samples } from '../contracts/measurement.js';
import { effectSize } from '../stats/effect-size.js';
import { hodgesLehmann } from '../stats/hodges-lehmann.js';
import { sortedMedian } from '../stats/samples.js';

/**
 * The statistical judge of one metric at one step: the canary's samples against
 * the primary's (same query, role swapped, same window). Pure: the samples come
 * from the provider, the verdict goes to the machine.
 *
 * Like Kayenta's NetflixACAJudge it never looks at a p-value: it asks whether the
 * confidence interval of the Hodges-Lehmann shift (canary − primary) lies wholly
 * beyond a tolerance, relative to the primary's median. Unlike it:
 * - no data, a provider error or too few samples is **inconclusive**, never a pass;
 * - NaN and infinities are dropped and counted, not replaced by 0 (a latency of 0
 *   is a fast canary, not a missing one);
 * - constant samples need no random noise: the interval of two constant samples is
 *   their difference, so equal constants pass and different ones are judged by it,
 *   and the same samples always get the same verdict.
 */

/** Which change of the metric counts against the canary. */
export type JudgeDirection = 'increase' | 'decrease' | 'either';

export interface JudgeOptions {
  direction: JudgeDirection;
  /** Confidence of the shift's interval, strictly between 0 and 1 (Kayenta: 0.98). */
  confidence: number;
  /** The relative change allowed, as a fraction of the primary's median (0.05: 5 %). */
  tolerance: number;
  /** Fewest finite samples a side for a verdict. */
  minSamples: number;
}

export const defaultJudgeOptions: JudgeOptions = {
  direction: 'increase',
  confidence: 0.98,
  tolerance: 0.05,
  minSamples: 10,
};

/** The judge's default resolution: a value per series every 5 s. */
export const defaultJudgeStep = '5s';

/** A metric's judge options, with the defaults for what it leaves out. */
export function judgeOptions(j: NonNullable<MetricCheck['judge']>): JudgeOptions {
  return {
    direction: j.direction ?? defaultJudgeOptions.direction,
    confidence: j.confidence ?? defaultJudgeOptions.confidence,
    tolerance: j.tolerance ?? defaultJudgeOptions.tolerance,
    minSamples: j.minSamples ?? defaultJudgeOptions.minSamples,
  };
}

/**
 * The window of a metric with a judge: the metric's interval (default 1m) at the judge's
 * step (default 5s), in whole seconds and within the CRD's bounds (which objects admitted
 * under an older CRD may not respect).
 */
export function judgeWindow(interval: string | undefined, step: string | undefined): SampleWindow {
  const stepMs = boundedDurationMs(step ?? defaultJudgeStep, 5_000, durationBounds.judgeStep);
  const stepSeconds = Math.max(1, Math.round(stepMs / 1000));
  const seconds = Math.max(stepSeconds, Math.round(durationMs(interval ?? '1m', 60_000) / 1000));
  return { seconds, stepSeconds };
}

/** At most how many values a series gives over a window. */
export const valuesPerSeries = (w: SampleWindow) => Math.floor(w.seconds / w.stepSeconds) + 1;

/** What the provider gave for one side. */
export type SideSamples = Samples;

export type JudgeOutcome = 'pass' | 'fail' | 'inconclusive';

export interface Judgement {
  outcome: JudgeOutcome;
  /** Why, in words for people: the estimate and interval, or what was missing. */
  reason: string;
  canarySamples: number;
  primarySamples: number;
  /** Values dropped as NaN or infinite, both sides together. */
  dropped: number;
  /** The shift relative to the primary's median (0.23: 23 % higher), with its interval. */
  relative?: { estimate: number; lower: number; upper: number; confidence: number };
  /** Canary median ÷ primary median. */
  medianRatio?: number;
}

const finite = (values: readonly number[]) => values.filter((v) => Number.isFinite(v));

const percent = (fraction: number) => {
  if (!Number.isFinite(fraction)) return fraction > 0 ? '+∞ %' : '−∞ %';
  const p = Math.round(fraction * 1000) / 10;
  return `${p.toLocaleString('en-US')} %`;
};
const count = (n: number) => n.toLocaleString('en-US');

/** A shift relative to the primary's median; ±Infinity (or 0) when that median is 0. */
const relativeTo = (base: number) => (shift: number) =>
  base !== 0 ? shift / Math.abs(base) : shift === 0 ? 0 : shift > 0 ? Infinity : -Infinity;

/** Judges one metric of one step. */
export function judge(
  metric: string,
  canary: SideSamples,
  primary: SideSamples,
  options: JudgeOptions,
): Judgement {
  if (!(options.confidence > 0 && options.confidence < 1))
    throw new RangeError(
      `judge: confidence must be strictly between 0 and 1, got ${options.confidence}`,
    );
  const empty = { canarySamples: 0, primarySamples: 0, dropped: 0 };
  for (const [side, s] of [
    ['canary', canary],
    ['primary', primary],
  ] as const) {
    if (s.kind === 'error')
      return {
        outcome: 'inconclusive',
        reason: `${metric}: the ${side}'s query failed: ${s.reason}`,
        ...empty,
      };
  }
  const c = canary.kind === 'samples' ? finite(canary.values) : [];
  const p = primary.kind === 'samples' ? finite(primary.values) : [];
  const dropped =
    (canary.kind === 'samples' ? canary.values.length - c.length : 0) +
    (primary.kind === 'samples' ? primary.values.length - p.length : 0);
  const sizes = { canarySamples: c.length, primarySamples: p.length, dropped };
  const vs = `${count(c.length)} vs ${count(p.length)} samples`;
  if (c.length === 0 || p.length === 0) {
    const side = c.length === 0 ? 'canary' : 'primary';
    const s = c.length === 0 ? canary : primary;
    const why =
      s.kind === 'no-data'
        ? `: ${s.reason}`
        : dropped > 0
          ? ` (${count(dropped)} NaN or infinite values dropped)`
          : '';
    return {
      outcome: 'inconclusive',
      reason: `${metric}: no data for the ${side}${why}`,
      ...sizes,
    };
  }
  if (c.length < options.minSamples || p.length < options.minSamples)
    return {
      outcome: 'inconclusive',
      reason: `${metric}: too few samples (${vs}; needs ${count(options.minSamples)} a side)`,
      ...sizes,
    };

  const shift = hodgesLehmann(p, c, options.confidence);
  const base = sortedMedian(Float64Array.from(p).sort());
  const rel = relativeTo(base);
  const relative = {
    estimate: rel(shift.estimate),
    lower: rel(shift.lower),
    upper: rel(shift.upper),
    confidence: shift.confidence,
  };
  const medianRatio = effectSize(p, c, 'median-ratio');
  const { direction, tolerance } = options;
  const higher = relative.lower > tolerance;
  const lower = relative.upper < -tolerance;
  const failed = (direction !== 'decrease' && higher) || (direction !== 'increase' && lower);
  const words =
    relative.estimate === 0
      ? 'no different from the primary'
      : `${percent(Math.abs(relative.estimate))} ${relative.estimate > 0 ? 'higher' : 'lower'} than the primary`;
  const interval = `${percent(options.confidence)} CI ${percent(relative.lower)} to ${percent(relative.upper)}`;
  const limit = failed ? `, beyond the ${percent(tolerance)} allowed` : '';
  return {
    outcome: failed ? 'fail' : 'pass',
    reason: `${metric} ${words} (${interval}, ${vs})${limit}`,
    ...sizes,
    relative,
    medianRatio,
  };
}
