/**
 * The list page's data, decided purely: the rows the stream keeps current, the filters
 * and the sort (both kept in the URL's query, so a link keeps them), and the order the
 * table shows. No DOM: list.ts draws what these return.
 */
import type { CanaryRow, StreamMessage } from '../model.js';
import { phases, type Phase } from './format.js';

/** A Canary's key: `namespace/name`. */
export const rowKey = (r: { namespace: string; name: string }): string =>
  `${r.namespace}/${r.name}`;

/**
 * Applies one stream message to the rows (keyed by {@link rowKey}) and returns the keys it
 * changed, or `all` for a snapshot, which replaces them (a reconnection's snapshot drops
 * the Canaries deleted meanwhile). A detail changes no row.
 */
export function applyMessage(rows: Map<string, CanaryRow>, m: StreamMessage): Set<string> | 'all' {
  switch (m.type) {
    case 'snapshot':
      rows.clear();
      for (const row of m.rows) rows.set(rowKey(row), row);
      return 'all';
    case 'upsert':
      rows.set(rowKey(m.row), m.row);
      return new Set([rowKey(m.row)]);
    case 'delete':
      return rows.delete(rowKey(m)) ? new Set([rowKey(m)]) : new Set();
    default:
      return new Set();
  }
}

/** The columns the table sorts by. */
export const sortKeys = [
  'name',
  'phase',
  'weight',
  'revision',
  'images',
  'failed',
  'transition',
] as const;
export type SortKey = (typeof sortKeys)[number];

/** The phase filter: every phase, releases in flight, or one phase. */
export type PhaseFilter = '' | 'in-flight' | Phase;

/** What the list shows: filters and sort. Defaults are empty (and left out of the URL). */
export interface ListState {
  namespace: string;
  phase: PhaseFilter;
  /** Free text, matched against names, namespaces, images and messages. */
  q: string;
  /** Undefined: the default order (releases in flight first, then the newest transition). */
  sort?: SortKey;
  dir: 'asc' | 'desc';
}

export const defaultListState: ListState = { namespace: '', phase: '', q: '', dir: 'asc' };

const transitionTime = (r: CanaryRow) =>
  r.lastTransition ? Date.parse(r.lastTransition.time) || 0 : -1;
const byName = (a: CanaryRow, b: CanaryRow) =>
  a.namespace.localeCompare(b.namespace) || a.name.localeCompare(b.name);

/**
 * The default order, the server's (compareRows in src/dashboard/views.ts, which the page
 * cannot bundle): releases in flight first, then the newest transition first, Canaries
 * without one last, then namespace and name, so the order is stable.
 */
export function compareDefault(a: CanaryRow, b: CanaryRow): number {
  if (a.inFlight !== b.inFlight) return a.inFlight ? -1 : 1;
  return transitionTime(b) - transitionTime(a) || byName(a, b);
}

const phaseRank = (p: string) => {
  const i = phases.indexOf(p as Phase);
  return i < 0 ? phases.length : i;
};

const columns: Record<SortKey, (a: CanaryRow, b: CanaryRow) => number> = {
  name: byName,
  phase: (a, b) => phaseRank(a.phase) - phaseRank(b.phase),
  weight: (a, b) => a.canaryWeight - b.canaryWeight,
  revision: (a, b) => (a.revision ?? '').localeCompare(b.revision ?? ''),
  images: (a, b) => a.images.join(' ').localeCompare(b.images.join(' ')),
  failed: (a, b) => a.failedChecks - b.failedChecks || a.threshold - b.threshold,
  transition: (a, b) => transitionTime(a) - transitionTime(b),
};

/** The rows in the order `state` asks for; ties fall back to the default order. */
export function sortRows(rows: readonly CanaryRow[], state: Pick<ListState, 'sort' | 'dir'>) {
  const { sort } = state;
  if (!sort) return [...rows].sort(compareDefault);
  const sign = state.dir === 'desc' ? -1 : 1;
  return [...rows].sort((a, b) => sign * columns[sort](a, b) || compareDefault(a, b));
}

