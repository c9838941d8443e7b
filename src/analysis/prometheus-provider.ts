import type http from 'node:http';
import type https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { EgressDenied } from '../errors.js';
import { egressPolicy, guardedAgents, type EgressPolicy } from '../util/egress.js';
import { clampTimeout, deadline, formatBytes, type Deadline } from '../util/outbound.js';
import { Semaphore } from '../util/semaphore.js';
import { bounded, oneLine } from '../util/text.js';
import {
  defaultQueryTimeoutMs,
  type MetricProvider,
  type MetricProviderFactory,
  type ProviderConfig,
} from './metric-provider.js';
import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';

interface PromResponse {
  status?: string;
  error?: unknown;
  errorType?: unknown;
  data?: { resultType?: unknown; result?: unknown };
}

/** Default cap on the bytes of one answer (`--max-metrics-response-bytes`). */
export const defaultMaxMetricsResponseBytes = 4 * 1024 * 1024;
/** Default cap on the series of one answer; a check needs one, so more are only counted. */
export const defaultMaxSeries = 10_000;
/** Default cap on metric queries in flight at once, over every provider and Canary. */
export const defaultQueryConcurrency = 64;
/** Characters of a reason at most: it reaches conditions, CanaryRuns and chat. */
const reasonLimit = 256;

/** Options of the Prometheus providers a controller builds; see {@link prometheusFactory}. */
export interface PrometheusOptions {
  /** Where queries may go (default: every address but link-local and metadata ones). */
  egress?: EgressPolicy;
  /**
   * Addresses the operator chose (`--metrics-server`): queries to their origin are checked
   * against the always-denied ranges only, so `--egress-deny-private` does not cut the
   * controller off its own in-cluster Prometheus. Canary authors choose nothing here.
   */
  trustedAddresses?: string[];
  /** Bytes of an answer read at most (default 4 MiB); a longer answer fails the query. */
  maxResponseBytes?: number;
  /** Series of an answer counted at most (default 10,000). */
  maxSeries?: number;
  /** Queries in flight at most, over every provider (default 64). */
  maxConcurrent?: number;
}

/** What every provider of one factory shares: agents (one socket pool), slots and limits. */
interface Shared {
  agents: { http: http.Agent; https: https.Agent; insecure: https.Agent };
  trustedAgents: { http: http.Agent; https: https.Agent; insecure: https.Agent };
  trusted: Set<string>;
  slots: Semaphore;
  maxResponseBytes: number;
  maxSeries: number;
}

function agentsFor(policy: EgressPolicy): Shared['agents'] {
  const verified = guardedAgents(policy);
  return { ...verified, insecure: guardedAgents(policy, { rejectUnauthorized: false }).https };
}

function shared(options: PrometheusOptions): Shared {
  const base = egressPolicy();
  const agents = agentsFor(options.egress ?? base);
  return {
    agents,
    trustedAgents: options.egress ? agentsFor(base) : agents,
    trusted: new Set((options.trustedAddresses ?? []).flatMap((a) => originOf(a) ?? [])),
    slots: new Semaphore(options.maxConcurrent ?? defaultQueryConcurrency),
    maxResponseBytes: options.maxResponseBytes ?? defaultMaxMetricsResponseBytes,
    maxSeries: options.maxSeries ?? defaultMaxSeries,
  };
}

