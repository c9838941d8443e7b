import aws4 from 'aws4';
import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { MeasureWindow, ProviderConfig } from './metric-provider.js';
import { reasonLimit, type ProviderRequest, type Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** The Secret keys of a CloudWatch template (the names of the AWS credentials file). */
export const cloudWatchSecretKeys = {
  accessKeyId: 'aws_access_key_id',
  secretAccessKey: 'aws_secret_access_key',
  /** Optional: temporary credentials carry one. */
  sessionToken: 'aws_session_token',
} as const;

/** CloudWatch's regional endpoint, where a template without `provider.address` queries. */
export function cloudWatchAddress(region: string): string {
  return `https://monitoring.${region}.amazonaws.com${region.startsWith('cn-') ? '.cn' : ''}`;
}

/** Flagger's lookback for a point query: ten metric intervals, so a late datapoint is still found. */
const lookbackIntervals = 10;
/** Pause after a throttling answer, which says nothing about when to come back. */
const throttledSeconds = 10;
/** Queries of one request at most (GetMetricData's own limit). */
const maxQueries = 500;

interface MetricDataResult {
  Id?: unknown;
  StatusCode?: unknown;
  Values?: unknown;
  Messages?: unknown;
}

/**
 * CloudWatch's GetMetricData (documented at
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html),
 * asked over its JSON protocol (`POST /`, `X-Amz-Target: GraniteServiceVersion20100801.GetMetricData`)
 * and signed with AWS Signature Version 4 (the `aws4` library) for the template's `region`,
 * with the keys from its Secret (`aws_access_key_id`, `aws_secret_access_key`, and
 * `aws_session_token` for temporary credentials).
 *
 * - The query is Flagger's: a JSON array of MetricDataQuery (metric stats, math expressions
 *   or a Metrics Insights query), the helpers marked `"ReturnData": false`.
 * - A check needs one returned result; its value is the newest datapoint over ten metric
 *   intervals ending now (Flagger's lookback; CloudWatch publishes late). Several results are
 *   an error (Flagger silently takes the first), none or no datapoints is no data.
 * - For the judge, every datapoint of every returned result over the window.
 * - A result CloudWatch marks `InternalError` or `Forbidden` is an error, with its messages.
 * - Throttling (HTTP 429, or a 400 whose `__type` names Throttling) pauses the provider
 *   10 s: CloudWatch does not say when to come back.
 * - The probe is Flagger's: a GetMetricData without queries, which CloudWatch refuses as
 *   invalid (HTTP 400) once the signature and the permission are accepted.
 * The transport (deadline, byte cap, egress policy, no redirects) is every provider's.
 */
export class CloudWatchProvider extends VendorProvider {
  readonly type = 'cloudwatch';
  private readonly region: string;
  private readonly credentials: aws4.Credentials;

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'CloudWatch');
    const s = config.settings ?? {};
    this.region = s.region ?? '';
    this.credentials = {
      accessKeyId: s.accessKeyId ?? '',
      secretAccessKey: s.secretAccessKey ?? '',
      ...(s.sessionToken ? { sessionToken: s.sessionToken } : {}),
    };
  }

  protected get probeRequest(): ProviderRequest {
    const end = Math.floor(this.now() / 1000);
    return this.signed({ MetricDataQueries: [], StartTime: end - 60, EndTime: end });
  }

  async measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement> {
    const seconds = (window?.seconds ?? 60) * lookbackIntervals;
    const results = await this.results(query, seconds, signal);
    if ('kind' in results) return results;
    if (results.length === 0)
      return { kind: 'no-data', reason: 'the query returned no result (all ReturnData false?)' };
    if (results.length > 1)
      return {
        kind: 'error',
        reason: bounded(
          `the query returned ${results.length} results (${results.map((r) => String(r.Id)).join(', ')}); a check needs one: set "ReturnData": false on the others`,
          reasonLimit,
        ),
      };
    const values = valuesOf(results[0]!);
    if (values.length === 0)
      return { kind: 'no-data', reason: `no datapoints in the last ${seconds}s` };
    // Newest first: the request asks TimestampDescending.
    return { kind: 'value', value: values[0]! };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const results = await this.results(query, window.seconds, signal);
    if ('kind' in results) return results;
    const values = results.flatMap(valuesOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no datapoints' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 || (answer.status === 400 && !this.rateLimited(answer));
  }

  protected override rateLimited(answer: Answered): boolean {
    return answer.status === 429 || /Throttl/i.test(errorType(answer));
  }

  protected override limitAnswer(answer: Answered): string {
    const type = errorType(answer);
    return `HTTP ${answer.status}${type ? ` ${type}` : ''}`;
  }

  protected resetSeconds(): number {
    return throttledSeconds;
  }

  /** The returned results of one query over the last `seconds`, or why there are none. */
  private async results(
    query: string,
    seconds: number,
    signal: AbortSignal | undefined,
  ): Promise<MetricDataResult[] | { kind: 'error'; reason: string }> {
    const queries = parseQueries(query);
    if ('error' in queries) return { kind: 'error', reason: queries.error };
    const end = Math.floor(this.now() / 1000);
    const answer = await this.query(
      this.signed({
        MetricDataQueries: queries,
        StartTime: end - Math.max(1, Math.round(seconds)),
        EndTime: end,
        ScanBy: 'TimestampDescending',
      }),
      signal,
    );
    if ('kind' in answer) return answer;
    const list = answer.body.MetricDataResults;
    if (!Array.isArray(list))
      return { kind: 'error', reason: 'CloudWatch answered without MetricDataResults' };
    const results = list as MetricDataResult[];
    const broken = results.find(
      (r) => r.StatusCode === 'InternalError' || r.StatusCode === 'Forbidden',
    );
    if (broken) {
      const said = messagesOf(broken.Messages);
      return {
        kind: 'error',
        reason: bounded(
          `CloudWatch could not compute ${String(broken.Id)} (${String(broken.StatusCode)})${said ? `: ${said}` : ''}`,
          reasonLimit,
        ),
      };
    }
    return results;
  }

  /** A GetMetricData request signed now for the template's region (the body is signed as sent). */
  private signed(input: unknown): ProviderRequest {
    const body = JSON.stringify(input);
    const url = new URL(this.transport.where);
    const stamp = new Date(this.now()).toISOString().replace(/[-:]|\.\d{3}/g, '');
    const request: aws4.Request = {
      host: url.host,
      path: url.pathname === '' ? '/' : url.pathname,
      method: 'POST',
      service: 'monitoring',
      region: this.region,
      body,
      headers: {
        'Content-Type': 'application/json',
        'Content-Encoding': 'amz-1.0',
        'X-Amz-Target': 'GraniteServiceVersion20100801.GetMetricData',
        'X-Amz-Date': stamp,
      },
    };
    aws4.sign(request, this.credentials);
    const headers = Object.fromEntries(
      Object.entries(request.headers ?? {}).map(([k, v]) => [k, String(v)]),
    );
    return { method: 'POST', path: '', body, headers };
  }

  protected failure(answer: Answered): string {
    const { message, Message } = answer.body;
    const said = typeof message === 'string' ? message : typeof Message === 'string' ? Message : '';
    const type = errorType(answer);
    const detail = bounded(oneLine([type, said].filter(Boolean).join(': ')), 200);
    return `CloudWatch answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }
}

/** The error's type, without its namespace (`com.amazonaws…#InvalidParameterValue` → `InvalidParameterValue`). */
function errorType(answer: Answered): string {
  const t = answer.body.__type;
  return typeof t === 'string' ? t.slice(t.lastIndexOf('#') + 1) : '';
}

/** The template's query as MetricDataQueries, or what is wrong with it. */
function parseQueries(query: string): unknown[] | { error: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(query);
  } catch (err) {
    return {
      error: bounded(
        `the query is not JSON (a CloudWatch query is a JSON array of MetricDataQuery): ${(err as Error).message}`,
        reasonLimit,
      ),
    };
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > maxQueries)
    return {
      error: `a CloudWatch query is a JSON array of 1 to ${maxQueries} MetricDataQuery objects`,
    };
  if (!parsed.every((q) => typeof q === 'object' && q !== null && !Array.isArray(q)))
    return { error: 'every entry of a CloudWatch query must be a MetricDataQuery object' };
  return parsed;
}

/** The numeric datapoints of a result, in the order CloudWatch gave them. */
function valuesOf(result: MetricDataResult): number[] {
  return Array.isArray(result.Values)
    ? (result.Values as unknown[]).filter((v): v is number => typeof v === 'number')
    : [];
}

function messagesOf(messages: unknown): string {
  if (!Array.isArray(messages)) return '';
  return oneLine(
    messages
      .map((m) => (m as { Value?: unknown }).Value)
      .filter((v): v is string => typeof v === 'string')
      .join('; '),
  );
}

/** The factory of a controller's CloudWatch providers (one transport pool, one clock). */
export const cloudWatchFactory = vendorFactory(
  (config, common, now) => new CloudWatchProvider(config, common, now),
);
