/**
 * What a metric provider returns for one query. Providers measure; they never
 * judge: bounds, "no data" and failure counting are decided by pure code
 * (`src/analysis/assess-metric.ts`).
 */
export type Measurement =
  | { kind: 'value'; value: number }
  | { kind: 'no-data'; reason: string }
  | { kind: 'error'; reason: string };

/**
 * What a metric provider returns for one range query: every value of every series
 * over a window, for the statistical judge (`src/analysis/judge.ts`). NaN and
 * infinities are kept: the judge drops and counts them.
 */
export type Samples =
  | { kind: 'samples'; values: readonly number[] }
  | { kind: 'no-data'; reason: string }
  | { kind: 'error'; reason: string };

/**
 * A window of samples: the last `seconds` up to the provider's own "now", one value
 * per series every `stepSeconds`. The provider's clock, not the controller's: the
 * samples are of the world's time, as an instant query's value is.
 */
export interface SampleWindow {
  seconds: number;
  stepSeconds: number;
}
