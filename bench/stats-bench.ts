/**
 * Times the canary-judge statistics on log-normal latency samples the size a judge sees:
 * Hodges-Lehmann with its 98 % interval, Mann-Whitney U and the mean ratio, for 1,000, 5,000
 * and 10,000 values a side (plus Kayenta-like 1,240 × 1,310). For scale, also the direct way,
 * sorting all m·n differences, where it fits in memory. Prints the median of a few runs in ms;
 * asserts nothing. Usage: npm run bench:stats [-- --runs 5]
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import { effectSize } from '../src/stats/effect-size.js';
import { hodgesLehmann } from '../src/stats/hodges-lehmann.js';
import { mannWhitneyU } from '../src/stats/mann-whitney.js';
import { seededRandom } from '../test/unit/stats/seeded-random.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const random = seededRandom(2026);

/** Latencies in ms: log-normal around a median, rounded to 10 µs as exporters report them. */
function latencies(length: number, median: number): number[] {
  return Array.from({ length }, () => {
    const gauss = Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    return Math.round(median * Math.exp(0.6 * gauss) * 100) / 100;
  });
}

/** Median wall time of `runs` calls, in ms, after one warm-up call. */
function time(run: () => unknown): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    run();
    times.push(performance.now() - start);
  }
  return times.sort((a, b) => a - b)[runs >> 1]!;
}

function sortAllDifferences(x: number[], y: number[]): number {
  const d = new Float64Array(x.length * y.length);
  let i = 0;
  for (const b of y) for (const a of x) d[i++] = b - a;
  return d.sort()[d.length >> 1]!;
}

console.log(`node ${process.version}, ${cpus().length} CPUs, median of ${runs} runs, ms`);
console.log('m × n           hodgesLehmann  mannWhitneyU  effectSize  sort all m·n');
for (const [m, n] of [
  [1_000, 1_000],
  [1_240, 1_310],
  [5_000, 5_000],
  [10_000, 10_000],
] as const) {
  const baseline = latencies(m, 40);
  const canary = latencies(n, 42);
  const hl = time(() => hodgesLehmann(baseline, canary, 0.98));
  const mw = time(() => mannWhitneyU(canary, baseline, { alternative: 'greater' }));
  const es = time(() => effectSize(baseline, canary, 'mean-ratio'));
  // 10⁸ doubles would take 800 MB: the direct way is only shown where it fits.
  const direct = m * n <= 25_000_000 ? time(() => sortAllDifferences(baseline, canary)) : NaN;
  const cell = (v: number, width: number) => (Number.isNaN(v) ? '—' : v.toFixed(1)).padStart(width);
  console.log(
    `${`${m} × ${n}`.padEnd(15)} ${cell(hl, 13)} ${cell(mw, 13)} ${cell(es, 11)} ${cell(direct, 13)}`,
  );
}
