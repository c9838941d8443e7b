import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { MeasureWindow, ProviderConfig } from './metric-provider.js';
import type { Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

interface GraphiteTarget {
  target?: unknown;
  datapoints?: unknown;
}

/**
 * Graphite's render API (`GET /render?target=…&format=json`, documented at
 * https://graphite.readthedocs.io/en/latest/render_api.html), as Flagger asks it: the
 * template's query is the render parameters (`target=…`, optionally `from=`), whitespace
 * squeezed; basic auth from the Secret's `username` and `password` when it has a secretRef.
 * The template's `address` is graphite-web's URL; there is no default.
 *
 * - Without `from` in the query, Weir asks for the metric's `interval` (`from=-<n>s`).
 * - A check needs one target with data; its value is the newest non-null point (Flagger: the
 *   newest over every target). Several targets with data are an error; none is no data.
 * - For the judge, every non-null point of every target over the window (Graphite's storage
 *   resolution; `summarize(…, "5s")` sets another).
 * - The probe renders a target that does not exist: an empty answer means graphite-web works.
 */
export class GraphiteProvider extends VendorProvider {
  readonly type = 'graphite';
  protected readonly probeRequest = {
    method: 'GET' as const,
    path: 'render',
    params: { target: 'weir.probe.none', from: '-1min', format: 'json' },
  };

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'Graphite');
  }

  async measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement> {
    const targets = await this.render(query, window?.seconds ?? 60, signal);
    if ('kind' in targets) return targets;
    const withData = targets.map(pointsOf).filter((p) => p.length > 0);
    if (withData.length === 0) return { kind: 'no-data', reason: 'the query returned no points' };
    if (withData.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${withData.length} targets with data; a check needs one: aggregate them (sumSeries, averageSeries …)`,
      };
    return { kind: 'value', value: withData[0]!.at(-1)! };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const targets = await this.render(query, window.seconds, signal);
    if ('kind' in targets) return targets;
    const values = targets.flatMap(pointsOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no points' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 && Array.isArray(answer.body.list);
  }

  protected resetSeconds(answer: Answered): number {
    return Number(answer.headers['retry-after']);
  }

  protected failure(answer: Answered): string {
    const text = typeof answer.body.text === 'string' ? answer.body.text : '';
    const detail = bounded(oneLine(text.replace(/<[^>]*>/g, ' ')), 200);
    return `Graphite answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }

  /** The targets of one render, or why there are none. */
  private async render(
    query: string,
    seconds: number,
    signal: AbortSignal | undefined,
  ): Promise<GraphiteTarget[] | { kind: 'error'; reason: string }> {
    const params = Object.fromEntries(new URLSearchParams(query.replace(/\s+/g, ' ').trim()));
    if (!params.target) return { kind: 'error', reason: 'the query has no target=' };
    params.format = 'json';
    params.from ??= `-${Math.max(1, Math.round(seconds))}s`;
    const answer = await this.query({ method: 'GET', path: 'render', params }, signal);
    if ('kind' in answer) return answer;
    const list = answer.body.list;
    if (!Array.isArray(list))
      return { kind: 'error', reason: 'Graphite answered without a list of targets' };
    return list as GraphiteTarget[];
  }
}

/** The non-null values of a target's `datapoints` (`[[value | null, timestamp], …]`), in order. */
function pointsOf(t: GraphiteTarget): number[] {
  const list = Array.isArray(t.datapoints) ? (t.datapoints as unknown[]) : [];
  const values: number[] = [];
  for (const point of list) {
    const v = Array.isArray(point) ? point[0] : undefined;
    if (typeof v === 'number') values.push(v);
  }
  return values;
}

/** The factory of a controller's Graphite providers (one transport pool, one clock). */
export const graphiteFactory = vendorFactory(
  (config, common, now) => new GraphiteProvider(config, common, now),
);
