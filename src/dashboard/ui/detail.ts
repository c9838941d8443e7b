/**
 * The detail page of one Canary: its state, declared against running images, the
 * actions, the current release (timeline, charts, webhooks), earlier releases and recent
 * Events. Each section is redrawn only when its own data changed, keeping focus and open
 * `<details>` (dom.ts `rebuild`); the actions are drawn once and updated in place.
 */
import type { CanaryDetail, ReleaseView, TransitionView } from '../model.js';
import { actionsPanel } from './actions.js';
import { metricFigure, metricLegend, weightFigure } from './charts.js';
import { compareImages, releaseState, webhookHistories } from './detail-data.js';
import { age, h, rebuild, setText, type Child } from './dom.js';
import { formatClock, formatDateTime } from './format.js';
import type { Page, PageContext } from './page.js';
import { rowKey } from './rows.js';
import { checkCount, metricSeries, weightSamples } from './series.js';
import { phaseLabel, weightBar } from './widgets.js';

/** A `<dl>` entry. */
const entry = (term: string, ...value: Child[]) => [h('dt', {}, term), h('dd', {}, ...value)];

const when = (iso: string | undefined) =>
  iso ? h('time', { datetime: iso }, formatDateTime(iso)) : '–';

function summary(d: CanaryDetail, now: number): Node[] {
  const r = d.row;
  const t = r.lastTransition;
  const replicas =
    d.running.replicas === undefined
      ? '–'
      : `${d.running.readyReplicas ?? 0} of ${d.running.replicas} ready`;
  return [
    h(
      'dl',
      { class: 'facts' },
      ...entry(
        'Phase',
        phaseLabel(r.phase),
        r.reason || r.message
          ? h('div', { class: 'sub' }, [r.reason, r.message].filter(Boolean).join(': '))
          : null,
      ),
      ...entry(
        'Weight',
        h('span', { class: 'num' }, `${r.canaryWeight} %`),
        weightBar(r.canaryWeight),
      ),
      ...entry('Failed checks', `${r.failedChecks} of threshold ${r.threshold}`),
      ...entry('Revision', r.revision ? h('code', {}, r.revision) : '–'),
      ...entry('Target', r.target),
      ...entry('Primary replicas', replicas),
      ...entry(
        'Last transition',
        t ? `${t.to}${t.reason && t.reason !== t.to ? ` · ${t.reason}` : ''} ` : '–',
        t ? age(t.time, now) : null,
      ),
    ),
  ];
}

function images(d: CanaryDetail): Node[] {
  const { pairs, differs } = compareImages(d.declared.images, d.running.images);
  return [
    h('h2', { id: 'images-title' }, 'Images: declared in Git, running in the primary'),
    h(
      'p',
      { class: differs ? 'differs' : 'same' },
      h('span', { class: 'glyph', 'aria-hidden': 'true' }, differs ? '≠ ' : '= '),
      differs
        ? 'Differs: the primary does not run what Git declares (a release is due, in flight, or failed).'
        : 'Same: the primary runs what Git declares.',
    ),
    h(
      'table',
      { class: 'images' },
      h('caption', { class: 'visually-hidden' }, 'Images per container'),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          h('th', { scope: 'col' }, 'Container'),
          h('th', { scope: 'col' }, 'Declared (Git)'),
          h('th', { scope: 'col' }, 'Running (primary)'),
          h('th', { scope: 'col' }, 'Compared'),
        ),
      ),
      h(
        'tbody',
        {},
        ...pairs.map((p, i) =>
          h(
            'tr',
            { class: p.differs ? 'differs' : '' },
            h('th', { scope: 'row' }, `#${i + 1}`),
            h('td', {}, p.declared ? h('code', {}, p.declared) : 'none'),
            h('td', {}, p.running ? h('code', {}, p.running) : 'none'),
            h('td', {}, p.differs ? '≠ differs' : '= same'),
          ),
        ),
      ),
    ),
  ];
}

/** One transition as a timeline entry. */
function transitionItem(t: TransitionView): HTMLElement {
  return h(
    'li',
    {},
    h(
      'div',
      { class: 'when' },
      h('time', { datetime: t.time, title: formatDateTime(t.time) }, formatClock(t.time)),
    ),
    h(
      'div',
      { class: 'what' },
      h('span', { class: 'change' }, t.from ? `${t.from} → ${t.to}` : `→ ${t.to}`),
      ' ',
      h('span', { class: 'event' }, t.event),
      t.reason && t.reason !== t.event ? h('span', { class: 'reason' }, ` · ${t.reason}`) : null,
      t.weight === undefined ? null : h('span', { class: 'num' }, ` · weight ${t.weight} %`),
      t.failedChecks ? h('span', { class: 'num' }, ` · failed checks ${t.failedChecks}`) : null,
      t.message ? h('p', { class: 'message' }, t.message) : null,
    ),
  );
}

