import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { MeasureWindow, ProviderConfig } from './metric-provider.js';
import type { Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** The Secret key of a Dynatrace template's API token, as Flagger names it. */
export const dynatraceTokenKey = 'dynatrace_token';

interface DynatraceData {
  values?: unknown;
}

/**
 * Dynatrace's Metrics API v2 (`GET /api/v2/metrics/query?metricSelector=&from=&to=&resolution=`,
 * documented at https://docs.dynatrace.com/docs/dynatrace-api/environment-api/metric-v2/get-data-points),
 * with `Authorization: Api-Token <token>` (Secret key `dynatrace_token`, as in Flagger). The
 * template's `address` is the environment's URL (`https://<id>.live.dynatrace.com`); there is no
 * default.
 *
 * - A check asks for the metric's `interval` ending now at `resolution=Inf`: one value for the
 *   whole window. It needs one result with one data series (several are an error: aggregate
 *   with `:splitBy()`); a `null` value is no data.
 * - For the judge, the window at the judge's step (`resolution=<step>s`): every non-null value
 *   of every series.
 * - HTTP 429: nothing is sent until `Retry-After` (seconds) has passed, at most 10 minutes.
 * - The probe lists one metric (`GET /api/v2/metrics?pageSize=1`): it says whether the token is
 *   accepted.
 */
export class DynatraceProvider extends VendorProvider {
  readonly type = 'dynatrace';
  protected readonly probeRequest = {
    method: 'GET' as const,
    path: 'api/v2/metrics',
    params: { pageSize: '1' },
  };

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'Dynatrace');
  }

  async measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement> {
    const data = await this.data(query, window?.seconds ?? 60, 'Inf', signal);
    if ('kind' in data) return data;
    if (data.length === 0) return { kind: 'no-data', reason: 'the query returned no data' };
    if (data.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${data.length} series; a check needs one: aggregate it (:splitBy() …) or filter it`,
      };
    const values = valuesOf(data[0]!);
    if (values.length === 0)
      return { kind: 'no-data', reason: 'the series has no value in the window' };
    return { kind: 'value', value: values.at(-1)! };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const data = await this.data(query, window.seconds, `${window.stepSeconds}s`, signal);
    if ('kind' in data) return data;
    const values = data.flatMap(valuesOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no values' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200;
  }

  protected resetSeconds(answer: Answered): number {
    return Number(answer.headers['retry-after']);
  }

  /** What an unsuccessful answer says: Dynatrace puts it in `error.message`. */
  protected failure(answer: Answered): string {
    const error = answer.body.error as { message?: unknown } | undefined;
    const said =
      typeof error?.message === 'string'
        ? error.message
        : typeof answer.body.text === 'string'
          ? answer.body.text
          : '';
    const detail = bounded(oneLine(said), 200);
    return `Dynatrace answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }

  /** The data series of every result of one query over the last `seconds`, or why none. */
  private async data(
    query: string,
    seconds: number,
    resolution: string,
    signal: AbortSignal | undefined,
  ): Promise<DynatraceData[] | { kind: 'error'; reason: string }> {
    const to = this.now();
    const params = {
      metricSelector: query,
      resolution,
      from: String(to - Math.max(1, Math.round(seconds)) * 1000),
      to: String(to),
    };
    const answer = await this.query(
      { method: 'GET', path: 'api/v2/metrics/query', params },
      signal,
    );
    if ('kind' in answer) return answer;
    const result = answer.body.result;
    if (!Array.isArray(result))
      return { kind: 'error', reason: 'Dynatrace answered without a result list' };
    return result.flatMap((r: { data?: unknown }) =>
      Array.isArray(r?.data) ? (r.data as DynatraceData[]) : [],
    );
  }
}

/** The non-null numbers of a data series' `values`, in order. */
function valuesOf(data: DynatraceData): number[] {
  const list = Array.isArray(data.values) ? (data.values as unknown[]) : [];
  return list.filter((v): v is number => typeof v === 'number');
}

/** The factory of a controller's Dynatrace providers (one transport pool, one clock). */
export const dynatraceFactory = vendorFactory(
  (config, common, now) => new DynatraceProvider(config, common, now),
);
