import { describe, expect, it } from 'vitest';
import * as yaml from 'js-yaml';
import { auditPolicy, countEvent, type RequestCounts } from '../../../bench/scale/audit.js';
import { imageNodeFlags } from '../../../bench/scale/controller-process.js';
import { exposition } from '../../../bench/scale/exporter.js';
import { canaryWeightOf } from '../../../bench/scale/observer.js';
import { fillPlaceholders, parseScaleOptions, splitCommand } from '../../../bench/scale/options.js';
import { parseStat } from '../../../bench/scale/proc.js';
import { ownerOf, summarizeProfile } from '../../../bench/scale/profile.js';
import {
  bucketDelta,
  bucketsOf,
  histogramQuantile,
  parseExposition,
  sumOf,
} from '../../../bench/scale/prom-text.js';
import { canary, podsOf, successRateQuery } from '../../../bench/scale/workload.js';

describe('controller command', () => {
  it("runs the bundle with the flags of the image's ENTRYPOINT", () => {
    const dockerfile = (entry: string) => `FROM x\nUSER 1\nENTRYPOINT ${entry}\n`;
    expect(
      imageNodeFlags(dockerfile('["node", "--max-semi-space-size=2", "dist/weir-controller.mjs"]')),
    ).toEqual(['--max-semi-space-size=2']);
    expect(imageNodeFlags(dockerfile('["node", "dist/weir-controller.mjs"]'))).toEqual([]);
    expect(() => imageNodeFlags(dockerfile('node dist/weir-controller.mjs'))).toThrow(
      'ENTRYPOINT ["node"',
    );
    expect(() => imageNodeFlags('FROM x\n')).toThrow('no ENTRYPOINT');
  });

  it('splits like a shell for words and quotes, without expansion', () => {
    expect(splitCommand(`flagger -kubeconfig={kubeconfig}  -x "a b" 'c d' e\\ f $HOME`)).toEqual([
      'flagger',
      '-kubeconfig={kubeconfig}',
      '-x',
      'a b',
      'c d',
      'e f',
      '$HOME',
    ]);
    expect(() => splitCommand('a "b')).toThrow('Unterminated');
  });

  it('fills placeholders and names an unknown one', () => {
    expect(
      fillPlaceholders(['--k={kubeconfig}', '{prometheus}'], {
        kubeconfig: '/k',
        prometheus: 'http://p',
      }),
    ).toEqual(['--k=/k', 'http://p']);
    expect(() => fillPlaceholders(['{nope}'], { kubeconfig: '/k' })).toThrow(
      'Unknown placeholder {nope}',
    );
  });
});

describe('parseScaleOptions', () => {
  it('defaults to 100 Weir canaries with the audit log on', () => {
    expect(parseScaleOptions([])).toMatchObject({
      sizes: [100],
      apiGroup: 'weir.dev',
      apiVersion: 'v1alpha1',
      provider: 'gatewayapi:v1',
      intervalSeconds: 10,
      stepWeight: 10,
      maxWeight: 50,
      audit: true,
      controllerName: 'weir (tsx)',
      compiled: false,
    });
  });

  it('reads sizes, soak and another controller', () => {
    const o = parseScaleOptions([
      '--canaries',
      '1000',
      '--soak',
      '30m',
      '--controller-cmd',
      '/opt/flagger/bin/flagger -kubeconfig={kubeconfig}',
      '--api-group',
      'flagger.app',
      '--api-version',
      'v1beta1',
      '--crds',
      '/opt/flagger/crds/flagger.yaml',
    ])!;
    expect(o).toMatchObject({
      sizes: [1000],
      soakMs: 1_800_000,
      controllerName: 'flagger',
      controllerCmd: ['/opt/flagger/bin/flagger', '-kubeconfig={kubeconfig}'],
      crds: ['/opt/flagger/crds/flagger.yaml'],
      audit: false,
    });
  });

  it('rejects what cannot work, naming the flag', () => {
    expect(() => parseScaleOptions(['--canaries', '100,0'])).toThrow('--canaries');
    expect(() => parseScaleOptions(['--canaries', '1,2', '--soak', '1m'])).toThrow('one size');
    expect(() => parseScaleOptions(['--api-group', 'flagger.app'])).toThrow('--crds');
    expect(() => parseScaleOptions(['--controller-cmd', 'x', '--cpu-prof', 'd'])).toThrow(
      'default',
    );
    expect(() =>
      parseScaleOptions(['--controller-cmd', 'x', '--node-options=--max-old-space-size=1']),
    ).toThrow('--node-options');
  });

  it('passes node flags to the default command', () => {
    expect(
      parseScaleOptions(['--node-options=--max-old-space-size=192 --max-semi-space-size=8'])
        ?.nodeOptions,
    ).toEqual(['--max-old-space-size=192', '--max-semi-space-size=8']);
  });
});