function originOf(address: string): string | undefined {
  try {
    return new URL(address).origin;
  } catch {
    return undefined;
  }
}

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
  private readonly http: AxiosInstance;
  private readonly where: string;
  private readonly timeoutMs: number;
  private readonly shared: Shared;

  constructor(config: ProviderConfig, sharedWith: PrometheusOptions | Shared = {}) {
    this.shared = 'slots' in sharedWith ? sharedWith : shared(sharedWith);
    this.timeoutMs = clampTimeout(config.timeoutMs, defaultQueryTimeoutMs);
    const url = new URL(config.address);
    // Credentials in the URL would end up in messages; take them out and use them as basic auth.
    const userinfo = url.username
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
    url.username = '';
    url.password = '';
    this.where = url.origin + url.pathname.replace(/\/$/, '');
    const auth = config.auth ?? userinfo;
    const agents = this.shared.trusted.has(url.origin)
      ? this.shared.trustedAgents
      : this.shared.agents;
    this.http = axios.create({
      baseURL: `${this.where}/`,
      headers: {
        ...config.headers,
        Accept: 'application/json',
        // No compression: the byte cap then bounds what is buffered and parsed, and a gzip
        // bomb cannot inflate past it. Instant queries answer a few hundred bytes.
        'Accept-Encoding': 'identity',
        ...(auth && 'bearer' in auth ? { Authorization: `Bearer ${auth.bearer}` } : {}),
      },
      ...(auth && 'username' in auth
        ? { auth: { username: auth.username, password: auth.password } }
        : {}),
      httpAgent: agents.http,
      httpsAgent: config.insecureSkipVerify ? agents.insecure : agents.https,
      decompress: false,
      maxContentLength: this.shared.maxResponseBytes,
      // Every status is interpreted below; axios must not throw for them.
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      responseType: 'json',
    });
  }

  async measure(query: string, signal?: AbortSignal): Promise<Measurement> {
    const m = await this.query(query, this.timeoutMs, signal);
    return m.kind === 'value' ? m : { ...m, reason: bounded(m.reason, reasonLimit) };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const s = await this.range(query, window, signal);
    return s.kind === 'samples' ? s : { ...s, reason: bounded(s.reason, reasonLimit) };
  }

  async probe(signal?: AbortSignal, timeoutMs?: number): Promise<string | undefined> {
    const m = await this.query(
      'vector(1)',
      Math.min(this.timeoutMs, timeoutMs ?? Infinity),
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
    return fromResult(answer.resultType, answer.result, this.shared.maxSeries);
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
    const answer = await this.request('api/v1/query', { query: subquery }, this.timeoutMs, signal);
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
    const attempt = deadline(signal, timeoutMs);
    let res: AxiosResponse<PromResponse | string>;
    let release: (() => void) | undefined;
    try {
      release = await this.shared.slots.acquire(attempt.signal);
      res = await this.http.post(path, new URLSearchParams(params), {
        signal: attempt.signal,
      });
    } catch (err) {
      return {
        kind: 'error',
        reason: this.networkReason(err, attempt, timeoutMs, release !== undefined),
      };
    } finally {
      release?.();
    }
    const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return {
        kind: 'error',
        reason: `Prometheus at ${this.where} answered with Content-Encoding ${encoding}, which Weir does not accept (it asks for identity)`,
      };
    }
    const body: PromResponse = typeof res.data === 'object' && res.data !== null ? res.data : {};
    if (res.status === 401 || res.status === 403) {
      return {
        kind: 'error',
        reason: `Prometheus refused the query (HTTP ${res.status}): ${res.status === 401 ? 'authentication required; check the secretRef credentials' : 'not authorised'}`,
      };
    }
    if (res.status >= 300 && res.status < 400) {
      return {
        kind: 'error',
        reason: `Prometheus answered HTTP ${res.status}: redirects are not followed`,
      };
    }
    if (res.status >= 200 && res.status < 300 && (typeof res.data !== 'object' || !res.data)) {
      const start = bounded(oneLine(typeof res.data === 'string' ? res.data : ''), 200);
      return {
        kind: 'error',
        reason: `Prometheus at ${this.where} answered HTTP ${res.status} with a body that is not JSON${start ? `: ${start}` : ''}`,
      };
    }
    if (res.status < 200 || res.status >= 300 || body.status !== 'success') {
      const said =
        typeof body.error === 'string'
          ? body.error
          : typeof res.data === 'string'
            ? res.data.slice(0, 200)
            : '';
      const detail = bounded(oneLine(said), 200);
      const errorType =
        typeof body.errorType === 'string' ? ` (${bounded(body.errorType, 32)})` : '';
      return {
        kind: 'error',
        reason: `Prometheus answered HTTP ${res.status}${errorType}${detail ? `: ${detail}` : ''}`,
      };
    }
    return { resultType: body.data?.resultType, result: body.data?.result };
  }

  private networkReason(err: unknown, attempt: Deadline, timeoutMs: number, sent: boolean): string {
    const e = err as { code?: string; message?: string; cause?: unknown };
    const denied = [err, e.cause].find((x) => x instanceof EgressDenied);
    if (denied) return `Prometheus at ${this.where}: ${denied.message}`;
    if (attempt.timedOut()) {
      return sent
        ? `Prometheus at ${this.where} did not answer within ${timeoutMs / 1000}s`
        : `no free query slot within ${timeoutMs / 1000}s: ${this.shared.slots.limit} metric queries are in flight`;
    }
    if (attempt.signal.aborted) return 'query cancelled: the release moved on';
    if (e.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(e.message ?? '')) {
      return `Prometheus answer exceeds ${formatBytes(this.shared.maxResponseBytes)} (--max-metrics-response-bytes)`;
    }
    if (
      e.code === 'ECONNREFUSED' ||
      e.code === 'ENOTFOUND' ||
      e.code === 'EAI_AGAIN' ||
      e.code === 'ECONNRESET'
    )
      return `Prometheus at ${this.where} is unreachable (${e.code})`;
    return `Prometheus at ${this.where} could not be queried: ${e.message ?? String(err)}`;
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
export function prometheusFactory(options: PrometheusOptions = {}): MetricProviderFactory {
  const common = shared(options);
  return (config) => new PrometheusProvider(config, common);
}

/** A provider with the default limits and egress policy and agents of its own (tests, benchmarks). */
export const prometheusProvider: MetricProviderFactory = (config) => new PrometheusProvider(config);
