import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Canary, MetricTemplate } from '../../../src/api/types.js';
import { MetricChecks } from '../../../src/analysis/metric-checks.js';
import { MetricProviderRegistry } from '../../../src/analysis/metric-registry.js';
import type { MetricProvider } from '../../../src/analysis/metric-provider.js';
import type { Measurement, SampleWindow, Samples } from '../../../src/contracts/measurement.js';

/**
 * How MetricChecks feeds the judge: which queries and windows reach the provider, and
 * how the judge's verdict, the bounds and the provider's failures become a check's
 * outcome. The provider is a fake answering per query; the statistics are tested in
 * test/unit/stats and the verdict in judge.test.ts.
 */
const asked: { query: string; window?: SampleWindow }[] = [];
let answers: Record<string, Samples | Measurement> = {};

const fake = (withSamples = true): MetricProvider => ({
  type: 'prometheus',
  measure: (query) => {
    asked.push({ query });
    const a = answers[query] ?? { kind: 'no-data', reason: 'nothing for this query' };
    return Promise.resolve(a as Measurement);
  },
  ...(withSamples
    ? {
        samples: (query: string, window: SampleWindow) => {
          asked.push({ query, window });
          const a = answers[query] ?? { kind: 'no-data', reason: 'nothing for this query' };
          return Promise.resolve(a as Samples);
        },
      }
    : {}),
  probe: () => Promise.resolve(undefined),
});

const latency: MetricTemplate = {
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'MetricTemplate',
  metadata: { name: 'latency', namespace: 'shop' },
  spec: {
    provider: { type: 'prometheus', address: 'http://prom.monitoring:9090' },
    query: 'mean_latency{deployment="{{ target }}", window="{{ interval }}"}',
  },
};

const checks = (withSamples = true) =>
  new MetricChecks({
    registry: new MetricProviderRegistry().register('prometheus', () => fake(withSamples)),
    templates: (ns, name) => (ns === 'shop' && name === 'latency' ? latency : undefined),
    secrets: () => undefined,
    defaultProvider: 'kubernetes',
    crossNamespaceRefs: false,
    metrics: new Registry(),
    now: () => 0,
  });

const canary = (metric: object): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: { metrics: [{ name: 'latency', templateRef: { name: 'latency' }, ...metric }] },
    },
  }) as unknown as Canary;

const run = (c: Canary, withSamples = true) => {
  asked.length = 0;
  return checks(withSamples).run(c, {
    revision: 'r1',
    phase: 'Progressing',
    weight: 10,
    iterations: 1,
    hooks: [],
    measure: true,
    signal: new AbortController().signal,
  });
};

const canaryQuery = (step = '5s') => `mean_latency{deployment="podinfo", window="${step}"}`;
const primaryQuery = (step = '5s') =>
  `mean_latency{deployment="podinfo-primary", window="${step}"}`;
/** Twelve values around `level`, the same spread on both sides. */
const around = (level: number): Samples => ({
  kind: 'samples',
  values: [-6, -5, -4, -3, -2, -1, 1, 2, 3, 4, 5, 6].map((d) => level + d * 0.1),
});

