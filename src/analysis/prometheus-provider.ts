import { bounded, oneLine } from '../util/text.js';
import {
  type MetricProvider,
  type MetricProviderFactory,
  type ProviderConfig,
} from './metric-provider.js';
import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import {
  defaultMaxSeries,
  ProviderTransport,
  reasonLimit,
  sharedBy,
  type ProviderOptions,
  type Shared,
} from './provider-transport.js';

export {
  defaultMaxMetricsResponseBytes,
  defaultMaxSeries,
  defaultQueryConcurrency,
} from './provider-transport.js';

interface PromResponse {
  status?: string;
  error?: unknown;
  errorType?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** Options of the Prometheus providers a controller builds; see {@link prometheusFactory}. */
export type PrometheusOptions = ProviderOptions;

/**
 * Instant queries against Prometheus's HTTP API (`POST /api/v1/query`, so long
 * queries fit). Every outcome is a measurement: one value, "no data", or an
 * error with the reason — several series, NaN and HTTP failures included.
 *
 * The address may be a Canary author's (`spec.metricsServer`, a MetricTemplate), so every
 * query is bounded: one total deadline (the timeout, at most 5 min) over connect, headers
 * and body; at most `maxResponseBytes` read, uncompressed; no redirects, no environment
 * proxy; the egress policy checked at connect time; a shared cap on queries in flight. Reasons
 * are sanitised and at most 256 characters, because they reach conditions, CanaryRuns and chat.
 */
export class PrometheusProvider implements MetricProvider {
  readonly type = 'prometheus';
  private readonly transport: ProviderTransport;

  constructor(config: ProviderConfig, sharedWith: PrometheusOptions | Shared = {}) {
    const common = 'slots' in sharedWith ? sharedWith : sharedBy(sharedWith);
    this.transport = new ProviderTransport(config, common, 'Prometheus');
  }

  private get where(): string {
    return this.transport.where;
  }

  async measure(query: string, signal?: AbortSignal): Promise<Measurement> {
    const m = await this.query(query, this.transport.timeoutMs, signal);
    return m.kind === 'value' ? m : { ...m, reason: bounded(m.reason, reasonLimit) };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const s = await this.range(query, window, signal);
    return s.kind === 'samples' ? s : { ...s, reason: bounded(s.reason, reasonLimit) };
  }

  async probe(signal?: AbortSignal, timeoutMs?: number): Promise<string | undefined> {
    const m = await this.query(
      'vector(1)',
      Math.min(this.transport.timeoutMs, timeoutMs ?? Infinity),
      signal,
    );
    if (m.kind === 'value' && m.value === 1) return undefined;
    return bounded(
      m.kind === 'value'
        ? `Prometheus at ${this.where} answered vector(1) with ${m.value}`
        : m.reason,
      reasonLimit,
    );
  }