const timeline = (release: ReleaseView) =>
  release.transitions.length === 0
    ? h('p', { class: 'sub' }, 'No transition recorded yet.')
    : h(
        'ol',
        { class: 'timeline', 'aria-label': `Transitions of ${release.name}` },
        ...release.transitions.map(transitionItem),
      );

const releaseFacts = (r: ReleaseView) =>
  h(
    'dl',
    { class: 'facts' },
    ...entry('Result', releaseState(r)),
    ...entry('Revision', h('code', {}, r.revision)),
    ...entry('Started', when(r.startTime)),
    ...entry('Ended', when(r.endTime)),
    ...entry('Images from', ...imageList(r.images.from)),
    ...entry('Images to', ...imageList(r.images.to)),
  );

const imageList = (list: string[]) =>
  list.length === 0 ? ['–'] : list.map((i) => h('code', { class: 'image' }, i));

function currentRelease(d: CanaryDetail, now: number): Node[] {
  const release = d.releases[0];
  if (!release) return [h('h2', {}, 'Release'), h('p', { class: 'sub' }, 'No release yet.')];
  const end = release.endTime ? Date.parse(release.endTime) || now : now;
  const series = metricSeries(release.transitions);
  const checks = checkCount(release.transitions);
  return [
    h('h2', {}, `${d.row.inFlight ? 'Current release' : 'Last release'}: ${release.name}`),
    releaseFacts(release),
    h('h3', {}, 'Timeline'),
    timeline(release),
    h('h3', {}, 'Weight'),
    weightFigure(weightSamples(release.transitions), end, release.name),
    h('h3', {}, 'Metrics'),
    ...(series.length === 0
      ? [h('p', { class: 'sub' }, 'No metric checked yet.')]
      : [metricLegend(), ...series.map((x) => metricFigure(x, checks, release.name))]),
    ...webhooks(release),
  ];
}

function webhooks(release: ReleaseView): Node[] {
  const histories = webhookHistories(release.transitions);
  const answer = (a: (typeof histories)[number]['answers'][number]) =>
    h(
      'div',
      { class: 'answer-item' },
      h(
        'p',
        {},
        h(
          'span',
          { class: a.passed ? 'tone-good' : 'tone-bad' },
          h('span', { class: 'glyph', 'aria-hidden': 'true' }, a.passed ? '✔ ' : '✖ '),
          a.passed ? 'passed' : 'failed',
        ),
        a.statusCode === undefined ? ' · no status code' : ` · status ${a.statusCode}`,
        ' · ',
        h('time', { datetime: a.time, title: formatDateTime(a.time) }, formatClock(a.time)),
      ),
      a.error ? h('p', { class: 'message' }, `Error: ${a.error}`) : null,
      a.body ? h('pre', { class: 'body' }, a.body) : null,
    );
  return [
    h('h3', {}, 'Webhooks and gates'),
    histories.length === 0
      ? h('p', { class: 'sub' }, 'None called in this release.')
      : h(
          'ul',
          { class: 'webhooks' },
          ...histories.map((w) => {
            const [latest, ...earlier] = w.answers;
            return h(
              'li',
              {},
              h('h4', {}, w.name, h('span', { class: 'sub' }, ` (${w.type})`)),
              latest ? answer(latest) : null,
              earlier.length === 0
                ? null
                : h(
                    'details',
                    { 'data-key': `${release.name}:hook:${w.type}/${w.name}` },
                    h(
                      'summary',
                      { 'data-focus': `hook:${w.type}/${w.name}` },
                      `Earlier answers (${earlier.length})`,
                    ),
                    ...earlier.map(answer),
                  ),
            );
          }),
        ),
  ];
}

function previousReleases(d: CanaryDetail): Node[] {
  const earlier = d.releases.slice(1);
  return [
    h('h2', {}, 'Previous releases'),
    earlier.length === 0
      ? h('p', { class: 'sub' }, 'None.')
      : h(
          'div',
          {},
          ...earlier.map((r) =>
            h(
              'details',
              { class: 'release', 'data-key': `release:${r.name}` },
              h(
                'summary',
                { 'data-focus': `release:${r.name}` },
                `${r.name}: ${releaseState(r)}, ${formatDateTime(r.startTime)}`,
                r.endTime ? ` to ${formatDateTime(r.endTime)}` : '',
                `, ${r.images.to.join(', ') || 'no image'}`,
              ),
              releaseFacts(r),
              timeline(r),
            ),
          ),
        ),
  ];
}

