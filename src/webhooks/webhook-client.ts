import http from 'node:http';
import https from 'node:https';
import axios, { type AxiosInstance } from 'axios';

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
}

/** The outcome of calling one webhook (after its retries). */
export interface WebhookResult {
  name: string;
  type: string;
  /** HTTP status of the last attempt; absent after a network error or timeout. */
  statusCode?: number;
  /** True when the last attempt answered 2xx. */
  passed: boolean;
  /** Response body of the last attempt, truncated to 1 KiB. */
  body?: string;
  /** Why it did not pass, without the URL (which may carry a token). */
  error?: string;
  attempts: number;
}

/** Options for {@link WebhookClient}. */
export interface WebhookClientOptions {
  /** First retry delay; doubled per retry up to `maxBackoffMs` (default 1 s, 10 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

const bodyLimit = 1024;

/**
 * Calls webhooks: POST JSON, per-call timeout, retries with exponential backoff on
 * network errors, timeouts, 429 and 5xx (a 4xx is an answer, not a failure to
 * retry), TLS verification unless `insecureSkipVerify`. Never throws; never puts
 * the URL in a message.
 */
export class WebhookClient {
  private readonly http: AxiosInstance;
  private readonly insecureAgent = new https.Agent({ keepAlive: true, rejectUnauthorized: false });

  constructor(private readonly options: WebhookClientOptions = {}) {
    this.http = axios.create({
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
      headers: { 'Content-Type': 'application/json', 'User-Agent': 'weir' },
      validateStatus: () => true,
      maxRedirects: 0,
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
    let attempts = 0;
    for (;;) {
      attempts += 1;
      let result: WebhookResult;
      try {
        const res = await this.http.post(target.url, payload, {
          timeout: target.timeoutMs,
          signal,
          headers,
          ...(target.insecureSkipVerify ? { httpsAgent: this.insecureAgent } : {}),
        });
        const body = typeof res.data === 'string' ? res.data.slice(0, bodyLimit) : '';
        const passed = res.status >= 200 && res.status < 300;
        result = {
          name,
          type,
          statusCode: res.status,
          passed,
          ...(body ? { body } : {}),
          ...(passed ? {} : { error: `HTTP ${res.status}${body ? `: ${oneLine(body)}` : ''}` }),
          attempts,
        };
        if (passed || (res.status < 500 && res.status !== 429)) return result;
      } catch (err) {
        result = {
          name,
          type,
          passed: false,
          error: networkReason(err, target.timeoutMs),
          attempts,
        };
        if (axios.isCancel(err)) return result;
      }
      if (attempts > target.retries || signal.aborted) return result;
      await sleep(this.backoff(attempts), signal);
    }
  }

  private backoff(attempt: number): number {
    const base = this.options.backoffMs ?? 1_000;
    return Math.min(base * 2 ** (attempt - 1), this.options.maxBackoffMs ?? 10_000);
  }
}

function oneLine(text: string): string {
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

function networkReason(err: unknown, timeoutMs: number): string {
  if (axios.isCancel(err)) return 'cancelled: the release moved on';
  const e = err as { code?: string; message?: string };
  if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT')
    return `no answer within ${timeoutMs / 1000}s`;
  if (e.code) return `could not connect (${e.code})`;
  return 'request failed';
}

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
