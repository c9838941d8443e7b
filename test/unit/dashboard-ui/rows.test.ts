import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CanaryRow, StreamMessage } from '../../../src/dashboard/model.js';
import {
  applyMessage,
  compareDefault,
  defaultListState,
  listSearch,
  matches,
  namespacesOf,
  nextSort,
  orderDescription,
  parseListState,
  parseStreamMessage,
  rowKey,
  sortRows,
  visibleRows,
  type ListState,
} from '../../../src/dashboard/ui/rows.js';
import { compareRows } from '../../../src/dashboard/views.js';

const row = (over: Partial<CanaryRow> & Pick<CanaryRow, 'name'>): CanaryRow => ({
  namespace: 'shop',
  target: `Deployment/${over.name}`,
  phase: 'Succeeded',
  inFlight: false,
  canaryWeight: 0,
  failedChecks: 0,
  threshold: 2,
  images: [],
  ...over,
});

const at = (s: number) => ({
  time: new Date(Date.UTC(2026, 11, 4, 10, 0, s)).toISOString(),
  to: 'Progressing',
});

const rows = [
  row({ name: 'cart', lastTransition: at(10), revision: 'b', images: ['cart:2'] }),
  row({
    name: 'frontend',
    phase: 'Progressing',
    inFlight: true,
    canaryWeight: 25,
    failedChecks: 1,
    lastTransition: at(5),
    images: ['registry.example/frontend:1.0.2'],
  }),
  row({
    namespace: 'ads',
    name: 'banner',
    phase: 'Failed',
    lastTransition: at(30),
    failedChecks: 2,
    message: 'Checks failed: error rate 7 %',
  }),
  row({ namespace: 'ads', name: 'new', phase: 'Initialized' }),
  row({
    name: 'api',
    phase: 'WaitingPromotion',
    inFlight: true,
    canaryWeight: 50,
    lastTransition: at(1),
  }),
];
const names = (list: CanaryRow[]) => list.map(rowKey);

describe('the default order', () => {
  it('puts releases in flight first, then the newest transition, then Canaries without one', () => {
    expect(names(sortRows(rows, defaultListState))).toEqual([
      'shop/frontend',
      'shop/api',
      'ads/banner',
      'shop/cart',
      'ads/new',
    ]);
  });

  it("is the server's order (compareRows in views.ts), which the page cannot bundle", () => {
    const arbRow = fc.record({
      namespace: fc.constantFrom('a', 'b'),
      name: fc.constantFrom('x', 'y', 'z'),
      inFlight: fc.boolean(),
      time: fc.option(fc.integer({ min: 0, max: 5 })),
    });
    fc.assert(
      fc.property(arbRow, arbRow, (a, b) => {
        const toRow = (r: typeof a) =>
          row({
            namespace: r.namespace,
            name: r.name,
            inFlight: r.inFlight,
            ...(r.time === null ? {} : { lastTransition: at(r.time) }),
          });
        expect(Math.sign(compareDefault(toRow(a), toRow(b)))).toBe(
          Math.sign(compareRows(toRow(a), toRow(b))),
        );
      }),
    );
  });
});

describe('sorting by a column', () => {
  it('sorts ascending and descending, ties in the default order', () => {
    expect(names(sortRows(rows, { sort: 'weight', dir: 'desc' }))).toEqual([
      'shop/api',
      'shop/frontend',
      'ads/banner',
      'shop/cart',
      'ads/new',
    ]);
    expect(names(sortRows(rows, { sort: 'name', dir: 'asc' }))).toEqual([
      'ads/banner',
      'ads/new',
      'shop/api',
      'shop/cart',
      'shop/frontend',
    ]);
  });

  it('sorts phases in lifecycle order, not alphabetically', () => {
    expect(sortRows(rows, { sort: 'phase', dir: 'asc' }).map((r) => r.phase)).toEqual([
      'Initialized',
      'Progressing',
      'WaitingPromotion',
      'Succeeded',
      'Failed',
    ]);
  });

  it('sorts failed checks and last transitions', () => {
    expect(names(sortRows(rows, { sort: 'failed', dir: 'desc' })).slice(0, 2)).toEqual([
      'ads/banner',
      'shop/frontend',
    ]);
    expect(names(sortRows(rows, { sort: 'transition', dir: 'asc' }))[0]).toBe('ads/new');
  });

  it('does not sort in place (the live rows stay as they are)', () => {
    const copy = [...rows];
    sortRows(rows, { sort: 'name', dir: 'desc' });
    expect(rows).toEqual(copy);
  });

  it('cycles a header: ascending, descending, then back to the default order', () => {
    let s: Pick<ListState, 'sort' | 'dir'> = { dir: 'asc' };
    s = nextSort(s, 'weight');
    expect(s).toEqual({ sort: 'weight', dir: 'asc' });
    s = nextSort(s, 'weight');
    expect(s).toEqual({ sort: 'weight', dir: 'desc' });
    expect(nextSort(s, 'name')).toEqual({ sort: 'name', dir: 'asc' });
    s = nextSort(s, 'weight');
    expect(s.sort).toBeUndefined();
    expect(orderDescription(s)).toMatch(/in flight first/);
    expect(orderDescription({ sort: 'failed', dir: 'desc' })).toBe(
      'sorted by failed checks, descending',
    );
  });
});

