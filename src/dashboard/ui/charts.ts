/**
 * The detail page's two charts, as SVG elements built from geometry.ts: the weight over
 * time and each metric per check. Each chart is an image with a summary (`role="img"`,
 * `aria-label`), followed by its data as a table, and failed checks listed in words.
 */
import type { MetricPoint } from '../model.js';
import { h, s } from './dom.js';
import { formatClock, formatDateTime } from './format.js';
import { markerPath, metricChart, weightChart, type Box, type Tick } from './geometry.js';
import {
  boundText,
  metricSummary,
  outcomeOf,
  valueText,
  weightSummary,
  type MetricSeries,
  type Outcome,
  type WeightSample,
} from './series.js';

const outcomeWords: Record<Outcome, string> = {
  passed: 'passed',
  failed: 'failed',
  inconclusive: 'inconclusive',
};

/** The frame, grid and tick labels both charts share. */
function axes(box: Box, xTicks: Tick[], yTicks: Tick[], xTitle: string) {
  const [left, right] = [box.left, box.width - box.right];
  const [top, bottom] = [box.top, box.height - box.bottom];
  return s(
    'g',
    { class: 'axes' },
    ...yTicks.map((t) =>
      s(
        'g',
        {},
        s('line', { class: 'grid', x1: left, x2: right, y1: t.at, y2: t.at }),
        s(
          'text',
          { class: 'tick', x: left - 6, y: t.at, 'text-anchor': 'end', dy: '0.32em' },
          t.label,
        ),
      ),
    ),
    // A label at the right edge ends there, rather than run out of the picture.
    ...xTicks.map((t) =>
      s(
        'text',
        {
          class: 'tick',
          x: t.at,
          y: bottom + 14,
          'text-anchor': t.at > right - 30 ? 'end' : 'middle',
        },
        t.label,
      ),
    ),
    s('line', { class: 'axis', x1: left, x2: right, y1: bottom, y2: bottom }),
    s('line', { class: 'axis', x1: left, x2: left, y1: top, y2: bottom }),
    s('text', { class: 'axis-title', x: right, y: bottom + 30, 'text-anchor': 'end' }, xTitle),
  );
}

const svgRoot = (box: Box, label: string, ...children: SVGElement[]) =>
  h(
    'div',
    { class: 'chart-scroll' },
    s(
      'svg',
      {
        class: 'chart',
        role: 'img',
        'aria-label': label,
        viewBox: `0 0 ${box.width} ${box.height}`,
        preserveAspectRatio: 'xMidYMid meet',
      },
      ...children,
    ),
  );

/** A table in a `<details>`: the chart's data for anyone who wants the numbers. */
const dataTable = (key: string, caption: string, head: string[], body: string[][]) =>
  h(
    'details',
    { class: 'chart-data', 'data-key': key },
    h('summary', { 'data-focus': `${key}:summary` }, 'Data as a table'),
    h(
      'table',
      {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
      h('tbody', {}, ...body.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c))))),
    ),
  );

/** The weight over time, up to `end` (now, or when the release ended). */
export function weightFigure(samples: WeightSample[], end: number, key: string): HTMLElement {
  const chart = weightChart(samples, end);
  const figure = h('figure', { class: 'figure' }, h('figcaption', {}, 'Canary weight over time'));
  if (!chart) {
    figure.append(h('p', { class: 'sub' }, 'No transition yet.'));
    return figure;
  }
  figure.append(
    svgRoot(
      chart.box,
      weightSummary(samples),
      axes(chart.box, chart.xTicks, chart.yTicks, 'time'),
      s('path', { class: 'weight-line', d: chart.path }),
      ...chart.points.map((p) => s('circle', { class: 'weight-point', cx: p.x, cy: p.y, r: 3 })),
    ),
    dataTable(
      `${key}:weight`,
      'Canary weight at each transition',
      ['Time', 'Event', 'Weight'],
      samples.map((x) => [formatDateTime(x.time), x.event, `${x.weight} %`]),
    ),
  );
  return figure;
}

