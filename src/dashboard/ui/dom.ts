/**
 * The page's only ways into the DOM. Text becomes text nodes and values become
 * attributes, never markup: whatever a Canary's author, a webhook or a Prometheus wrote
 * is shown, not parsed. Controls, bidi overrides and invisible characters show as
 * visible escapes (src/util/text.ts, as in `weir get`), so text cannot disguise itself.
 * No style attribute or event-handler attribute can be set (the CSP forbids inline
 * styles and scripts; classes and listeners do the work).
 */
import { sanitize } from '../../util/text.js';
import { ageOf, formatDateTime } from './format.js';

/** What an element may hold: nodes, text, or nothing (skipped). */
export type Child = Node | string | null | undefined | false;
/** Attributes: `true` sets an empty one, `false` and `undefined` set none. */
export type Attrs = Record<string, string | number | boolean | undefined>;

const svgNs = 'http://www.w3.org/2000/svg';

/** A text node of `s`, made visible (see the file comment). */
export const text = (s: string): Text => document.createTextNode(sanitize(s));

/** The nodes of `children`: text made visible, nothing for the skipped ones. */
export const nodes = (children: readonly Child[]): Node[] =>
  children.flatMap((c) =>
    c === null || c === undefined || c === false ? [] : typeof c === 'string' ? [text(c)] : [c],
  );

function fill<E extends Element>(el: E, attrs: Attrs, children: Child[]): E {
  for (const [name, value] of Object.entries(attrs)) {
    if (/^on|^style$/i.test(name)) throw new Error(`Refusing to set the ${name} attribute`);
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : sanitize(String(value)));
  }
  el.append(...nodes(children));
  return el;
}

/** An HTML element with attributes and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  return fill(document.createElement(tag), attrs, children);
}

/** An SVG element with attributes (geometry goes in attributes, which the CSP allows). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): SVGElementTagNameMap[K] {
  return fill(document.createElementNS(svgNs, tag), attrs, children);
}

/** Sets an element's text when it changed, so an unchanged cell is left alone. */
export function setText(el: Element, value: string): void {
  const safe = sanitize(value);
  if (el.textContent !== safe) el.textContent = safe;
}

/** A `<time>` that shows how long ago `iso` was; {@link updateAges} keeps it current. */
export function age(iso: string | undefined, now: number): HTMLTimeElement | undefined {
  if (!iso) return undefined;
  return h(
    'time',
    { datetime: iso, title: formatDateTime(iso), 'data-age': true, class: 'age' },
    ageOf(iso, now),
  );
}

/** Rewrites every age under `root` for `now`: nothing else is touched. */
export function updateAges(root: ParentNode, now: number): void {
  for (const t of root.querySelectorAll<HTMLTimeElement>('time[data-age]'))
    setText(t, ageOf(t.dateTime, now));
}

/**
 * Replaces `container`'s children with `children`, keeping what a person was doing in
 * it: the focused element (matched by its `data-focus` key) gets focus back, and
 * `<details>` (matched by `data-key`) keep their open or closed state.
 */
export function rebuild(container: Element, children: Node[]): void {
  const active = document.activeElement;
  const focusKey = active && container.contains(active) ? active.getAttribute('data-focus') : null;
  const open = new Map<string, boolean>();
  for (const d of container.querySelectorAll('details[data-key]'))
    open.set(d.getAttribute('data-key')!, (d as HTMLDetailsElement).open);
  container.replaceChildren(...children);
  for (const d of container.querySelectorAll<HTMLDetailsElement>('details[data-key]')) {
    const was = open.get(d.getAttribute('data-key')!);
    if (was !== undefined) d.open = was;
  }
  if (focusKey !== null)
    for (const el of container.querySelectorAll<HTMLElement>('[data-focus]'))
      if (el.getAttribute('data-focus') === focusKey) return el.focus({ preventScroll: true });
}

/**
 * Puts `row` before `ref` in `parent`, keeping focus inside it: `moveBefore` moves a node
 * without blurring it where the browser has it; elsewhere focus is given back.
 */
export function moveBefore(parent: Element, row: Element, ref: Node | null): void {
  if (row.isConnected && 'moveBefore' in parent && typeof parent.moveBefore === 'function') {
    try {
      return parent.moveBefore(row, ref);
    } catch {
      // Not movable in this state (e.g. a detached ref): fall back to inserting.
    }
  }
  const active = document.activeElement;
  parent.insertBefore(row, ref);
  if (active instanceof HTMLElement && row.contains(active) && document.activeElement !== active)
    active.focus({ preventScroll: true });
}