/** Whether a row passes the filters. Text matches case-insensitively, anywhere. */
export function matches(row: CanaryRow, state: Pick<ListState, 'namespace' | 'phase' | 'q'>) {
  if (state.namespace && row.namespace !== state.namespace) return false;
  if (state.phase === 'in-flight' && !row.inFlight) return false;
  if (state.phase && state.phase !== 'in-flight' && row.phase !== state.phase) return false;
  const q = state.q.trim().toLowerCase();
  if (!q) return true;
  const haystack = [rowKey(row), ...row.images, row.message ?? ''];
  return haystack.some((s) => s.toLowerCase().includes(q));
}

/** The rows the table shows, in order. */
export const visibleRows = (rows: Iterable<CanaryRow>, state: ListState): CanaryRow[] =>
  sortRows(
    [...rows].filter((r) => matches(r, state)),
    state,
  );

/** The namespaces of the rows, sorted, with `keep` (a selected one that has none now). */
export function namespacesOf(rows: Iterable<CanaryRow>, keep = ''): string[] {
  const all = new Set([...rows].map((r) => r.namespace));
  if (keep) all.add(keep);
  return [...all].sort();
}

/** The sort after a click on `key`'s header: ascending, then descending, then the default. */
export function nextSort(
  state: Pick<ListState, 'sort' | 'dir'>,
  key: SortKey,
): Pick<ListState, 'sort' | 'dir'> {
  if (state.sort !== key) return { sort: key, dir: 'asc' };
  return state.dir === 'asc' ? { sort: key, dir: 'desc' } : { sort: undefined, dir: 'asc' };
}

const phaseFilters: readonly string[] = ['', 'in-flight', ...phases];

/** The list state a URL query holds (`?ns=shop&phase=Failed&q=api&sort=weight&dir=desc`). */
export function parseListState(search: string): ListState {
  const p = new URLSearchParams(search);
  const phase = p.get('phase') ?? '';
  const sort = p.get('sort') ?? '';
  const state: ListState = {
    namespace: p.get('ns') ?? '',
    phase: (phaseFilters.includes(phase) ? phase : '') as PhaseFilter,
    q: p.get('q') ?? '',
    dir: p.get('dir') === 'desc' ? 'desc' : 'asc',
  };
  if ((sortKeys as readonly string[]).includes(sort)) state.sort = sort as SortKey;
  else state.dir = 'asc';
  return state;
}

/** The URL query of a list state, `?…`, without its defaults; empty for the default state. */
export function listSearch(state: ListState): string {
  const p = new URLSearchParams();
  if (state.namespace) p.set('ns', state.namespace);
  if (state.phase) p.set('phase', state.phase);
  if (state.q) p.set('q', state.q);
  if (state.sort) {
    p.set('sort', state.sort);
    if (state.dir === 'desc') p.set('dir', 'desc');
  }
  const s = p.toString();
  return s ? `?${s}` : '';
}

/** What the table's caption says about its order. */
export function orderDescription(state: Pick<ListState, 'sort' | 'dir'>): string {
  if (!state.sort) return 'releases in flight first, then by last transition, newest first';
  const names: Record<SortKey, string> = {
    name: 'name',
    phase: 'phase',
    weight: 'weight',
    revision: 'revision',
    images: 'images',
    failed: 'failed checks',
    transition: 'last transition',
  };
  return `sorted by ${names[state.sort]}, ${state.dir === 'asc' ? 'ascending' : 'descending'}`;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isRow = (v: unknown): v is CanaryRow =>
  isObject(v) && typeof v.namespace === 'string' && typeof v.name === 'string';

/**
 * A stream message from an event's data, or undefined for one this page cannot use
 * (not JSON, an unknown type from a newer server, or the wrong shape): it is skipped.
 */
export function parseStreamMessage(data: string): StreamMessage | undefined {
  let m: unknown;
  try {
    m = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(m)) return undefined;
  switch (m.type) {
    case 'snapshot':
      return Array.isArray(m.rows) && m.rows.every(isRow) ? (m as StreamMessage) : undefined;
    case 'upsert':
      return isRow(m.row) ? (m as StreamMessage) : undefined;
    case 'delete':
      return typeof m.namespace === 'string' && typeof m.name === 'string'
        ? (m as StreamMessage)
        : undefined;
    case 'detail':
      return isObject(m.detail) && isRow(m.detail.row) ? (m as StreamMessage) : undefined;
    default:
      return undefined;
  }
}
