import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded } from '../util/text.js';
import type {
  MeasureWindow,
  MetricProvider,
  MetricProviderFactory,
  ProviderConfig,
} from './metric-provider.js';
import {
  ProviderTransport,
  RateLimitPause,
  reasonLimit,
  sharedBy,
  type Answer,
  type ProviderOptions,
  type ProviderRequest,
  type Shared,
} from './provider-transport.js';

/** A JSON answer with its status (not a transport failure). */
export type Answered = Exclude<Answer, { kind: 'error' }>;

/**
 * What the vendor APIs (Datadog, Dynatrace, CloudWatch …) share: the bounded transport, a rate-limit
 * pause (nothing is sent after a 429 until the limit resets), the controller's clock to place a time
 * range, and a probe that asks one request and reads its answer. Each vendor says how it asks
 * for a window, where its 429 says when to come back, and what an answer means.
 */
export abstract class VendorProvider implements MetricProvider {
  abstract readonly type: string;
  protected readonly transport: ProviderTransport;
  private readonly pause: RateLimitPause;

  constructor(
    config: ProviderConfig,
    common: Shared,
    protected readonly now: () => number,
    label: string,
  ) {
    this.transport = new ProviderTransport(config, common, label);
    this.pause = new RateLimitPause(label, now);
  }

  abstract measure(
    query: string,
    signal?: AbortSignal,
    window?: MeasureWindow,
  ): Promise<Measurement>;
  abstract samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples>;

  /** The probe's request, and whether its answer says the provider and credentials work. */
  protected abstract readonly probeRequest: ProviderRequest;
  protected abstract probeAnswered(answer: Answered): boolean;
  /** What an unsuccessful answer says, in the vendor's words. */
  protected abstract failure(answer: Answered): string;
  /** Seconds until a 429's limit resets, from the vendor's header. */
  protected abstract resetSeconds(answer: Answered): number | undefined;
  /** Whether an answer says the rate limit was reached: HTTP 429, unless the vendor says it otherwise. */
  protected rateLimited(answer: Answered): boolean {
    return answer.status === 429;
  }
  /** How a rate-limit answer is named in reasons. */
  protected limitAnswer(answer: Answered): string {
    return `HTTP ${answer.status}`;
  }

  async probe(signal?: AbortSignal, timeoutMs?: number): Promise<string | undefined> {
    const answer = await this.transport.send(
      this.probeRequest,
      signal,
      Math.min(this.transport.timeoutMs, timeoutMs ?? Infinity),
    );
    if ('kind' in answer) return bounded(answer.reason, reasonLimit);
    if (this.probeAnswered(answer)) return undefined;
    return bounded(this.failure(answer), reasonLimit);
  }

  /**
   * One query request unless the rate limit holds: a 200 answer, or why there is none (the
   * pause, a transport failure, a 429, another status, all as reasons).
   */
  protected async query(
    req: ProviderRequest,
    signal: AbortSignal | undefined,
  ): Promise<Answered | { kind: 'error'; reason: string }> {
    const waiting = this.pause.waiting();
    if (waiting) return { kind: 'error', reason: waiting };
    const answer = await this.transport.send(req, signal);
    if ('kind' in answer) return { kind: 'error', reason: bounded(answer.reason, reasonLimit) };
    if (this.rateLimited(answer))
      return {
        kind: 'error',
        reason: this.pause.hit(this.resetSeconds(answer), this.limitAnswer(answer)),
      };
    if (answer.status !== 200)
      return { kind: 'error', reason: bounded(this.failure(answer), reasonLimit) };
    return answer;
  }
}

/** Options of a vendor's providers: the transport's, and the clock that places the window. */
export interface VendorOptions extends ProviderOptions {
  now?: () => number;
}

/** The factory of a vendor's providers: one transport pool (shared or own), one clock. */
export function vendorFactory(
  make: (config: ProviderConfig, common: Shared, now: () => number) => MetricProvider,
) {
  return (options: VendorOptions = {}, shared?: Shared): MetricProviderFactory => {
    const common = shared ?? sharedBy(options);
    const now = options.now ?? (() => Date.now());
    return (config) => make(config, common, now);
  };
}