describe('workload', () => {
  it('uses only fields Weir and Flagger share, and a templated query', () => {
    const c = canary(
      {
        apiGroup: 'flagger.app',
        apiVersion: 'v1beta1',
        provider: 'gatewayapi:v1',
        intervalSeconds: 10,
        stepWeight: 10,
        maxWeight: 50,
        prometheusUrl: 'http://127.0.0.1:9090',
        gatewayNamespace: 'gw',
      },
      'bench-3',
      'app-3',
    ) as any;
    expect(c.apiVersion).toBe('flagger.app/v1beta1');
    expect(c.spec.analysis.metrics[0].templateRef).toEqual({
      name: 'success-rate',
      namespace: 'bench-3',
    });
    expect(successRateQuery).toContain('{{ target }}');
  });

  it('exports both pods of a canary with pod names the query regex tells apart', () => {
    const { canary: own, primary } = podsOf('app-1');
    const re = /^app-1-[0-9a-zA-Z]+-[0-9a-zA-Z]+$/;
    expect(re.test(own)).toBe(true);
    expect(re.test(primary)).toBe(false);
    expect(re.test(podsOf('app-10').canary)).toBe(false);
    const text = exposition([{ namespace: 'n', pod: own }], 0, 100_000);
    const samples = parseExposition(text);
    expect(sumOf(samples, 'http_request_duration_seconds_count', { code: '200' })).toBe(1000);
    expect(sumOf(samples, 'http_request_duration_seconds_count', { code: '500' })).toBe(10);
  });
});

describe('audit', () => {
  it('audits only the controller, one event per request', () => {
    const policy = yaml.load(auditPolicy('system:serviceaccount:x:c')) as any;
    expect(policy.rules.at(-1)).toEqual({ level: 'None' });
    expect(policy.rules[0]).toMatchObject({
      users: ['system:serviceaccount:x:c'],
      verbs: ['watch'],
    });
  });

  it('counts events of the user by window, verb and resource', () => {
    const counts = new Map<string, RequestCounts>();
    const windows = [
      {
        name: 'release',
        from: Date.parse('2026-01-01T00:00:00Z'),
        to: Date.parse('2026-01-01T01:00:00Z'),
      },
    ];
    const event = (verb: string, resource: string, subresource?: string, user = 'me') => ({
      verb,
      user: { username: user },
      objectRef: { resource, ...(subresource ? { subresource } : {}) },
      requestReceivedTimestamp: '2026-01-01T00:30:00.123456Z',
      responseStatus: { code: 200 },
    });
    countEvent(counts, windows, event('patch', 'canaries', 'status'), 'me');
    countEvent(counts, windows, event('patch', 'canaries', 'status'), 'me');
    countEvent(counts, windows, event('create', 'events'), 'me');
    countEvent(counts, windows, event('create', 'events', undefined, 'someone-else'), 'me');
    countEvent(
      counts,
      windows,
      { ...event('get', 'x'), requestReceivedTimestamp: '2025-01-01T00:00:00Z' },
      'me',
    );
    expect(counts.get('release')).toMatchObject({
      total: 3,
      byVerb: { patch: 2, create: 1 },
      byResource: { 'patch canaries/status': 2, 'create events': 1 },
    });
  });
});

