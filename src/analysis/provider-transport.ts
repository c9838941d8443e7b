import type http from 'node:http';
import type https from 'node:https';
import axios, { type AxiosInstance, type AxiosResponse } from 'axios';
import { EgressDenied } from '../errors.js';
import { egressPolicy, guardedAgents, type EgressPolicy } from '../util/egress.js';
import { clampTimeout, deadline, formatBytes, type Deadline } from '../util/outbound.js';
import { Semaphore } from '../util/semaphore.js';
import { bounded, oneLine } from '../util/text.js';
import { defaultQueryTimeoutMs, type ProviderConfig } from './metric-provider.js';

/** Default cap on the bytes of one answer (`--max-metrics-response-bytes`). */
export const defaultMaxMetricsResponseBytes = 4 * 1024 * 1024;
/** Default cap on the series of one answer; a check needs one, so more are only counted. */
export const defaultMaxSeries = 10_000;
/** Default cap on metric queries in flight at once, over every provider and Canary. */
export const defaultQueryConcurrency = 64;
/** Characters of a reason at most: it reaches conditions, CanaryRuns and chat. */
export const reasonLimit = 256;

/** Options of the metric providers a controller builds (every type shares them). */
export interface ProviderOptions {
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

/** What every provider of one controller shares: agents (one socket pool), slots and limits. */
export interface Shared {
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

/** The agents, slots and limits the providers built from `options` share. */
export function sharedBy(options: ProviderOptions): Shared {
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

/** An answer with a JSON body (any status), or why there is none. */
export type Answer =
  | { status: number; headers: Record<string, unknown>; body: Record<string, unknown> }
  | { kind: 'error'; reason: string };

/** One request of a provider: a GET with query parameters, or a POST of a form, JSON or a body as it is. `path` is relative to the address; empty, the address itself. */
export interface ProviderRequest {
  method: 'GET' | 'POST';
  path: string;
  params?: Record<string, string>;
  form?: Record<string, string>;
  json?: unknown;
  /** A body sent as it is (a signed request's: the bytes signed are the bytes sent). */
  body?: string;
  /** The answer is text (InfluxDB's CSV), kept under `body.text` whatever its status. */
  text?: boolean;
  headers?: Record<string, string>;
}

/**
 * The HTTP side of a metric provider, the same for every type: one total deadline (the
 * timeout, at most 5 min) over connect, headers and body; at most `maxResponseBytes` read,
 * uncompressed; no redirects, no environment proxy; the egress policy checked at connect
 * time; a shared cap on queries in flight. Every failure is a reason naming the provider
 * (`label`, e.g. "Prometheus") and its address without credentials; never a throw.
 */
export class ProviderTransport {
  readonly where: string;
  readonly timeoutMs: number;
  private readonly http: AxiosInstance;

  constructor(
    config: ProviderConfig,
    readonly shared: Shared,
    readonly label: string,
    extraHeaders: Record<string, string> = {},
  ) {
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
    const agents = shared.trusted.has(url.origin) ? shared.trustedAgents : shared.agents;
    this.http = axios.create({
      baseURL: `${this.where}/`,
      headers: {
        ...config.headers,
        ...extraHeaders,
        Accept: 'application/json',
        // No compression: the byte cap then bounds what is buffered and parsed, and a gzip
        // bomb cannot inflate past it. Queries answer a few hundred bytes.
        'Accept-Encoding': 'identity',
        ...(auth && 'bearer' in auth ? { Authorization: `Bearer ${auth.bearer}` } : {}),
      },
      ...(auth && 'username' in auth
        ? { auth: { username: auth.username, password: auth.password } }
        : {}),
      httpAgent: agents.http,
      httpsAgent: config.insecureSkipVerify ? agents.insecure : agents.https,
      decompress: false,
      maxContentLength: shared.maxResponseBytes,
      // Every status is interpreted by the caller; axios must not throw for them.
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      responseType: 'json',
    });
  }

  /** Sends one request within `timeoutMs`: a JSON answer, or why there is none. */
  async send(
    req: ProviderRequest,
    signal: AbortSignal | undefined,
    timeoutMs = this.timeoutMs,
  ): Promise<Answer> {
    const attempt = deadline(signal, timeoutMs);
    let res: AxiosResponse<unknown>;
    let release: (() => void) | undefined;
    try {
      release = await this.shared.slots.acquire(attempt.signal);
      res = await this.http.request({
        method: req.method,
        // An empty path is the address itself (NerdGraph's is …/graphql, without a slash).
        url: req.path === '' ? this.where : req.path,
        ...(req.params ? { params: req.params } : {}),
        ...(req.form ? { data: new URLSearchParams(req.form) } : {}),
        ...(req.json !== undefined ? { data: req.json } : {}),
        ...(req.body !== undefined ? { data: req.body } : {}),
        ...(req.headers ? { headers: req.headers } : {}),
        ...(req.text ? { responseType: 'text' as const } : {}),
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
    const { label, where } = this;
    const encoding = String(res.headers['content-encoding'] ?? 'identity').toLowerCase();
    if (encoding !== 'identity') {
      return {
        kind: 'error',
        reason: `${label} at ${where} answered with Content-Encoding ${encoding}, which Weir does not accept (it asks for identity)`,
      };
    }
    if (res.status === 401 || res.status === 403) {
      return {
        kind: 'error',
        reason: `${label} refused the query (HTTP ${res.status}): ${res.status === 401 ? 'authentication required; check the secretRef credentials' : 'not authorised'}`,
      };
    }
    if (res.status >= 300 && res.status < 400) {
      return {
        kind: 'error',
        reason: `${label} answered HTTP ${res.status}: redirects are not followed`,
      };
    }
    if (req.text)
      return {
        status: res.status,
        headers: res.headers as Record<string, unknown>,
        body: { text: typeof res.data === 'string' ? res.data : '' },
      };
    const json = typeof res.data === 'object' && res.data !== null;
    if (res.status >= 200 && res.status < 300 && !json) {
      const start = bounded(oneLine(typeof res.data === 'string' ? res.data : ''), 200);
      return {
        kind: 'error',
        reason: `${label} at ${where} answered HTTP ${res.status} with a body that is not JSON${start ? `: ${start}` : ''}`,
      };
    }
    // A JSON array (Graphite answers one) is kept under `list`, other text under `text`.
    const body = Array.isArray(res.data)
      ? { list: res.data as unknown[] }
      : json
        ? (res.data as Record<string, unknown>)
        : { text: typeof res.data === 'string' ? res.data : '' };
    return { status: res.status, headers: res.headers as Record<string, unknown>, body };
  }

  private networkReason(err: unknown, attempt: Deadline, timeoutMs: number, sent: boolean): string {
    const { label, where } = this;
    const e = err as { code?: string; message?: string; cause?: unknown };
    const denied = [err, e.cause].find((x) => x instanceof EgressDenied);
    if (denied) return `${label} at ${where}: ${denied.message}`;
    if (attempt.timedOut()) {
      return sent
        ? `${label} at ${where} did not answer within ${timeoutMs / 1000}s`
        : `no free query slot within ${timeoutMs / 1000}s: ${this.shared.slots.limit} metric queries are in flight`;
    }
    if (attempt.signal.aborted) return 'query cancelled: the release moved on';
    if (e.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(e.message ?? '')) {
      return `${label} answer exceeds ${formatBytes(this.shared.maxResponseBytes)} (--max-metrics-response-bytes)`;
    }
    if (
      e.code === 'ECONNREFUSED' ||
      e.code === 'ENOTFOUND' ||
      e.code === 'EAI_AGAIN' ||
      e.code === 'ECONNRESET'
    )
      return `${label} at ${where} is unreachable (${e.code})`;
    return `${label} at ${where} could not be queried: ${e.message ?? String(err)}`;
  }
}

/** Longest pause a rate limit may impose (a lying reset cannot park a provider for long). */
export const maxRateLimitWaitMs = 10 * 60_000;
/** Pause after a rate limit that says nothing usable about when it resets. */
export const defaultRateLimitWaitMs = 60_000;

/**
 * A provider's rate-limit pause: after an HTTP 429 nothing is sent until the limit resets,
 * and every query meanwhile answers at once that it waits, so many Canaries on one key do not
 * keep knocking on a closed door. The clock is the controller's.
 */
export class RateLimitPause {
  private until = 0;

  constructor(
    private readonly label: string,
    private readonly now: () => number,
  ) {}

  /** Why no query may be sent now, or undefined. */
  waiting(): string | undefined {
    const left = this.until - this.now();
    return left > 0
      ? `${this.label}'s rate limit: no query until it resets in ${Math.ceil(left / 1000)}s`
      : undefined;
  }

  /** Records a 429 (or what `answer` names) whose reset is `seconds` away (when known); says how long it waits. */
  hit(seconds: number | undefined, answer = 'HTTP 429'): string {
    const waitMs =
      seconds !== undefined && Number.isFinite(seconds) && seconds > 0
        ? Math.min(seconds * 1000, maxRateLimitWaitMs)
        : defaultRateLimitWaitMs;
    this.until = this.now() + waitMs;
    return `${this.label}'s rate limit was reached (${answer}): no query for ${Math.ceil(waitMs / 1000)}s`;
  }
}