  private async query(
    query: string,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<Measurement> {
    const answer = await this.request('api/v1/query', { query }, timeoutMs, signal);
    if ('kind' in answer) return answer;
    return fromResult(answer.resultType, answer.result, this.transport.shared.maxSeries);
  }

  /**
   * The window as a subquery of an instant query, `(query)[60s:5s]`: Prometheus (and
   * every PromQL store) evaluates it at its own now, so no clock of Weir's is involved.
   */
  private async range(
    query: string,
    window: SampleWindow,
    signal: AbortSignal | undefined,
  ): Promise<Samples> {
    const { seconds, stepSeconds } = window;
    const whole = (n: number) => Number.isInteger(n) && n > 0;
    if (!whole(stepSeconds) || !whole(seconds) || seconds < stepSeconds)
      return {
        kind: 'error',
        reason: `a window of samples needs whole seconds, at least one step long (got ${seconds}s at ${stepSeconds}s steps)`,
      };
    const points = Math.floor(seconds / stepSeconds) + 1;
    if (points > maxSamplesPerSide)
      return {
        kind: 'error',
        reason: `a window of ${points} steps exceeds ${maxSamplesPerSide} samples: lengthen the step`,
      };
    const subquery = `(${query})[${seconds}s:${stepSeconds}s]`;
    const answer = await this.request(
      'api/v1/query',
      { query: subquery },
      this.transport.timeoutMs,
      signal,
    );
    if ('kind' in answer) return answer;
    return fromMatrix(answer.resultType, answer.result);
  }

  /** One POST to the API: the result, or why there is none (never throws). */
  private async request(
    path: string,
    params: Record<string, string>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<{ resultType: unknown; result: unknown } | { kind: 'error'; reason: string }> {
    const answer = await this.transport.send(
      { method: 'POST', path, form: params },
      signal,
      timeoutMs,
    );
    if ('kind' in answer) return answer;
    const body = answer.body as PromResponse & { text?: string };
    if (answer.status < 200 || answer.status >= 300 || body.status !== 'success') {
      const said =
        typeof body.error === 'string'
          ? body.error
          : typeof body.text === 'string'
            ? body.text.slice(0, 200)
            : '';
      const detail = bounded(oneLine(said), 200);
      const errorType =
        typeof body.errorType === 'string' ? ` (${bounded(body.errorType, 32)})` : '';
      return {
        kind: 'error',
        reason: `Prometheus answered HTTP ${answer.status}${errorType}${detail ? `: ${detail}` : ''}`,
      };
    }
    return { resultType: body.data?.resultType, result: body.data?.result };
  }
}

/** One value from an instant-query result, or why there is none. */
export function fromResult(
  resultType: unknown,
  result: unknown,
  maxSeries = defaultMaxSeries,
): Measurement {
  if (resultType === 'scalar' && Array.isArray(result))
    return { kind: 'value', value: sample(result) };
  if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { kind: 'no-data', reason: 'the query returned no series' };
    if (result.length > 1) {
      const count = result.length > maxSeries ? `more than ${maxSeries}` : String(result.length);
      return {
        kind: 'error',
        reason: `the query returned ${count} series; a check needs one: aggregate it (sum, max …) or filter by labels`,
      };
    }
    const only = result[0] as { value?: unknown };
    return { kind: 'value', value: sample(only.value) };
  }
  const kind = typeof resultType === 'string' ? bounded(resultType, 32) : 'malformed';
  return {
    kind: 'error',
    reason: `the query returned a ${kind} result; an instant vector with one series or a scalar is expected`,
  };
}

/** Most values a range query may return, all series together: the judge's input stays bounded. */
export const maxSamplesPerSide = 20_000;

/** Every value of a range-query result (all series pooled), or why there are none. */
export function fromMatrix(resultType: unknown, result: unknown): Samples {
  if (resultType !== 'matrix' || !Array.isArray(result)) {
    const kind = typeof resultType === 'string' ? bounded(resultType, 32) : 'malformed';
    return {
      kind: 'error',
      reason: `the window's query returned a ${kind} result; a matrix is expected`,
    };
  }
  const values: number[] = [];
  for (const series of result as { values?: unknown }[]) {
    const points = Array.isArray(series?.values) ? series.values : [];
    if (values.length + points.length > maxSamplesPerSide)
      return {
        kind: 'error',
        reason: `the window's query returned more than ${maxSamplesPerSide} samples: aggregate the series or lengthen the step`,
      };
    for (const point of points) values.push(sample(point));
  }
  if (values.length === 0)
    return { kind: 'no-data', reason: "the window's query returned no samples" };
  return { kind: 'samples', values };
}

/** Prometheus sends `[time, "value"]`; the value may be "NaN", "+Inf" or "-Inf". */
function sample(pair: unknown): number {
  const text = Array.isArray(pair) ? String(pair[1]) : 'NaN';
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/**
 * The registry factory of a controller: every provider it builds shares one pool of
 * guarded agents (so an evicted provider leaves no sockets behind: idle ones close after
 * 15 s), one cap on queries in flight, and the response limits.
 */
export function prometheusFactory(options: PrometheusOptions | Shared = {}): MetricProviderFactory {
  const common = 'slots' in options ? options : sharedBy(options);
  return (config) => new PrometheusProvider(config, common);
}

/** A provider with the default limits and egress policy and agents of its own (tests, benchmarks). */
export const prometheusProvider: MetricProviderFactory = (config) => new PrometheusProvider(config);