describe('Prometheus text and histograms', () => {
  const text = (n: number) => `# HELP x
prometheus_http_request_duration_seconds_bucket{handler="/api/v1/query",le="0.1"} ${n * 0.9}
prometheus_http_request_duration_seconds_bucket{handler="/api/v1/query",le="0.2"} ${n}
prometheus_http_request_duration_seconds_bucket{handler="/api/v1/query",le="+Inf"} ${n}
prometheus_http_request_duration_seconds_count{handler="/api/v1/query"} ${n}
prometheus_http_request_duration_seconds_count{handler="/metrics"} 5
`;

  it('parses samples and sums by label', () => {
    const s = parseExposition(text(100));
    expect(
      sumOf(s, 'prometheus_http_request_duration_seconds_count', { handler: '/api/v1/query' }),
    ).toBe(100);
    expect(sumOf(s, 'prometheus_http_request_duration_seconds_count')).toBe(105);
  });

  it('interpolates quantiles of the buckets between two scrapes', () => {
    const name = 'prometheus_http_request_duration_seconds';
    const m = { handler: '/api/v1/query' };
    const delta = bucketDelta(
      bucketsOf(parseExposition(text(100)), name, m),
      bucketsOf(parseExposition(text(300)), name, m),
    );
    expect(delta.get(Infinity)).toBe(200);
    expect(histogramQuantile(0.45, delta)).toBeCloseTo(0.05);
    expect(histogramQuantile(0.95, delta)).toBeCloseTo(0.15);
    expect(histogramQuantile(0.5, new Map())).toBeNaN();
  });
});

describe('HTTPRoute weight', () => {
  it('reads the canary backend of the rule without matches', () => {
    const route = {
      spec: {
        rules: [
          { matches: [{ headers: [] }], backendRefs: [{ name: 'app-canary', weight: 100 }] },
          {
            backendRefs: [
              { name: 'app-primary', weight: 70 },
              { name: 'app-canary', weight: 30 },
            ],
          },
        ],
      },
    };
    expect(canaryWeightOf(route, 'app')).toBe(30);
    expect(canaryWeightOf({ spec: { rules: [] } }, 'app')).toBeUndefined();
  });
});

describe('/proc and profiles', () => {
  it('reads utime+stime and ppid after a command name with spaces and parentheses', () => {
    const stat =
      '4242 (node (tsx) x) S 17 4242 4242 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 11 0 1 2 3';
    expect(parseStat(stat)).toEqual({ ppid: 17, cpuSeconds: 3 });
  });

  it('sums self time by function and by package', () => {
    const profile = {
      startTime: 0,
      endTime: 1_000_000,
      nodes: [
        { id: 1, callFrame: { functionName: '(idle)', url: '', lineNumber: -1 }, hitCount: 50 },
        {
          id: 2,
          callFrame: {
            functionName: 'parse',
            url: 'file:///r/node_modules/js-yaml/x.js',
            lineNumber: 9,
          },
          hitCount: 30,
        },
        {
          id: 3,
          callFrame: {
            functionName: 'reconcile',
            url: 'file:///r/src/controller/reconciler.ts',
            lineNumber: 0,
          },
          hitCount: 20,
        },
      ],
    };
    const s = summarizeProfile(profile);
    expect(s.totalMs).toBe(1000);
    expect(s.busyMs).toBe(500);
    expect(s.owners.map((o) => [o.name, o.selfMs, o.share])).toEqual([
      ['pkg:js-yaml', 300, 0.6],
      ['src/controller/reconciler.ts', 200, 0.4],
    ]);
    expect(s.categories.map((c) => c.name)).toEqual(['other packages', 'Weir code']);
    expect(s.functions[0]!.name).toBe('parse pkg:js-yaml:10');
    expect(ownerOf('node:internal/streams')).toBe('node:internal/streams');
  });
});
