import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import type { Measurement, MetricProvider, ProviderConfig } from './metric-provider.js';

interface PromResponse {
  status?: string;
  error?: string;
  errorType?: string;
  data?: { resultType?: string; result?: unknown };
}

/**
 * Instant queries against Prometheus's HTTP API (`POST /api/v1/query`, so long
 * queries fit). Every outcome is a measurement: one value, "no data", or an
 * error with the reason — several series, NaN and HTTP failures included.
 */
export class PrometheusProvider implements MetricProvider {
  readonly type = 'prometheus';
  private readonly http: AxiosInstance;
  private readonly where: string;

  constructor(private readonly config: ProviderConfig) {
    const url = new URL(config.address);
    // Credentials in the URL would end up in messages; take them out and use them as basic auth.
    const userinfo = url.username
      ? { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) }
      : undefined;
    url.username = '';
    url.password = '';
    this.where = url.origin + url.pathname.replace(/\/$/, '');
    const auth = config.auth ?? userinfo;
    this.http = axios.create({
      baseURL: `${this.where}/`,
      timeout: config.timeoutMs,
      headers: {
        ...config.headers,
        Accept: 'application/json',
        ...(auth && 'bearer' in auth ? { Authorization: `Bearer ${auth.bearer}` } : {}),
      },
      ...(auth && 'username' in auth
        ? { auth: { username: auth.username, password: auth.password } }
        : {}),
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new https.Agent({
        keepAlive: true,
        maxSockets: 64,
        rejectUnauthorized: !config.insecureSkipVerify,
      }),
      // Every status is interpreted below; axios must not throw for them.
      validateStatus: () => true,
      maxRedirects: 0,
      responseType: 'json',
    });
  }

  async measure(query: string, signal?: AbortSignal): Promise<Measurement> {
    let res: AxiosResponse<PromResponse | string>;
    try {
      res = await this.http.post('api/v1/query', new URLSearchParams({ query }), {
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      return { kind: 'error', reason: this.networkReason(err) };
    }
    const body: PromResponse = typeof res.data === 'object' && res.data !== null ? res.data : {};
    if (res.status === 401 || res.status === 403) {
      return {
        kind: 'error',
        reason: `Prometheus refused the query (HTTP ${res.status}): ${res.status === 401 ? 'authentication required; check the secretRef credentials' : 'not authorised'}`,
      };
    }
    if (res.status < 200 || res.status >= 300 || body.status !== 'success') {
      const detail =
        body.error ?? (typeof res.data === 'string' ? res.data.slice(0, 200).trim() : '');
      return {
        kind: 'error',
        reason: `Prometheus answered HTTP ${res.status}${body.errorType ? ` (${body.errorType})` : ''}${detail ? `: ${detail}` : ''}`,
      };
    }
    return fromResult(body.data?.resultType, body.data?.result);
  }

  async probe(signal?: AbortSignal): Promise<string | undefined> {
    const m = await this.measure('vector(1)', signal);
    if (m.kind === 'value' && m.value === 1) return undefined;
    return m.kind === 'value'
      ? `Prometheus at ${this.where} answered vector(1) with ${m.value}`
      : `${m.reason}`;
  }

  private networkReason(err: unknown): string {
    if (axios.isCancel(err)) return 'query cancelled: the release moved on';
    const e = err as { code?: string; message?: string };
    if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT')
      return `Prometheus at ${this.where} did not answer within ${this.config.timeoutMs / 1000}s`;
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
export function fromResult(resultType: string | undefined, result: unknown): Measurement {
  if (resultType === 'scalar' && Array.isArray(result))
    return { kind: 'value', value: sample(result) };
  if (resultType === 'vector' && Array.isArray(result)) {
    if (result.length === 0) return { kind: 'no-data', reason: 'the query returned no series' };
    if (result.length > 1) {
      return {
        kind: 'error',
        reason: `the query returned ${result.length} series where one was expected; aggregate it (sum, max …) or filter by labels`,
      };
    }
    const only = result[0] as { value?: unknown };
    return { kind: 'value', value: sample(only.value) };
  }
  return {
    kind: 'error',
    reason: `the query returned a ${resultType ?? 'malformed'} result; an instant vector with one series or a scalar is expected`,
  };
}

/** Prometheus sends `[time, "value"]`; the value may be "NaN", "+Inf" or "-Inf". */
function sample(pair: unknown): number {
  const text = Array.isArray(pair) ? String(pair[1]) : 'NaN';
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** The registry factory. */
export const prometheusProvider = (config: ProviderConfig): MetricProvider =>
  new PrometheusProvider(config);
