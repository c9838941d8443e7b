import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';

/** Credentials read from the Secret a MetricTemplate names; never logged. */
export type ProviderAuth = { bearer: string } | { username: string; password: string };

/** Everything needed to reach one provider, resolved from a MetricTemplate (or the controller's defaults). */
export interface ProviderConfig {
  type: string;
  address: string;
  headers: Record<string, string>;
  auth?: ProviderAuth;
  insecureSkipVerify: boolean;
  /** Timeout of one query; providers clamp it to at most 5 min. */
  timeoutMs: number;
  /** A vendor's settings from the Secret that are not headers (New Relic's account id). */
  settings?: Record<string, string>;
}

/** The window a point query covers: the metric's `interval`, ending now. */
export interface MeasureWindow {
  seconds: number;
}

/** One metric backend (Prometheus, Datadog …), one file each. */
export interface MetricProvider {
  readonly type: string;
  /**
   * Runs one query. Never throws for a failed query: the reason is in the measurement.
   * `window` is for APIs that take a time range (Datadog); PromQL carries it in the query.
   */
  measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement>;
  /**
   * Runs one range query over a window and returns every value, for the judge;
   * absent where the provider has no range queries. Never throws for a failed query.
   */
  samples?(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples>;
  /**
   * Whether the provider answers and accepts the credentials: a problem, or undefined.
   * `timeoutMs` bounds the probe below the query timeout (preflight has its own deadline).
   */
  probe(signal?: AbortSignal, timeoutMs?: number): Promise<string | undefined>;
}

/** Builds a provider from its configuration. */
export type MetricProviderFactory = (config: ProviderConfig) => MetricProvider;

/** Default timeout of one query. */
export const defaultQueryTimeoutMs = 5_000;
