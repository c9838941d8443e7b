import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { MeasureWindow, ProviderConfig } from './metric-provider.js';
import { reasonLimit, type Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** Where a Datadog template without `provider.address` queries (Datadog's US1 site, as Flagger). */
export const datadogDefaultAddress = 'https://api.datadoghq.com';
/** The Secret keys of a Datadog template, as Flagger names them. */
export const datadogSecretKeys = {
  apiKey: 'datadog_api_key',
  applicationKey: 'datadog_application_key',
} as const;
/** The request headers Datadog reads the keys from. */
export const datadogHeaders = { apiKey: 'DD-API-KEY', applicationKey: 'DD-APPLICATION-KEY' };

interface DatadogSeries {
  pointlist?: unknown;
}

/**
 * Datadog's metrics query API, v1 (`GET /api/v1/query?query=&from=&to=`, documented at
 * https://docs.datadoghq.com/api/latest/metrics/#query-timeseries-points), with the keys
 * in `DD-API-KEY` and `DD-APPLICATION-KEY` (from the template's Secret, keys
 * `datadog_api_key` and `datadog_application_key`, as in Flagger).
 *
 * - The window is the metric's `interval` ending now (the controller's clock).
 * - A check needs one series; its value is the newest complete point: the last point of a
 *   series is usually a bucket still filling, so with two points or more the one before it
 *   (Flagger reads the oldest point of a window ten intervals long, which lags the canary).
 *   `null` points are gaps, skipped; none left is no data.
 * - For the judge, every non-null point of every series over the window (Datadog picks the
 *   resolution; `.rollup(avg, 5)` in the query sets it).
 * - HTTP 429: Datadog's rate limit. The answer names when it resets (`X-RateLimit-Reset`,
 *   seconds); until then this provider sends nothing and answers at once that it waits, so a
 *   thousand Canaries on one Datadog key do not keep hammering a closed door.
 * - `GET /api/v1/validate` is the probe: it says whether the API key is accepted.
 * The transport (deadline, byte cap, egress policy, no redirects) is every provider's.
 */
export class DatadogProvider extends VendorProvider {
  readonly type = 'datadog';
  protected readonly probeRequest = { method: 'GET' as const, path: 'api/v1/validate' };

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'Datadog');
  }

  async measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement> {
    const series = await this.series(query, window?.seconds ?? 60, signal);
    if ('kind' in series) return series;
    if (series.length === 0) return { kind: 'no-data', reason: 'the query returned no series' };
    if (series.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${series.length} series; a check needs one: aggregate it (sum:, avg: …) or filter by tags`,
      };
    const points = pointsOf(series[0]!);
    if (points.length === 0)
      return { kind: 'no-data', reason: 'the series has no points in the window' };
    return { kind: 'value', value: points.at(points.length >= 2 ? -2 : -1)! };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const series = await this.series(query, window.seconds, signal);
    if ('kind' in series) return series;
    const values = series.flatMap(pointsOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no points' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 && answer.body.valid === true;
  }

  protected resetSeconds(answer: Answered): number {
    return Number(answer.headers['x-ratelimit-reset']);
  }

  /** The series of one query over the last `seconds`, or why there are none. */
  private async series(
    query: string,
    seconds: number,
    signal: AbortSignal | undefined,
  ): Promise<DatadogSeries[] | { kind: 'error'; reason: string }> {
    const to = Math.floor(this.now() / 1000);
    const params = { query, from: String(to - Math.max(1, Math.round(seconds))), to: String(to) };
    const answer = await this.query({ method: 'GET', path: 'api/v1/query', params }, signal);
    if ('kind' in answer) return answer;
    if (answer.body.status === 'error')
      return { kind: 'error', reason: bounded(this.failure(answer), reasonLimit) };
    const series = answer.body.series;
    if (series !== undefined && !Array.isArray(series))
      return { kind: 'error', reason: 'Datadog answered without a series list' };
    return (series ?? []) as DatadogSeries[];
  }

  /** What an unsuccessful answer says: Datadog puts its reasons in `errors` (or `error`). */
  protected failure(answer: Answered): string {
    const { errors, error, text } = answer.body;
    const said = Array.isArray(errors)
      ? errors.filter((e) => typeof e === 'string').join('; ')
      : typeof error === 'string'
        ? error
        : typeof text === 'string'
          ? text
          : '';
    const detail = bounded(oneLine(said), 200);
    return `Datadog answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }
}

/** The non-null values of a series' `pointlist` (`[[timestamp ms, value | null], …]`), in order. */
function pointsOf(series: DatadogSeries): number[] {
  const list = Array.isArray(series.pointlist) ? (series.pointlist as unknown[]) : [];
  const values: number[] = [];
  for (const point of list) {
    const v = Array.isArray(point) ? point[1] : undefined;
    if (typeof v === 'number') values.push(v);
  }
  return values;
}

/** The factory of a controller's Datadog providers (one transport pool, one clock). */
export const datadogFactory = vendorFactory(
  (config, common, now) => new DatadogProvider(config, common, now),
);