/** The legend of the metric charts: shapes and words, as the charts draw them. */
export function metricLegend(): HTMLElement {
  const mark = (outcome: Outcome) =>
    s(
      'svg',
      { class: 'legend-mark', viewBox: '0 0 14 14', 'aria-hidden': 'true', focusable: 'false' },
      s('path', { class: `marker ${outcome}`, d: markerPath(outcome, 7, 7) }),
    );
  const line = (cls: string) =>
    s(
      'svg',
      { class: 'legend-mark', viewBox: '0 0 20 14', 'aria-hidden': 'true', focusable: 'false' },
      cls === 'band'
        ? s('rect', { class: 'band', x: 1, y: 3, width: 18, height: 8 })
        : s('line', { class: `bound ${cls}`, x1: 1, x2: 19, y1: 7, y2: 7 }),
    );
  return h(
    'ul',
    { class: 'legend', 'aria-label': 'Legend of the metric charts' },
    h('li', {}, mark('passed'), 'passed'),
    h('li', {}, mark('failed'), 'failed'),
    h('li', {}, mark('inconclusive'), 'inconclusive'),
    h('li', {}, line('min'), 'min / max bound'),
    h('li', {}, line('band'), "judge's interval"),
    h('li', {}, line('tolerance'), 'tolerance'),
    h('li', {}, 'A point on the bottom edge had no data.'),
  );
}

const sampleRow = (x: { check: number; time: string; point: MetricPoint }, judged: boolean) => [
  String(x.check),
  formatClock(x.time),
  outcomeWords[outcomeOf(x.point)],
  valueText(x.point, judged),
  boundText(x.point, judged),
  x.point.message ?? '',
];

/** One metric over a release's `checks` checks, its failed checks listed under it. */
export function metricFigure(series: MetricSeries, checks: number, key: string): HTMLElement {
  const chart = metricChart(series, checks);
  const { box } = chart;
  const [left, right] = [box.left, box.width - box.right];
  const failed = series.samples.filter((x) => outcomeOf(x.point) === 'failed');
  const head = [
    'Check',
    'Time',
    'Result',
    series.judged ? 'Estimate' : 'Value',
    'Bound',
    'Message',
  ];
  return h(
    'figure',
    { class: 'figure' },
    h(
      'figcaption',
      {},
      series.name,
      series.judged ? h('span', { class: 'sub' }, ' (relative to the primary)') : null,
    ),
    svgRoot(
      box,
      metricSummary(series),
      axes(box, chart.xTicks, chart.yTicks, 'check'),
      ...chart.bands.map((points) => s('polygon', { class: 'band', points })),
      ...(chart.zero === undefined
        ? []
        : [s('line', { class: 'zero', x1: left, x2: right, y1: chart.zero, y2: chart.zero })]),
      ...chart.lines.map((l) => s('path', { class: `bound ${l.kind}`, d: l.d })),
      ...chart.markers.map((m) =>
        s('path', { class: `marker ${m.outcome}${m.noData ? ' no-data' : ''}`, d: m.d }),
      ),
    ),
    failed.length === 0
      ? h('p', { class: 'sub' }, 'No failed check.')
      : h(
          'table',
          { class: 'failed-checks' },
          h('caption', {}, `Failed checks of ${series.name}`),
          h('thead', {}, h('tr', {}, ...head.map((c) => h('th', { scope: 'col' }, c)))),
          h(
            'tbody',
            {},
            ...failed.map((x) =>
              h('tr', {}, ...sampleRow(x, series.judged).map((c) => h('td', {}, c))),
            ),
          ),
        ),
    dataTable(
      `${key}:metric:${series.name}`,
      `Every check of ${series.name}`,
      head,
      series.samples.map((x) => sampleRow(x, series.judged)),
    ),
  );
}
