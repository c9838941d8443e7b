/**
 * The page's entry point: draws the frame, routes on `location.pathname` (`/` the list,
 * `/canaries/<namespace>/<name>` one Canary), follows links with `pushState` (a full
 * load of either path works too), keeps one stream open for the route, and rewrites
 * every age every 10 s.
 */
import type { CanaryRow, StreamMessage } from '../model.js';
import { detailPage } from './detail.js';
import { h, rebuild, setText, updateAges } from './dom.js';
import { streamStatus } from './format.js';
import { listPage } from './list.js';
import type { Page, PageContext } from './page.js';
import { parseRoute, streamUrl } from './route.js';
import { applyMessage } from './rows.js';
import { openStream, type StreamState } from './stream.js';

const rows = new Map<string, CanaryRow>();
let loaded = false;
let lastListSearch = location.pathname === '/' ? location.search : '';

const statusGlyph = h('span', { class: 'glyph', 'aria-hidden': 'true' });
const statusText = h('span');
const status = h('p', { class: 'stream', role: 'status' }, statusGlyph, ' ', statusText);
const main = h('main', { id: 'main' });
const app = document.getElementById('app') ?? document.body;
rebuild(app, [
  h(
    'header',
    { class: 'top' },
    h('a', { href: '/', class: 'brand' }, 'Weir'),
    h('span', { class: 'sub' }, 'progressive delivery'),
    status,
  ),
  main,
]);

const context: PageContext = {
  main,
  rows,
  loaded: () => loaded,
  now: () => Date.now(),
  listSearch: () => lastListSearch,
  rememberListSearch: (search) => void (lastListSearch = search),
};

const setState = (state: StreamState, retryInMs?: number) => {
  const { glyph, text } = streamStatus(state, retryInMs);
  setText(statusGlyph, glyph);
  setText(statusText, text);
  document.documentElement.setAttribute('data-stream', state);
};

let page: Page | undefined;
let closeStream: (() => void) | undefined;
let openUrl = '';

const receive = (m: StreamMessage) => {
  const changed = applyMessage(rows, m);
  if (m.type === 'snapshot') loaded = true;
  page?.apply(changed, m);
};

function notFound(): Page {
  rebuild(main, [
    h('h1', { tabindex: '-1' }, 'Not found'),
    h('p', {}, 'This dashboard has no page here. ', h('a', { href: '/' }, 'All Canaries'), '.'),
  ]);
  document.title = 'Not found · Weir';
  return { apply() {}, dispose() {} };
}

/** Draws the page of the current location; `moved` after a link or history step. */
function navigate(moved: boolean) {
  const route = parseRoute(location.pathname);
  if (route.page === 'list') lastListSearch = location.search;
  page?.dispose();
  page =
    route.page === 'list'
      ? listPage(context)
      : route.page === 'detail'
        ? detailPage(context, route.namespace, route.name)
        : notFound();
  const url = streamUrl(route);
  if (route.page !== 'unknown' && url !== openUrl) {
    closeStream?.();
    openUrl = url;
    // A page following one Canary gets that row only: the list waits for its own snapshot.
    loaded = false;
    closeStream = openStream({ url, onMessage: receive, onState: setState });
  }
  if (moved) {
    // As a full load would: the new page's heading takes focus, and the view starts at the top.
    window.scrollTo(0, 0);
    main.querySelector<HTMLElement>('h1')?.focus();
  }
}

document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey)
    return;
  const a = e.target instanceof Element ? e.target.closest('a') : null;
  if (!a || a.target || a.hasAttribute('download')) return;
  const url = new URL(a.href, location.href);
  if (url.origin !== location.origin || parseRoute(url.pathname).page === 'unknown') return;
  e.preventDefault();
  if (url.pathname + url.search === location.pathname + location.search) return;
  history.pushState(null, '', url.pathname + url.search);
  navigate(true);
});
window.addEventListener('popstate', () => navigate(true));
setInterval(() => updateAges(document, Date.now()), 10_000);
navigate(false);
