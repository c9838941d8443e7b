import type { Measurement } from '../contracts/measurement.js';
import type { JudgeRecord } from '../contracts/records.js';

/** Fixed bounds (`thresholdRange`). */
export interface Bounds {
  min?: number;
  max?: number;
}

/** Bounds relative to the same query against the primary (`comparePrimary`). */
export interface PrimaryBounds {
  /** canary ≤ primary + maxDelta */
  maxDelta?: number;
  /** canary ≥ primary + minDelta (negative: how far below the primary it may be) */
  minDelta?: number;
  /** canary ≤ primary × maxRatio */
  maxRatio?: number;
  /** canary ≥ primary × minRatio */
  minRatio?: number;
}

/** What is being judged. */
export interface MetricJudgement {
  name: string;
  /** Shown after values: `%`, `ms`, or empty. */
  unit: string;
  bounds: Bounds;
  canary: Measurement;
  compare?: { bounds: PrimaryBounds; primary: Measurement };
}

/** The verdict on one metric at one step: recorded in the CanaryRun and exported as a gauge. */
export interface MetricAssessment {
  name: string;
  value?: number;
  primaryValue?: number;
  /** The effective bounds the value was held to. */
  min?: number;
  max?: number;
  passed: boolean;
  /**
   * Neither passed nor failed: the provider could not answer (an error), or the judge
   * had too few samples. Never a pass; counted against `inconclusiveLimit`.
   */
  inconclusive?: boolean;
  /** Why it failed or was inconclusive, naming the metric, the value and the bound. */
  message?: string;
  /** The statistical judge's samples and estimate, for a metric with `judge`. */
  judge?: JudgeRecord;
}

/** Formats a measured value for a message: at most two decimals, `+Inf`/`NaN` spelled out. */
export function formatValue(value: number, unit: string): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return `${value > 0 ? '+' : '-'}Inf${unit}`;
  return `${Number(value.toFixed(2))}${unit}`;
}

/**
 * Judges one metric. Pure. A value outside its bounds, no data, NaN, or a primary
 * without data for a relative bound are failures; a provider that could not answer
 * (for the canary or the primary) makes the check inconclusive, which is never a
 * pass either (ADR 0017): Weir never promotes on missing data.
 */
export function assessMetric(j: MetricJudgement): MetricAssessment {
  const { name, unit } = j;
  const fail = (message: string, extra: Partial<MetricAssessment> = {}): MetricAssessment => ({
    name,
    ...extra,
    passed: false,
    message,
  });
  const unanswered = (message: string, extra: Partial<MetricAssessment> = {}) => ({
    ...fail(message, extra),
    inconclusive: true,
  });
  if (j.canary.kind === 'no-data')
    return fail(`${name}: no data (${j.canary.reason}): is the canary receiving traffic?`);
  if (j.canary.kind === 'error') return unanswered(`${name}: ${j.canary.reason}`);
  const value = j.canary.value;
  if (Number.isNaN(value))
    return fail(
      `${name}: the query returned NaN (no requests in the window?): is the canary receiving traffic?`,
    );

  let { min, max } = j.bounds;
  let minNote = '';
  let maxNote = '';
  let primaryValue: number | undefined;
  if (j.compare) {
    const p = j.compare.primary;
    if (p.kind === 'error')
      return unanswered(`${name}: cannot compare with the primary: ${p.reason}`, { value });
    if (p.kind !== 'value' || Number.isNaN(p.value)) {
      const why = p.kind === 'value' ? 'NaN' : `no data (${p.reason})`;
      return fail(`${name}: cannot compare with the primary: ${why}`, { value });
    }
    primaryValue = p.value;
    const b = j.compare.bounds;
    const pv = formatValue(primaryValue, unit);
    const tighterMax = (bound: number, note: string) => {
      if (max === undefined || bound < max) [max, maxNote] = [bound, note];
    };
    const tighterMin = (bound: number, note: string) => {
      if (min === undefined || bound > min) [min, minNote] = [bound, note];
    };
    if (b.maxDelta !== undefined)
      tighterMax(primaryValue + b.maxDelta, ` (primary ${pv} + ${b.maxDelta})`);
    if (b.maxRatio !== undefined)
      tighterMax(primaryValue * b.maxRatio, ` (${b.maxRatio} × primary ${pv})`);
    if (b.minDelta !== undefined)
      tighterMin(
        primaryValue + b.minDelta,
        ` (primary ${pv} ${b.minDelta < 0 ? '−' : '+'} ${Math.abs(b.minDelta)})`,
      );
    if (b.minRatio !== undefined)
      tighterMin(primaryValue * b.minRatio, ` (${b.minRatio} × primary ${pv})`);
  }
  const result = {
    value,
    ...(primaryValue !== undefined ? { primaryValue } : {}),
    ...(min !== undefined && Number.isFinite(min) ? { min } : {}),
    ...(max !== undefined && Number.isFinite(max) ? { max } : {}),
  };
  const shown = formatValue(value, unit);
  if (min !== undefined && !(value >= min))
    return fail(`${name} ${shown} < ${formatValue(min, unit)}${minNote}`, result);
  if (max !== undefined && !(value <= max))
    return fail(`${name} ${shown} > ${formatValue(max, unit)}${maxNote}`, result);
  return { name, ...result, passed: true };
}
