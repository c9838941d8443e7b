import type https from 'node:https';
import axios, { type AxiosInstance } from 'axios';
import { EgressDenied } from '../errors.js';
import { egressPolicy, guardedAgents, type EgressPolicy } from '../util/egress.js';
import { clampTimeout, deadline, formatBytes, type Deadline } from '../util/outbound.js';
import { Semaphore } from '../util/semaphore.js';
import { ProxyAgents } from './proxy-agents.js';
import { bounded, oneLine } from '../util/text.js';

/** What Weir POSTs to a webhook: Flagger's payload. */
export interface WebhookPayload {
  name: string;
  namespace: string;
  phase: string;
  /** The revision being released (Flagger: the canary checksum). */
  checksum: string;
  metadata: Record<string, string>;
}

/** One webhook to call. */
export interface WebhookTarget {
  name: string;
  type: string;
  url: string;
  timeoutMs: number;
  retries: number;
  insecureSkipVerify: boolean;
  /** An HTTP(S) proxy to send through (an AlertProvider's `proxy`); never logged. */
  proxy?: string;
}

/** The outcome of calling one webhook (after its retries). */
export interface WebhookResult {
  name: string;
  type: string;
  /** HTTP status of the last attempt; absent after a network error or timeout. */
  statusCode?: number;
  /** True when the last attempt answered 2xx. */
  passed: boolean;
  /** Response body of the last attempt, sanitised and cut to 1 KiB. */
  body?: string;
  /** Why it did not pass, without the URL (which may carry a token); sanitised, ≤ 512 characters. */
  error?: string;
  attempts: number;
}

/** Options for {@link WebhookClient}. */
export interface WebhookClientOptions {
  /** First retry delay; doubled per retry up to `maxBackoffMs` (default 1 s, 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Where requests may go (default: every address but link-local and metadata ones). */
  egress?: EgressPolicy;
  /** Bytes of an answer read at most (default 64 KiB); a longer answer fails the call. */
  maxResponseBytes?: number;
  /** Requests in flight at most, over every webhook and notification (default 64). */
  maxConcurrent?: number;
}

/** Characters of an answer kept in the result, sanitised (the CanaryRun schema allows 1,024). */
const bodyLimit = 1024;
/** Characters of an answer quoted in `error`. */
const errorQuoteLimit = 200;
/** The CanaryRun schema's limit of `webhooks[].error`. */
const errorLimit = 512;
/** Default cap on the bytes of one answer: webhooks answer with a status and a line of text. */
export const defaultWebhookResponseBytes = 64 * 1024;
/** Default cap on webhook and notification requests in flight at once, over all Canaries. */
export const defaultWebhookConcurrency = 64;

/**
 * Calls webhooks: POST JSON, retries with exponential backoff on network errors, timeouts,
 * 429 and 5xx (a 4xx is an answer, not a failure to retry), TLS verification unless
 * `insecureSkipVerify`. Never throws; never puts the URL in a message.
 *
 * Every attempt is bounded, because the URL is the Canary author's choice: a total deadline
 * of the target's timeout (at most 5 min) covers connect, headers and the whole body; at
 * most `maxResponseBytes` are read; redirects are not followed; the egress policy refuses
 * denied destinations before connecting; environment proxies are ignored (a proxy would
 * dial the destination itself, past the policy) and only a target's own `proxy` is used
 * (see {@link ProxyAgents}); and at most `maxConcurrent` requests are in flight at once,
 * whichever Canaries they come from.
 */
export class WebhookClient {
  private readonly http: AxiosInstance;
  private readonly insecureAgent: https.Agent;
  private readonly slots: Semaphore;
  private readonly maxResponseBytes: number;
  private readonly proxies: ProxyAgents;

  constructor(private readonly options: WebhookClientOptions = {}) {
    const egress = options.egress ?? egressPolicy();
    this.proxies = new ProxyAgents(egress);
    const agents = guardedAgents(egress);
    this.insecureAgent = guardedAgents(egress, { rejectUnauthorized: false }).https;
    this.slots = new Semaphore(options.maxConcurrent ?? defaultWebhookConcurrency);
    this.maxResponseBytes = options.maxResponseBytes ?? defaultWebhookResponseBytes;
    this.http = axios.create({
      httpAgent: agents.http,
      httpsAgent: agents.https,
      headers: {
        'Content-Type': 'application/json',
        'User-Agent': 'weir',
        // No compression: the byte cap then bounds what is buffered, and a gzip bomb of a
        // few KiB cannot inflate to gigabytes. Webhook answers are too small to gain from it.
        'Accept-Encoding': 'identity',
      },
      decompress: false,
      maxContentLength: this.maxResponseBytes,
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
    });
  }

