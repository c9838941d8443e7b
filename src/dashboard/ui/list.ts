/**
 * The list page: every Canary in a table that sorts and filters, updated in place as the
 * stream changes rows. A row is a `<tr>` kept per Canary; a change rewrites only its cells
 * that changed and moves it only when its place changed, so focus and the reader's place
 * survive live updates. Decisions are in rows.ts; this file draws them.
 */
import type { CanaryRow } from '../model.js';
import { age, h, moveBefore, nodes, rebuild, setText, type Child } from './dom.js';
import { formatDateTime, phases } from './format.js';
import { canaryHref } from './route.js';
import {
  listSearch,
  namespacesOf,
  nextSort,
  orderDescription,
  parseListState,
  rowKey,
  visibleRows,
  type ListState,
  type SortKey,
} from './rows.js';
import type { Page, PageContext } from './page.js';
import { phaseLabel, weightBar } from './widgets.js';

interface Column {
  key: SortKey;
  label: string;
  /** What the cell shows (its content is rebuilt only when this changes). */
  shows: (r: CanaryRow) => unknown;
  cell: (r: CanaryRow, now: number) => Child[];
}

const columns: Column[] = [
  {
    key: 'name',
    label: 'Canary',
    shows: (r) => r.target,
    cell: (r) => [
      h(
        'a',
        { href: canaryHref(r.namespace, r.name), 'data-focus': `row:${rowKey(r)}` },
        h('span', { class: 'ns' }, `${r.namespace}/`),
        r.name,
      ),
      h('div', { class: 'sub' }, r.target),
    ],
  },
  {
    key: 'phase',
    label: 'Phase',
    shows: (r) => [r.phase, r.reason, r.message],
    cell: (r) => [
      phaseLabel(r.phase),
      r.reason || r.message
        ? h('div', { class: 'sub clamp' }, [r.reason, r.message].filter(Boolean).join(': '))
        : null,
    ],
  },
  {
    key: 'weight',
    label: 'Weight',
    shows: (r) => r.canaryWeight,
    cell: (r) => [h('span', { class: 'num' }, `${r.canaryWeight} %`), weightBar(r.canaryWeight)],
  },
  {
    key: 'revision',
    label: 'Revision',
    shows: (r) => r.revision,
    cell: (r) => [r.revision ? h('code', {}, r.revision) : '–'],
  },
  {
    key: 'images',
    label: 'Images',
    shows: (r) => r.images,
    cell: (r) =>
      r.images.length === 0 ? ['–'] : r.images.map((i) => h('code', { class: 'image' }, i)),
  },
  {
    key: 'failed',
    label: 'Failed checks',
    shows: (r) => [r.failedChecks, r.threshold],
    cell: (r) => [
      h(
        'span',
        { class: r.failedChecks > 0 ? 'num failing' : 'num' },
        r.failedChecks > 0 ? h('span', { class: 'glyph', 'aria-hidden': 'true' }, '✖ ') : null,
        `${r.failedChecks}/${r.threshold}`,
      ),
    ],
  },
  {
    key: 'transition',
    label: 'Last transition',
    shows: (r) => r.lastTransition,
    cell: (r, now) => {
      const t = r.lastTransition;
      if (!t) return ['–'];
      return [
        h('div', {}, t.reason && t.reason !== t.to ? `${t.to} · ${t.reason}` : t.to),
        h('div', { class: 'sub' }, age(t.time, now) ?? formatDateTime(t.time)),
      ];
    },
  },
];

interface RowView {
  tr: HTMLTableRowElement;
  cells: HTMLTableCellElement[];
  shown: string[];
}