describe('MetricChecks with a judge', () => {
  it('asks for both sides over the window, with {{ interval }} as the step', async () => {
    answers = { [canaryQuery('3s')]: around(50), [primaryQuery('3s')]: around(50) };
    const o = await run(canary({ interval: '45s', judge: { step: '3s' } }));
    expect(asked).toEqual([
      { query: canaryQuery('3s'), window: { seconds: 45, stepSeconds: 3 } },
      { query: primaryQuery('3s'), window: { seconds: 45, stepSeconds: 3 } },
    ]);
    expect(o.passed).toBe(true);
    expect(o.metrics![0]).toMatchObject({
      name: 'latency',
      passed: true,
      judge: { canarySamples: 12, primarySamples: 12, estimate: 0, confidence: 0.98 },
    });
    expect(o.metrics![0]!.message).toMatch(/^latency no different from the primary \(98 % CI/);
  });

  it('fails a canary whose whole interval is beyond the tolerance, and says by how much', async () => {
    answers = { [canaryQuery()]: around(65), [primaryQuery()]: around(50) };
    const o = await run(canary({ judge: {} }));
    expect(o.passed).toBe(false);
    expect(o.inconclusive).toBeUndefined();
    expect(o.failures).toEqual([
      expect.stringMatching(
        /^latency 30 % higher than the primary \(98 % CI 2\d(\.\d)? % to 3\d(\.\d)? %, 12 vs 12 samples\), beyond the 5 % allowed$/,
      ),
    ]);
    const judged = o.metrics![0]!.judge!;
    expect(judged.estimate).toBeCloseTo(0.3, 5);
    expect(judged.lower).toBeGreaterThan(0.05);
    expect(judged.tolerance).toBe(0.05);
  });

  it('a decrease fails only when the direction says so', async () => {
    answers = { [canaryQuery()]: around(35), [primaryQuery()]: around(50) };
    expect((await run(canary({ judge: {} }))).passed).toBe(true);
    expect((await run(canary({ judge: { direction: 'decrease' } }))).passed).toBe(false);
    expect((await run(canary({ judge: { direction: 'either' } }))).passed).toBe(false);
  });

  it.each([
    [
      'no data for the canary',
      { [primaryQuery()]: around(50) },
      'latency: no data for the canary: nothing for this query',
    ],
    [
      'a failed query for the primary',
      {
        [canaryQuery()]: around(50),
        [primaryQuery()]: { kind: 'error', reason: 'Prometheus is unreachable' },
      },
      "latency: the primary's query failed: Prometheus is unreachable",
    ],
    [
      'too few samples',
      {
        [canaryQuery()]: { kind: 'samples', values: [50, 51, 52] },
        [primaryQuery()]: around(50),
      },
      'latency: too few samples (3 vs 12 samples; needs 10 a side)',
    ],
  ] as const)('%s is inconclusive, never a pass', async (_what, given, said) => {
    answers = { ...given } as Record<string, Samples>;
    const o = await run(canary({ judge: {} }));
    expect(o).toMatchObject({ passed: false, failures: [], inconclusive: [said] });
    expect(o.metrics![0]).toMatchObject({ passed: false, inconclusive: true });
  });

  it('a provider without windows of samples is inconclusive and says so', async () => {
    const o = await run(canary({ judge: {} }), false);
    expect(o.inconclusive).toEqual([
      "latency: the canary's query failed: the prometheus provider cannot return samples over a window, which the judge needs",
    ]);
  });

  it('with bounds as well: a value beyond them fails, whatever the judge says', async () => {
    answers = {
      [canaryQuery()]: around(50),
      [primaryQuery()]: around(50),
      [canaryQuery('1m')]: { kind: 'value', value: 900 },
    };
    const o = await run(canary({ judge: {}, thresholdRange: { max: 500 } }));
    expect(o.failures).toEqual([
      expect.stringMatching(/^latency 900 > 500; latency no different from the primary/),
    ]);
    expect(o.metrics![0]).toMatchObject({ value: 900, max: 500, passed: false });
  });

  it('with bounds as well: a value within them leaves the verdict to the judge', async () => {
    answers = {
      [canaryQuery()]: around(65),
      [primaryQuery()]: around(50),
      [canaryQuery('1m')]: { kind: 'value', value: 65 },
    };
    const o = await run(canary({ judge: {}, thresholdRange: { max: 500 } }));
    expect(o.failures).toEqual([expect.stringMatching(/^latency 30 % higher than the primary/)]);
    expect(o.metrics![0]).toMatchObject({ value: 65, max: 500, passed: false });
  });

  it('an unanswered bound holds a passing judge as inconclusive', async () => {
    answers = {
      [canaryQuery()]: around(50),
      [primaryQuery()]: around(50),
      [canaryQuery('1m')]: { kind: 'error', reason: 'Prometheus is unreachable' },
    };
    const o = await run(canary({ judge: {}, thresholdRange: { max: 500 } }));
    expect(o.failures).toEqual([]);
    expect(o.inconclusive).toEqual([
      expect.stringMatching(/^latency: Prometheus is unreachable; latency no different/),
    ]);
  });

  it('keeps the record JSON-safe when the primary sits at 0 (an unbounded change)', async () => {
    answers = {
      [canaryQuery()]: around(5),
      [primaryQuery()]: { kind: 'samples', values: Array(12).fill(0) },
    };
    const o = await run(canary({ judge: {} }));
    expect(o.failures).toEqual([expect.stringMatching(/^latency \+∞ % higher than the primary/)]);
    const judged = o.metrics![0]!.judge!;
    expect(judged).toEqual({
      canarySamples: 12,
      primarySamples: 12,
      confidence: 0.98,
      tolerance: 0.05,
    });
    expect(JSON.parse(JSON.stringify(judged))).toEqual(judged);
  });
});
