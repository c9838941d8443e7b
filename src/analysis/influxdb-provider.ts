import { parse } from 'csv-parse/sync';
import type { Measurement, SampleWindow, Samples } from '../contracts/measurement.js';
import { bounded, oneLine } from '../util/text.js';
import type { ProviderConfig } from './metric-provider.js';
import { reasonLimit, type ProviderRequest, type Shared } from './provider-transport.js';
import { VendorProvider, vendorFactory, type Answered } from './vendor-provider.js';

/** The Secret keys of an influxdb template, as Flagger names them. */
export const influxdbSecretKeys = { token: 'token', org: 'org' } as const;

/** Pause after a 429 that names no Retry-After. */
const defaultRetrySeconds = 30;

/** One table of a Flux answer: its `_value`s in the order given (time ascending). */
interface FluxTable {
  id: string;
  values: number[];
}

/**
 * InfluxDB's Flux query API (`POST /api/v2/query`, documented at
 * https://docs.influxdata.com/influxdb/v2/api/#operation/PostQuery; InfluxDB 1.8+ serves it
 * with `flux-enabled`), as Flagger asks it: the template's query is Flux, `token` and `org`
 * come from the Secret (`Authorization: Token <token>`; on 1.8, `user:password`), and the
 * template's `address` is required.
 *
 * - The answer is CSV (without annotations), one block per table; Weir reads `_value`.
 * - Flux carries the window: `range(start: -{{ interval }})`.
 * - A check needs one table with values; its value is the table's last row (Flux sorts by
 *   time; `last()`, `mean()` leave one). Several tables are an error (`group()` them);
 *   none is no data. Flagger reads the first row of the first table.
 * - An error Flux reports inside a 200 answer (an `error` table) is an error.
 * - For the judge, every `_value` of every table.
 * - HTTP 429 (InfluxDB Cloud) pauses the provider for its Retry-After (30 s without one).
 * - The probe lists one bucket (`buckets() |> limit(n: 1)`), which needs the token and org.
 */
export class InfluxdbProvider extends VendorProvider {
  readonly type = 'influxdb';
  protected readonly probeRequest: ProviderRequest;
  private readonly org: string | undefined;

  constructor(config: ProviderConfig, common: Shared, now: () => number) {
    super(config, common, now, 'InfluxDB');
    this.org = config.settings?.org;
    this.probeRequest = this.request('buckets() |> limit(n: 1)');
  }

  async measure(query: string, signal?: AbortSignal): Promise<Measurement> {
    const tables = await this.tables(query, signal);
    if ('kind' in tables) return tables;
    const withValues = tables.filter((t) => t.values.length > 0);
    if (withValues.length === 0) return { kind: 'no-data', reason: 'the query returned no values' };
    if (withValues.length > 1)
      return {
        kind: 'error',
        reason: `the query returned ${withValues.length} tables; a check needs one: group() them or filter`,
      };
    return { kind: 'value', value: withValues[0]!.values.at(-1)! };
  }

  async samples(query: string, _window: SampleWindow, signal?: AbortSignal): Promise<Samples> {
    const tables = await this.tables(query, signal);
    if ('kind' in tables) return tables;
    const values = tables.flatMap((t) => t.values);
    if (values.length === 0) return { kind: 'no-data', reason: 'the query returned no values' };
    return { kind: 'samples', values };
  }

  protected probeAnswered(answer: Answered): boolean {
    return answer.status === 200 && !('error' in readTables(String(answer.body.text ?? ''), false));
  }

  protected resetSeconds(answer: Answered): number {
    const after = Number(answer.headers['retry-after']);
    return Number.isFinite(after) && after > 0 ? after : defaultRetrySeconds;
  }

  private request(query: string): ProviderRequest {
    return {
      method: 'POST',
      path: 'api/v2/query',
      ...(this.org ? { params: { org: this.org } } : {}),
      json: { query, type: 'flux', dialect: { header: true, annotations: [], delimiter: ',' } },
      headers: { Accept: 'application/csv', 'Content-Type': 'application/json' },
      text: true,
    };
  }

  private async tables(
    query: string,
    signal: AbortSignal | undefined,
  ): Promise<FluxTable[] | { kind: 'error'; reason: string }> {
    const answer = await this.query(this.request(query), signal);
    if ('kind' in answer) return answer;
    const tables = readTables(String(answer.body.text ?? ''));
    if ('error' in tables)
      return { kind: 'error', reason: bounded(`InfluxDB: ${tables.error}`, reasonLimit) };
    return tables;
  }

  /** What an unsuccessful answer says: InfluxDB answers JSON, `error` (1.x) or `message` (2.x). */
  protected failure(answer: Answered): string {
    const text = String(answer.body.text ?? '');
    let said: string;
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      said = [body.code, body.message ?? body.error]
        .filter((x) => typeof x === 'string')
        .join(': ');
    } catch {
      said = text;
    }
    const detail = bounded(oneLine(said), 200);
    return `InfluxDB answered HTTP ${answer.status}${detail ? `: ${detail}` : ''}`;
  }
}

/**
 * The tables of a Flux CSV answer without annotations: blocks separated by an empty line,
 * each starting with its header row; rows carry `result`, `table` and `_value` (required
 * unless `needValues` is false). An `error` block is Flux's way of failing within a 200 answer.
 */
export function readTables(csv: string, needValues = true): FluxTable[] | { error: string } {
  let rows: string[][];
  try {
    rows = parse(csv, { relax_column_count: true, skip_empty_lines: false }) as string[][];
  } catch (err) {
    return { error: `the answer is not CSV: ${(err as Error).message}` };
  }
  const tables = new Map<string, FluxTable>();
  let header: string[] | undefined;
  for (const row of rows) {
    if (row.length <= 1 && (row[0] ?? '') === '') {
      header = undefined; // the line between two blocks
      continue;
    }
    if (!header) {
      header = row;
      continue;
    }
    const at = (name: string) => {
      const i = header!.indexOf(name);
      return i >= 0 ? (row[i] ?? '') : undefined;
    };
    if (header.includes('error') && !header.includes('_value'))
      return { error: oneLine(at('error') ?? 'an error without a message') };
    const raw = at('_value');
    if (raw === undefined && !needValues) continue;
    if (raw === undefined)
      return { error: 'a table has no _value column: keep _value (or rename the column to it)' };
    const id = `${at('result') ?? ''}/${at('table') ?? ''}`;
    let table = tables.get(id);
    if (!table) tables.set(id, (table = { id, values: [] }));
    const v = raw === '' ? NaN : Number(raw);
    if (!Number.isNaN(v)) table.values.push(v);
  }
  return [...tables.values()];
}

/** The factory of a controller's InfluxDB providers (one transport pool, one clock). */
export const influxdbFactory = vendorFactory(
  (config, common, now) => new InfluxdbProvider(config, common, now),
);