/** The list page, drawn into `ctx.main`. */
export function listPage(ctx: PageContext): Page {
  const { main, rows } = ctx;
  let state: ListState = parseListState(location.search);
  const views = new Map<string, RowView>();

  const nsSelect = h('select', { id: 'filter-namespace' });
  const phaseSelect = h(
    'select',
    { id: 'filter-phase' },
    h('option', { value: '' }, 'All phases'),
    h('option', { value: 'in-flight' }, 'In flight'),
    ...phases.map((p) => h('option', { value: p }, p)),
  );
  const search = h('input', {
    id: 'filter-text',
    type: 'search',
    placeholder: 'name, namespace, image, message',
    autocomplete: 'off',
    spellcheck: 'false',
  });
  const count = h('p', { class: 'count', 'aria-live': 'polite' });
  const caption = h('caption');
  const headers = columns.map((c) =>
    h(
      'th',
      { scope: 'col' },
      h(
        'button',
        { type: 'button', class: 'sort', 'data-sort': c.key },
        c.label,
        h('span', { class: 'sort-mark', 'aria-hidden': 'true' }),
      ),
    ),
  );
  const tbody = h('tbody');
  const table = h(
    'table',
    { class: 'canaries', tabindex: '-1' },
    caption,
    h('thead', {}, h('tr', {}, ...headers)),
    tbody,
  );
  const empty = h('p', { class: 'empty', hidden: true });
  const form = h(
    'form',
    { class: 'filters', role: 'search', 'aria-label': 'Filter Canaries' },
    h('label', { for: 'filter-namespace' }, 'Namespace'),
    nsSelect,
    h('label', { for: 'filter-phase' }, 'Phase'),
    phaseSelect,
    h('label', { for: 'filter-text' }, 'Search'),
    search,
  );
  phaseSelect.value = state.phase;
  search.value = state.q;
  rebuild(main, [
    h('h1', { tabindex: '-1' }, 'Canaries'),
    form,
    count,
    h('div', { class: 'table-scroll' }, table),
    empty,
  ]);

  const setState = (next: Partial<ListState>) => {
    state = { ...state, ...next };
    history.replaceState(history.state, '', `/${listSearch(state)}`);
    ctx.rememberListSearch(listSearch(state));
    draw();
  };
  form.addEventListener('submit', (e) => e.preventDefault());
  nsSelect.addEventListener('change', () => setState({ namespace: nsSelect.value }));
  phaseSelect.addEventListener('change', () =>
    setState({ phase: phaseSelect.value as ListState['phase'] }),
  );
  search.addEventListener('input', () => setState({ q: search.value }));
  for (const th of headers)
    th.querySelector('button')!.addEventListener('click', (e) => {
      const key = (e.currentTarget as HTMLElement).getAttribute('data-sort') as SortKey;
      setState(nextSort(state, key));
    });

  /** Rewrites the cells of one row whose content changed; creates the row when new. */
  const update = (row: CanaryRow) => {
    const key = rowKey(row);
    let view = views.get(key);
    if (!view) {
      const cells = columns.map((_, i) =>
        i === 0 ? h('th', { scope: 'row' }) : h('td', { class: `col-${columns[i]!.key}` }),
      );
      view = { tr: h('tr', { 'data-key': key }, ...cells), cells, shown: cells.map(() => '') };
      views.set(key, view);
    }
    const now = ctx.now();
    columns.forEach((c, i) => {
      const shown = JSON.stringify(c.shows(row) ?? null);
      if (view.shown[i] === shown) return;
      view.shown[i] = shown;
      view.cells[i]!.replaceChildren(...nodes(c.cell(row, now)));
    });
  };

  const drawNamespaces = () => {
    const names = namespacesOf(rows.values(), state.namespace);
    const have = [...nsSelect.options].slice(1).map((o) => o.value);
    if (have.join('\n') !== names.join('\n'))
      nsSelect.replaceChildren(
        h('option', { value: '' }, 'All namespaces'),
        ...names.map((n) => h('option', { value: n }, n)),
      );
    nsSelect.value = state.namespace;
  };

  const drawHeaders = () => {
    setText(caption, `Canaries: ${orderDescription(state)}`);
    columns.forEach((c, i) => {
      const sorted = state.sort === c.key;
      if (sorted)
        headers[i]!.setAttribute('aria-sort', state.dir === 'asc' ? 'ascending' : 'descending');
      else headers[i]!.removeAttribute('aria-sort');
      setText(
        headers[i]!.querySelector('.sort-mark')!,
        sorted ? (state.dir === 'asc' ? ' ▲' : ' ▼') : '',
      );
    });
  };

  /** Puts the visible rows in order, moving only those out of place; hides the others. */
  const order = () => {
    const shown = visibleRows(rows.values(), state);
    const wanted = new Set(shown.map(rowKey));
    const active = document.activeElement;
    for (const tr of [...tbody.rows])
      if (!wanted.has(tr.getAttribute('data-key') ?? '')) {
        // A row leaving under the keyboard's focus hands focus to the table, not to nothing.
        if (active && tr.contains(active)) table.focus({ preventScroll: true });
        tr.remove();
      }
    let ref: Element | null = tbody.firstElementChild;
    for (const row of shown) {
      const tr = views.get(rowKey(row))!.tr;
      if (tr === ref) ref = ref.nextElementSibling;
      else moveBefore(tbody, tr, ref);
    }
    setText(count, `Showing ${shown.length} of ${rows.size} Canaries`);
    empty.hidden = shown.length > 0 || !ctx.loaded();
    setText(
      empty,
      rows.size === 0
        ? 'No Canaries in the namespaces this dashboard watches.'
        : 'No Canary matches these filters.',
    );
    if (!ctx.loaded()) setText(count, 'Waiting for the first update from the dashboard…');
  };

  const draw = () => {
    drawNamespaces();
    drawHeaders();
    order();
  };

  for (const row of rows.values()) update(row);
  draw();
  document.title = 'Canaries · Weir';

  return {
    apply(changed) {
      if (changed === 'all') {
        for (const key of [...views.keys()]) if (!rows.has(key)) views.delete(key);
        for (const row of rows.values()) update(row);
      } else {
        for (const key of changed) {
          const row = rows.get(key);
          if (row) update(row);
          else views.delete(key);
        }
      }
      draw();
    },
    dispose() {},
  };
}
