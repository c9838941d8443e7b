/**
 * How well the statistical judge (src/analysis/judge.ts) tells a bad canary from a good one,
 * beside fixed-bound judging, on seeded synthetic traffic. Prints a table; asserts nothing.
 *
 * The model, per side (primary, canary) one pod at R requests per second:
 * - every request has a log-normal latency (median 50 ms, σ 0.5) and fails with probability 1 %;
 *   a worse canary multiplies its latencies by 1 + effect, or doubles its failure probability;
 * - Prometheus scrapes every 5 s, so a 60 s analysis step gives the judge 12 points a side: the
 *   mean latency and the error rate of each 5 s bucket (a range query over the step's window);
 * - a release has 10 steps and rolls back when `--threshold` steps have failed (default 1; Flagger
 *   counts failed checks over the whole release the same way).
 * The judge runs with its defaults (98 % interval, 5 % tolerance, 10 samples a side). The fixed
 * bounds check the canary's mean latency and error rate over the step's window, with bounds set
 * after the fact so that their A/A false-rollback rate equals the judge's (or 1 % if the judge's
 * is 0): the best case for bounds, since a real user does not know the primary's level.
 *
 * Usage: npm run bench:judge [-- --releases 1000 --detections 200 --threshold 1 --seed 7
 *        --confidence 0.98 --tolerance 0.05]   (the judge's options; defaults as in the API)
 */
import { parseArgs } from 'node:util';
import { defaultJudgeOptions, judge } from '../src/analysis/judge.js';
import { seededRandom } from '../test/unit/stats/seeded-random.js';

const { values } = parseArgs({
  options: {
    releases: { type: 'string', default: '1000' },
    detections: { type: 'string', default: '200' },
    seed: { type: 'string', default: '7' },
    threshold: { type: 'string', default: '1' },
    confidence: { type: 'string', default: String(defaultJudgeOptions.confidence) },
    tolerance: { type: 'string', default: String(defaultJudgeOptions.tolerance) },
  },
});
const releases = Number(values.releases);
const detections = Number(values.detections);
const steps = 10;
const threshold = Number(values.threshold);
const options = {
  ...defaultJudgeOptions,
  confidence: Number(values.confidence),
  tolerance: Number(values.tolerance),
};
const bucketSeconds = 5;
const stepSeconds = 60;
const random = seededRandom(Number(values.seed));

interface Change {
  latency: number;
  errors: number;
}
const same: Change = { latency: 1, errors: 1 };

const gauss = () => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());

/** One side's points over one step: mean latency and error rate per scrape bucket. */
function window(rps: number, change: Change): { latency: number[]; errors: number[] } {
  const latency: number[] = [];
  const errors: number[] = [];
  const perBucket = rps * bucketSeconds;
  for (let b = 0; b < stepSeconds / bucketSeconds; b++) {
    let sum = 0;
    let failed = 0;
    for (let i = 0; i < perBucket; i++) {
      sum += 50 * Math.exp(0.5 * gauss()) * change.latency;
      if (random() < 0.01 * change.errors) failed++;
    }
    latency.push(sum / perBucket);
    errors.push(failed / perBucket);
  }
  return { latency, errors };
}

interface Step {
  judgeFailed: boolean;
  /** The canary's window means, for the fixed bounds. */
  latency: number;
  errors: number;
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function step(rps: number, change: Change): Step {
  const primary = window(rps, same);
  const canary = window(rps, change);
  const verdict = (c: number[], p: number[]) =>
    judge('m', { kind: 'samples', values: c }, { kind: 'samples', values: p }, options).outcome ===
    'fail';
  return {
    judgeFailed: verdict(canary.latency, primary.latency) || verdict(canary.errors, primary.errors),
    latency: mean(canary.latency),
    errors: mean(canary.errors),
  };
}

type Release = Step[];
const release = (rps: number, change: Change): Release =>
  Array.from({ length: steps }, () => step(rps, change));

/** The step (1-based) whose failure is the `threshold`-th, or undefined when the release passes. */
function detectedAt(r: Release, failed: (s: Step) => boolean): number | undefined {
  let failures = 0;
  for (let i = 0; i < r.length; i++) if (failed(r[i]!) && ++failures >= threshold) return i + 1;
  return undefined;
}

/** The bound that a fraction `rate` of A/A releases exceed (by the statistic given per release). */
function bound(maxima: number[], rate: number): number {
  const sorted = [...maxima].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.floor((1 - rate) * sorted.length));
  return sorted[index]!;
}

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
function steps_(found: (number | undefined)[]): string {
  const hits = found.filter((x): x is number => x !== undefined).sort((a, b) => a - b);
  const share = hits.length / found.length;
  if (hits.length === 0) return 'never';
  const median = share >= 0.5 ? String(hits[Math.floor(found.length / 2)] ?? '>10') : '>10';
  return `${median} (${pct(share)})`;
}

const started = performance.now();
const header =
  '| req/s per pod | judge A/A false rollbacks | bounds A/A false rollbacks | +5 % latency | +10 % latency | +25 % latency | 2× errors |';
const rows: string[] = [header, '| --- | --- | --- | --- | --- | --- | --- |'];
for (const rps of [5, 20, 100]) {
  const aa = Array.from({ length: releases }, () => release(rps, same));
  const judgeRate =
    aa.filter((r) => detectedAt(r, (s) => s.judgeFailed) !== undefined).length / releases;
  // Two bounds share the target rate: each gets half, so the pair stays near it.
  const target = judgeRate > 0 ? judgeRate : 0.01;
  // A release exceeds a bound `threshold` times when its threshold-th largest value does.
  const kth = (xs: number[]) => [...xs].sort((a, b) => b - a)[threshold - 1]!;
  const latencyBound = bound(
    aa.map((r) => kth(r.map((s) => s.latency))),
    target / 2,
  );
  const errorBound = bound(
    aa.map((r) => kth(r.map((s) => s.errors))),
    target / 2,
  );
  const boundsFailed = (s: Step) => s.latency > latencyBound || s.errors > errorBound;
  const boundsRate = aa.filter((r) => detectedAt(r, boundsFailed) !== undefined).length / releases;
  const cells = [`${rps}`, pct(judgeRate), pct(boundsRate)];
  for (const change of [
    { latency: 1.05, errors: 1 },
    { latency: 1.1, errors: 1 },
    { latency: 1.25, errors: 1 },
    { latency: 1, errors: 2 },
  ]) {
    const bad = Array.from({ length: detections }, () => release(rps, change));
    const byJudge = steps_(bad.map((r) => detectedAt(r, (s) => s.judgeFailed)));
    const byBounds = steps_(bad.map((r) => detectedAt(r, boundsFailed)));
    cells.push(`judge ${byJudge}; bounds ${byBounds}`);
  }
  rows.push(`| ${cells.join(' | ')} |`);
}
console.log(
  `judge benchmark: ${releases} A/A releases and ${detections} bad releases per cell, ${steps} steps of ${stepSeconds} s, rollback at ${threshold} failed step(s), judge at ${options.confidence} confidence and ${options.tolerance} tolerance, seed ${values.seed}`,
);
console.log(
  'cells for a bad canary: median step of the rollback (share of releases rolled back within 10 steps)',
);
console.log(rows.join('\n'));
console.log(`took ${((performance.now() - started) / 1000).toFixed(1)} s`);