  async call(
    target: WebhookTarget,
    payload: unknown,
    signal: AbortSignal,
    headers: Record<string, string> = {},
  ): Promise<WebhookResult> {
    const { name, type } = target;
    const timeoutMs = clampTimeout(target.timeoutMs, defaultTimeoutMs);
    let via = {};
    if (target.proxy) {
      const a = this.proxies.agentFor(target.proxy, target.url, target.insecureSkipVerify);
      if ('error' in a) return { name, type, passed: false, error: a.error, attempts: 1 };
      via = target.url.startsWith('https:') ? { httpsAgent: a.agent } : { httpAgent: a.agent };
    }
    let attempts = 0;
    for (;;) {
      attempts += 1;
      const attempt = deadline(signal, timeoutMs);
      let result: WebhookResult;
      let release: (() => void) | undefined;
      try {
        release = await this.slots.acquire(attempt.signal);
        const res = await this.http.post(target.url, payload, {
          signal: attempt.signal,
          headers,
          ...(target.insecureSkipVerify ? { httpsAgent: this.insecureAgent } : {}),
          ...via,
        });
        result = this.answered(target, res, attempts);
        if (result.passed || (res.status < 500 && res.status !== 429)) return result;
      } catch (err) {
        const failure = this.failure(err, attempt, timeoutMs, release !== undefined);
        result = { name, type, passed: false, error: failure.reason, attempts };
        if (!failure.retriable) return result;
      } finally {
        release?.();
      }
      if (attempts > target.retries || signal.aborted) return result;
      await sleep(this.backoff(attempts), signal);
    }
  }

  private answered(
    target: WebhookTarget,
    answer: { status: number; headers: object; data: unknown },
    attempts: number,
  ): WebhookResult {
    const { status, data } = answer;
    const headers = answer.headers as Record<string, unknown>;
    // A body sent compressed although Weir asked for identity is bytes, not text: not kept.
    const encoding = String(headers['content-encoding'] ?? 'identity').toLowerCase();
    const text = typeof data === 'string' && encoding === 'identity' ? data : '';
    const body = bounded(text, bodyLimit);
    const passed = status >= 200 && status < 300;
    const why =
      status >= 300 && status < 400
        ? `HTTP ${status}: redirects are not followed`
        : `HTTP ${status}${text ? `: ${bounded(oneLine(text), errorQuoteLimit)}` : ''}`;
    return {
      name: target.name,
      type: target.type,
      statusCode: status,
      passed,
      ...(body ? { body } : {}),
      ...(passed ? {} : { error: bounded(why, errorLimit) }),
      attempts,
    };
  }

  /** Why an attempt failed, and whether another attempt may help. */
  private failure(
    err: unknown,
    attempt: Deadline,
    timeoutMs: number,
    sent: boolean,
  ): { reason: string; retriable: boolean } {
    const e = err as { code?: string; message?: string; cause?: unknown };
    const denied = [err, e.cause].find((x) => x instanceof EgressDenied);
    if (denied) return { reason: bounded(denied.message, errorLimit), retriable: false };
    if (attempt.timedOut()) {
      return {
        reason: sent
          ? `no answer within ${timeoutMs / 1000}s`
          : `no free outbound slot within ${timeoutMs / 1000}s: ${this.slots.limit} webhook requests are in flight`,
        retriable: true,
      };
    }
    if (attempt.signal.aborted)
      return { reason: 'cancelled: the release moved on', retriable: false };
    if (e.code === 'ERR_BAD_RESPONSE' && /maxContentLength/.test(e.message ?? '')) {
      return {
        reason: `webhook answer exceeds ${formatBytes(this.maxResponseBytes)}`,
        retriable: false,
      };
    }
    if (e.code) return { reason: `could not connect (${e.code})`, retriable: true };
    return { reason: 'request failed', retriable: true };
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffMs ?? 1_000;
    return Math.min(base * 2 ** (attempt - 1), this.options.maxBackoffMs ?? 10_000);
  }
}

/** Used when a target's timeout is not a positive number. */
const defaultTimeoutMs = 10_000;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}