function events(d: CanaryDetail, now: number): Node[] {
  return [
    h('h2', {}, 'Recent Events'),
    d.events.length === 0
      ? h('p', { class: 'sub' }, 'None.')
      : h(
          'div',
          { class: 'table-scroll' },
          h(
            'table',
            { class: 'events' },
            h('caption', { class: 'visually-hidden' }, 'Recent Events, newest first'),
            h(
              'thead',
              {},
              h(
                'tr',
                {},
                ...['When', 'Type', 'Reason', 'Message'].map((c) => h('th', { scope: 'col' }, c)),
              ),
            ),
            h(
              'tbody',
              {},
              ...d.events.map((e) =>
                h(
                  'tr',
                  {},
                  h('td', {}, age(e.time, now) ?? '–'),
                  h(
                    'td',
                    { class: e.type === 'Warning' ? 'tone-bad' : '' },
                    e.type === 'Warning'
                      ? h('span', { class: 'glyph', 'aria-hidden': 'true' }, '⚠ ')
                      : null,
                    e.type,
                  ),
                  h('td', {}, e.reason),
                  h('td', { class: 'message' }, e.message),
                ),
              ),
            ),
          ),
        ),
  ];
}

/** A section redrawn whenever what it shows changed. */
interface Section {
  element: HTMLElement;
  shows: (d: CanaryDetail) => unknown;
  draw: (d: CanaryDetail, now: number) => Node[];
  shown?: string;
}

/** The detail page of `namespace/name`, drawn into `ctx.main`. */
export function detailPage(ctx: PageContext, namespace: string, name: string): Page {
  const key = rowKey({ namespace, name });
  const notice = h('p', { class: 'notice', role: 'status' });
  const actions = actionsPanel(namespace, name);
  const section = (cls: string, shows: Section['shows'], draw: Section['draw']): Section => ({
    element: h('section', { class: cls }),
    shows,
    draw,
  });
  const sections = [
    section('summary', (d) => [d.row, d.running], summary),
    section('images-section', (d) => [d.declared, d.running.images], images),
    // The weight chart of a release in flight ends now: redrawn with each change.
    section('release', (d) => [d.releases[0], d.row.inFlight], currentRelease),
    section('previous', (d) => d.releases.slice(1), previousReleases),
    section('events-section', (d) => d.events, events),
  ];
  let detail: CanaryDetail | undefined;
  let gone = false;

  rebuild(ctx.main, [
    h(
      'nav',
      { class: 'crumbs', 'aria-label': 'Breadcrumb' },
      h('a', { href: `/${ctx.listSearch()}` }, '← All Canaries'),
    ),
    h('h1', { tabindex: '-1' }, h('span', { class: 'ns' }, `${namespace}/`), name),
    notice,
    sections[0]!.element,
    sections[1]!.element,
    actions.element,
    ...sections.slice(2).map((x) => x.element),
  ]);
  actions.element.hidden = true;
  document.title = `${namespace}/${name} · Weir`;

  const drawNotice = () => {
    setText(
      notice,
      gone
        ? `The Canary ${namespace}/${name} was deleted. What is shown is how it was last seen.`
        : detail
          ? ''
          : !ctx.loaded()
            ? 'Loading…'
            : ctx.rows.has(key)
              ? 'Loading its detail…'
              : `No Canary ${namespace}/${name}, or not in a namespace this dashboard watches.`,
    );
    notice.hidden = notice.textContent === '';
  };

  const draw = (d: CanaryDetail) => {
    detail = d;
    const now = ctx.now();
    for (const x of sections) {
      const shown = JSON.stringify(x.shows(d) ?? null);
      if (x.shown === shown) continue;
      x.shown = shown;
      rebuild(x.element, x.draw(d, now));
    }
    actions.element.hidden = false;
    actions.update(d.actions, d.row.phase, gone);
    drawNotice();
  };
  drawNotice();

  return {
    apply(changed, message) {
      if (message.type === 'detail') {
        const d = message.detail;
        if (rowKey(d.row) !== key) return;
        gone = false;
        return draw(d);
      }
      if (changed === 'all' ? !ctx.rows.has(key) : changed.has(key) && !ctx.rows.has(key)) {
        gone = detail !== undefined;
        if (detail) actions.update(detail.actions, detail.row.phase, gone);
      }
      drawNotice();
    },
    dispose() {},
  };
}
