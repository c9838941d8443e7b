import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMetricsBed, type MetricsBed } from '../harness/metrics-bed.js';
import { startVendorApi, type ApiAnswer } from '../harness/vendor-api.js';
import { currentRun } from '../harness/weir.js';

const namespace = 'datadog';

/** What the local server answers for one service tag: a value, or a 429 for some calls. */
interface Behaviour {
  value: number;
  /** Answer 429 (reset in 30 s) to this many query calls first. */
  limited?: number;
}

/**
 * A local server speaking Datadog's documented metrics API (v1 query and validate): the
 * contract, not the service. It checks both keys and answers each query by its
 * `service:<name>` tag with a pointlist over the asked window, the newest bucket partial.
 */
async function startDatadogApi(behaviour: Record<string, Behaviour>) {
  const calls: { path: string; params: URLSearchParams; keys: [string?, string?] }[] = [];
  const api = await startVendorApi((path, params, headers): ApiAnswer => {
    const keys: [string?, string?] = [
      headers['dd-api-key'] as string | undefined,
      headers['dd-application-key'] as string | undefined,
    ];
    calls.push({ path, params, keys });
    if (keys[0] !== 'dd-api') return { status: 403, body: { errors: ['Forbidden'] } };
    if (path === '/api/v1/validate') return { body: { valid: true } };
    if (path !== '/api/v1/query' || keys[1] !== 'dd-app')
      return { status: 403, body: { errors: ['Forbidden'] } };
    const service = /service:([a-z0-9-]+)/.exec(params.get('query') ?? '')?.[1] ?? '';
    const b = behaviour[service];
    if (!b) return { body: { status: 'ok', series: [] } };
    if (b.limited) {
      b.limited -= 1;
      return {
        status: 429,
        body: { errors: ['Too many requests'] },
        headers: { 'X-RateLimit-Reset': '30' },
      };
    }
    const from = Number(params.get('from'));
    const to = Number(params.get('to'));
    // Buckets of 20 s over the window; the newest is partial and reads half.
    const pointlist: [number, number | null][] = [];
    for (let t = from; t < to; t += 20) pointlist.push([t * 1000, b.value]);
    pointlist.push([to * 1000, b.value / 2]);
    return { body: { status: 'ok', series: [{ metric: 'errors', pointlist }] } };
  });
  return { ...api, calls };
}

// Given the controller on a real control plane and a local server that speaks Datadog's
// documented query API, when releases are judged by a Datadog MetricTemplate, then the keys
// come from the labelled Secret, the window is the metric's interval ending at the
// controller's now, a healthy canary is promoted, a failing one rolled back on its value, and a
// rate limit (429) holds the weight as inconclusive until Datadog answers again.
describe('Datadog metrics (against the documented API, locally)', () => {
  let bed: MetricsBed;
  let api: Awaited<ReturnType<typeof startDatadogApi>>;
  const metric = { template: 'error-rate', interval: '1m', max: 1 };
  const release = (name: string) => bed.release(name, metric, { threshold: 1 });

  beforeAll(async () => {
    api = await startDatadogApi({
      good: { value: 0.2 },
      bad: { value: 4 },
      limited: { value: 0.2, limited: 1 },
    });
    bed = await startMetricsBed(namespace);
    await bed.secret('datadog', { datadog_api_key: 'dd-api', datadog_application_key: 'dd-app' });
    await bed.template(
      'error-rate',
      { type: 'datadog', address: api.url, secretRef: { name: 'datadog' } },
      'sum:trace.http.request.errors{service:{{ target }}}.as_rate()',
    );
    await bed.startController();
  }, 120_000);

  afterAll(async () => {
    await bed?.stop();
    await api?.stop();
  });

  it('promotes a canary under the bound and rolls back one above it, reading the newest complete point', async () => {
    await release('good');
    await release('bad');
    // 0.2, not the partial bucket's 0.1.
    await bed.expectJudged('good', 'bad', {
      metric: 'error-rate',
      value: 0.2,
      badValue: 4,
      bound: 1,
    });

    const queries = api.calls.filter((c) => c.path === '/api/v1/query');
    for (const c of queries) {
      expect(c.keys).toEqual(['dd-api', 'dd-app']);
      expect(Number(c.params.get('to')) - Number(c.params.get('from'))).toBe(60);
      // The controller's clock (a test clock here), not the machine's.
      expect(Math.abs(Number(c.params.get('to')) * 1000 - bed.clock.now())).toBeLessThan(600_000);
    }
    expect(api.calls.some((c) => c.path === '/api/v1/validate')).toBe(true);
  });

  it('holds the weight while Datadog rate-limits, as inconclusive, then goes on', async () => {
    await release('limited');
    await bed.until('limited Succeeded', bed.phaseIs('limited', 'Succeeded'));
    const run = await currentRun(bed.objects, namespace, 'limited');
    expect(run.status?.result).toBe('Promoted');
    const held = run.status!.transitions!.filter((t) => t.reason === 'CheckInconclusive');
    // The 429 asks for 30 s: that step and the two after it (10 s apart) send nothing.
    expect(held.map((t) => t.weight)).toEqual([10, 10, 10]);
    expect(held[0]!.message).toMatch(
      /^Inconclusive checks 1\/5, holding the weight at 10: error-rate: Datadog's rate limit was reached \(HTTP 429\): no query for 30s/,
    );
    expect(held[1]!.message).toMatch(/Datadog's rate limit: no query until it resets in \d+s/);
    const limitedCalls = api.calls.filter(
      (c) => c.path === '/api/v1/query' && c.params.get('query')?.includes('service:limited'),
    );
    const to = limitedCalls.map((c) => Number(c.params.get('to')));
    // After the 429, the next query waited the 30 s out.
    expect(to[1]! - to[0]!).toBeGreaterThanOrEqual(30);
    expect(run.status!.transitions!.some((t) => t.reason === 'CheckFailed')).toBe(false);
  });
});