describe('filters', () => {
  const filter = (f: Partial<ListState>) => names(visibleRows(rows, { ...defaultListState, ...f }));

  it('filters by namespace and by phase, or by releases in flight', () => {
    expect(filter({ namespace: 'ads' })).toEqual(['ads/banner', 'ads/new']);
    expect(filter({ phase: 'Failed' })).toEqual(['ads/banner']);
    expect(filter({ phase: 'in-flight' })).toEqual(['shop/frontend', 'shop/api']);
    expect(filter({ namespace: 'ads', phase: 'in-flight' })).toEqual([]);
  });

  it('matches text in names, namespaces, images and messages, ignoring case', () => {
    expect(filter({ q: 'FRONT' })).toEqual(['shop/frontend']);
    expect(filter({ q: 'ads/' })).toEqual(['ads/banner', 'ads/new']);
    expect(filter({ q: 'registry.example' })).toEqual(['shop/frontend']);
    expect(filter({ q: 'error rate' })).toEqual(['ads/banner']);
    expect(filter({ q: '   ' })).toHaveLength(rows.length);
    expect(filter({ q: 'nothing like it' })).toEqual([]);
  });

  it('does not match text the page does not show as searchable (the target)', () => {
    expect(matches(rows[0]!, { ...defaultListState, q: 'Deployment/' })).toBe(false);
  });

  it('offers every namespace once, and keeps a selected one that has no Canary now', () => {
    expect(namespacesOf(rows)).toEqual(['ads', 'shop']);
    expect(namespacesOf(rows, 'gone')).toEqual(['ads', 'gone', 'shop']);
  });
});

describe('the URL keeps the list state', () => {
  it('leaves the defaults out', () => {
    expect(listSearch(defaultListState)).toBe('');
    expect(parseListState('')).toEqual(defaultListState);
  });

  it('round-trips filters and sort', () => {
    const state: ListState = {
      namespace: 'shop',
      phase: 'Failed',
      q: 'a b&c',
      sort: 'weight',
      dir: 'desc',
    };
    const search = listSearch(state);
    expect(search).toBe('?ns=shop&phase=Failed&q=a+b%26c&sort=weight&dir=desc');
    expect(parseListState(search)).toEqual(state);
  });

  it('ignores values it does not know, as a hand-edited link may have', () => {
    expect(parseListState('?phase=Sleeping&sort=colour&dir=desc')).toEqual(defaultListState);
    expect(parseListState('?phase=in-flight').phase).toBe('in-flight');
  });
});

describe('stream messages', () => {
  it('applies a snapshot (replacing every row), upserts and deletes', () => {
    const live = new Map<string, CanaryRow>([
      ['old/gone', row({ namespace: 'old', name: 'gone' })],
    ]);
    expect(applyMessage(live, { type: 'snapshot', rows })).toBe('all');
    expect([...live.keys()].sort()).toEqual(names(rows).sort());
    const moved = { ...rows[0]!, canaryWeight: 10 };
    expect(applyMessage(live, { type: 'upsert', row: moved })).toEqual(new Set(['shop/cart']));
    expect(live.get('shop/cart')?.canaryWeight).toBe(10);
    expect(applyMessage(live, { type: 'delete', namespace: 'shop', name: 'cart' })).toEqual(
      new Set(['shop/cart']),
    );
    expect(live.has('shop/cart')).toBe(false);
    expect(applyMessage(live, { type: 'delete', namespace: 'shop', name: 'cart' })).toEqual(
      new Set(),
    );
  });

  it('changes no row for a detail', () => {
    const live = new Map<string, CanaryRow>();
    const detail = { type: 'detail', detail: { row: rows[0]! } } as unknown as StreamMessage;
    expect(applyMessage(live, detail)).toEqual(new Set());
    expect(live.size).toBe(0);
  });

  it('reads the messages the server sends, and skips anything else', () => {
    const upsert = { type: 'upsert', row: rows[0] };
    expect(parseStreamMessage(JSON.stringify(upsert))).toEqual(upsert);
    expect(parseStreamMessage(JSON.stringify({ type: 'snapshot', rows }))).toMatchObject({
      type: 'snapshot',
    });
    for (const bad of [
      'not json',
      '"text"',
      'null',
      JSON.stringify({ type: 'rename', from: 'a' }),
      JSON.stringify({ type: 'upsert', row: { name: 'no namespace' } }),
      JSON.stringify({ type: 'snapshot', rows: [{}] }),
      JSON.stringify({ type: 'delete', namespace: 'a' }),
      JSON.stringify({ type: 'detail', detail: {} }),
    ])
      expect(parseStreamMessage(bad), bad).toBeUndefined();
  });
});
