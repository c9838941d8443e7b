import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { MeasureWindow, ProviderConfig } from './metric-provider.js';
import type { Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** Where a New Relic template without `provider.address` queries (NerdGraph, US region). */
export const newRelicDefaultAddress = 'https://api.newrelic.com/graphql';
/** The Secret keys of a New Relic template, as Flagger names them. */
export const newRelicSecretKeys = {
  apiKey: 'newrelic_api_key',
  accountId: 'newrelic_account_id',
} as const;

/** NerdGraph's NRQL query, with the account and the NRQL as variables (never spliced in). */
const nrqlQuery =
  'query ($account: Int!, $nrql: Nrql!) { actor { account(id: $account) { nrql(query: $nrql) { results } } } }';
/** The probe: who the key belongs to. */
const whoAmI = '{ actor { user { name } } }';

/**
 * New Relic's NerdGraph API (`POST /graphql`, documented at
 * https://docs.newrelic.com/docs/apis/nerdgraph/examples/nerdgraph-nrql-tutorial/), with the
 * user key in `Api-Key`: Secret keys `newrelic_api_key` and `newrelic_account_id`, as Flagger's
 * NerdGraph provider (the older Insights query API is retired). The template's query is NRQL
 * without a time range: Weir adds `SINCE <interval> SECONDS AGO` (and, for the judge,
 * `TIMESERIES <step> SECONDS`).
 *
 * - A check needs one result row with one number (a `FACET` or `TIMESERIES` that yields
 *   several rows is an error); a `null` is no data.
 * - GraphQL errors come with HTTP 200: they are the query's failure, named.
 * - HTTP 429: nothing is sent until `Retry-After` (seconds) has passed, at most 10 minutes.
 * - The probe asks NerdGraph whose key it is.
 */
export class NewRelicProvider extends VendorProvider {
  readonly type = 'newrelic';
  protected readonly probeRequest = {
    method: 'POST' as const,
    path: '',
    json: { query: whoAmI },
  };
  private readonly account: number;

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'New Relic');
    this.account = Number(config.settings?.accountId ?? NaN);
  }

  async measure(query: string, signal?: AbortSignal, window?: MeasureWindow): Promise<Measurement> {
    const rows = await this.rows(`${query} SINCE ${seconds(window?.seconds)} SECONDS AGO`, signal);
    if ('kind' in rows) return rows;
    if (rows.length === 0) return { kind: 'no-data', reason: 'the query returned no rows' };
    if (rows.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${rows.length} rows; a check needs one: remove FACET or TIMESERIES`,
      };
    const numbers = numbersOf(rows[0]);
    if (numbers.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${numbers.length} numbers in its row; a check needs one: select one value`,
      };
    if (numbers.length === 0) return { kind: 'no-data', reason: 'the row has no number' };
    return { kind: 'value', value: numbers[0]! };
  }

  async samples(query: string, window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const nrql = `${query} SINCE ${seconds(window.seconds)} SECONDS AGO TIMESERIES ${window.stepSeconds} SECONDS`;
    const rows = await this.rows(nrql, signal);
    if ('kind' in rows) return rows;
    const values = rows.flatMap(numbersOf);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no values' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 && !errorsOf(answer);
  }

  protected resetSeconds(answer: Answered): number {
    return Number(answer.headers['retry-after']);
  }

  /** What an unsuccessful answer says: GraphQL `errors`, or the HTTP status. */
  protected failure(answer: Answered): string {
    const said = errorsOf(answer) ?? (typeof answer.body.text === 'string' ? answer.body.text : '');
    const detail = bounded(oneLine(said), 200);
    if (answer.status === 200) return `New Relic refused the query: ${detail}`;
    return `New Relic answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }

  /** The result rows of one NRQL query, or why there are none. */
  private async rows(
    nrql: string,
    signal: AbortSignal | undefined,
  ): Promise<unknown[] | { kind: 'error'; reason: string }> {
    if (!Number.isSafeInteger(this.account))
      return { kind: 'error', reason: 'New Relic: no account id (newrelic_account_id)' };
    const answer = await this.query(
      {
        method: 'POST',
        path: '',
        json: { query: nrqlQuery, variables: { account: this.account, nrql } },
      },
      signal,
    );
    if ('kind' in answer) return answer;
    if (errorsOf(answer)) return { kind: 'error', reason: this.failure(answer) };
    const data = answer.body.data as
      { actor?: { account?: { nrql?: { results?: unknown } } } } | undefined;
    const results = data?.actor?.account?.nrql?.results;
    if (!Array.isArray(results))
      return { kind: 'error', reason: 'New Relic answered without NRQL results' };
    return results;
  }
}

/** The GraphQL errors of an answer, joined, or undefined when there are none. */
function errorsOf(answer: Answered): string | undefined {
  const errors = answer.body.errors;
  if (!Array.isArray(errors) || errors.length === 0) return undefined;
  return errors
    .map((e: { message?: unknown }) => (typeof e?.message === 'string' ? e.message : 'error'))
    .join('; ');
}

/** The numbers of a result row (its fields other than time stamps), in order. */
function numbersOf(row: unknown): number[] {
  if (typeof row !== 'object' || row === null) return [];
  return Object.entries(row)
    .filter(([k, v]) => typeof v === 'number' && k !== 'beginTimeSeconds' && k !== 'endTimeSeconds')
    .map(([, v]) => v as number);
}

/** A window in whole seconds, at least one. */
const seconds = (s: number | undefined) => Math.max(1, Math.round(s ?? 60));

/** The factory of a controller's New Relic providers (one transport pool, one clock). */
export const newRelicFactory = vendorFactory(
  (config, common, now) => new NewRelicProvider(config, common, now),
);
