/**
 * What a metric provider returns for one query. Providers measure; they never
 * judge: bounds, "no data" and failure counting are decided by pure code
 * (`src/analysis/assess-metric.ts`).
 */
export type Measurement =
  | { kind: 'value'; value: number }
  | { kind: 'no-data'; reason: string }
  | { kind: 'error'; reason: string };
