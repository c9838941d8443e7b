import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { strategyOf } from '../../../src/api/strategy.js';
import {
  affinityCookies,
  destinationRules,
  istioUnsupported,
  routesOf,
  virtualService,
  virtualServiceSpec,
} from '../../../src/routers/istio-objects.js';
import { canaryWith, owner } from './fixtures.js';

const dest = (host: string, weight: number, extra: Record<string, unknown> = {}) => ({
  destination: { host, port: { number: 9898 } },
  weight,
  ...extra,
});
const split = (canaryWeight: number) => [
  dest('podinfo-primary', 100 - canaryWeight),
  dest('podinfo-canary', canaryWeight),
];
const toCanary = [dest('podinfo-primary', 0), dest('podinfo-canary', 100)];
const toPrimary = [dest('podinfo-primary', 100), dest('podinfo-canary', 0)];
const routes = (
  canaryWeight: number,
  extra: { matchToCanary?: boolean; mirror?: boolean } = {},
) => ({
  canaryWeight,
  matchToCanary: false,
  ...extra,
});
const released = (c: Canary, revision = 'rev-1'): Canary => ({
  ...c,
  status: { lastAppliedSpec: revision },
});

describe('virtualService: weights', () => {
  it.each([0, 30, 100])('routes %i% to the canary and reads the same split back', (weight) => {
    const canary = canaryWith({ provider: 'istio' });
    const vs = virtualService(canary, routes(weight));
    expect(vs).toEqual({
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: {
        name: 'podinfo',
        namespace: 'shop',
        labels: { 'weir.dev/canary': 'podinfo' },
        ownerReferences: [owner],
      },
      spec: {
        hosts: ['podinfo'],
        gateways: ['mesh'],
        http: [{ name: 'weighted', route: split(weight) }],
      },
    });
    expect(routesOf(canary, vs as never)).toEqual({
      canaryWeight: weight,
      matchToCanary: false,
      mirror: false,
    });
  });

  it('reads no split from a VirtualService without a route to the canary', () => {
    const canary = canaryWith({});
    expect(routesOf(canary, undefined)).toBeUndefined();
    expect(
      routesOf(canary, { spec: { http: [{ route: [{ destination: { host: 'other' } }] }] } }),
    ).toBeUndefined();
  });
});

describe('virtualService: spec.service passthrough', () => {
  const cases: {
    name: string;
    service: Partial<Canary['spec']['service']>;
    spec: Record<string, unknown>;
  }[] = [
    {
      name: 'hosts and gateways, adding the apex host',
      service: { hosts: ['shop.example.com'], gateways: ['istio-system/public'] },
      spec: {
        hosts: ['shop.example.com', 'podinfo'],
        gateways: ['istio-system/public'],
        http: [{ name: 'weighted', route: split(30) }],
      },
    },
    {
      name: 'a wildcard host, without adding the apex',
      service: { hosts: ['*'], gateways: ['public', 'mesh'] },
      spec: {
        hosts: ['*'],
        gateways: ['public', 'mesh'],
        http: [{ name: 'weighted', route: split(30) }],
      },
    },
    {
      name: 'a delegate, with no hosts or gateways',
      service: { delegation: true },
      spec: { hosts: [], gateways: [], http: [{ name: 'weighted', route: split(30) }] },
    },
    {
      name: 'match, rewrite, timeout, retries, headers and CORS on the route',
      service: {
        match: [{ uri: { prefix: '/api' } }],
        rewrite: { uri: '/', authority: 'backend.shop' },
        timeout: '15s',
        retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error,connect-failure' },
        headers: { request: { set: { 'x-team': 'shop' } }, response: { remove: ['server'] } },
        corsPolicy: { allowOrigins: [{ exact: 'https://shop.example.com' }], maxAge: '24h' },
      },
      spec: {
        hosts: ['podinfo'],
        gateways: ['mesh'],
        http: [
          {
            name: 'weighted',
            match: [{ uri: { prefix: '/api' } }],
            rewrite: { uri: '/', authority: 'backend.shop' },
            timeout: '15s',
            retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error,connect-failure' },
            headers: {
              request: { set: { 'x-team': 'shop' } },
              response: { remove: ['server'] },
            },
            corsPolicy: { allowOrigins: [{ exact: 'https://shop.example.com' }], maxAge: '24h' },
            route: split(30),
          },
        ],
      },
    },
    {
      name: 'a full-path rewrite as a regex rewrite of the whole path',
      service: { rewrite: { uri: '/v2/status', type: 'ReplaceFullPath' } },
      spec: {
        hosts: ['podinfo'],
        gateways: ['mesh'],
        http: [
          {
            name: 'weighted',
            rewrite: { uriRegexRewrite: { match: '^.*$', rewrite: '/v2/status' } },
            route: split(30),
          },
        ],
      },
    },
    {
      name: 'a TCP service with tcp routes matched on ports',
      service: { appProtocol: 'TCP', match: [{ port: 9898 }] },
      spec: {
        hosts: ['podinfo'],
        gateways: ['mesh'],
        tcp: [{ match: [{ port: 9898 }], route: split(30) }],
      },
    },
  ];
  it.each(cases)('$name', ({ service, spec }) => {
    const canary = canaryWith({ service });
    expect(virtualServiceSpec(canary, routes(30))).toEqual(spec);
    expect(routesOf(canary, { spec } as never)?.canaryWeight).toBe(30);
  });

  it('puts the apex labels and annotations on a VirtualService Weir generates', () => {
    const canary = canaryWith({
      service: { apex: { labels: { team: 'shop' }, annotations: { note: 'x' } } },
    });
    expect(virtualService(canary, routes(0)).metadata).toEqual({
      name: 'podinfo',
      namespace: 'shop',
      labels: { team: 'shop', 'weir.dev/canary': 'podinfo' },
      annotations: { note: 'x' },
      ownerReferences: [owner],
    });
  });
});

describe('virtualService: A/B testing', () => {
  const abCanary = (service: Partial<Canary['spec']['service']> = {}) =>
    canaryWith({
      service,
      analysis: {
        stepWeight: undefined,
        iterations: 3,
        match: [
          {
            headers: { 'x-canary': { exact: 'insider' }, 'user-agent': { suffix: 'Firefox/1.0' } },
          },
          { queryParams: { beta: { prefix: 'on' } }, sourceLabels: { app: 'tester' } },
        ],
      },
    });

  it('sends matching requests to the canary while matchToCanary, everyone else to the primary', () => {
    const canary = abCanary();
    const spec = virtualServiceSpec(canary, routes(0, { matchToCanary: true }));
    expect(spec.http).toEqual([
      {
        name: 'ab-test',
        match: [
          {
            headers: {
              'x-canary': { exact: 'insider' },
              'user-agent': { regex: '.*Firefox/1\\.0' },
            },
          },
          { queryParams: { beta: { regex: 'on.*' } }, sourceLabels: { app: 'tester' } },
        ],
        route: toCanary,
      },
      { name: 'weighted', route: toPrimary },
    ]);
    expect(routesOf(canary, { spec } as never)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
  });

  it('drops the A/B route once matchToCanary is off', () => {
    expect(virtualServiceSpec(abCanary(), routes(0)).http).toEqual([
      { name: 'weighted', route: toPrimary },
    ]);
  });

  it('narrows every apex match with every A/B match', () => {
    const spec = virtualServiceSpec(
      abCanary({
        match: [{ uri: { prefix: '/api' }, headers: { host: { exact: 'shop' } } }, { port: 8080 }],
      }),
      routes(0, { matchToCanary: true }),
    );
    expect((spec.http as { match?: unknown }[])[0]!.match).toEqual([
      {
        uri: { prefix: '/api' },
        headers: {
          host: { exact: 'shop' },
          'x-canary': { exact: 'insider' },
          'user-agent': { regex: '.*Firefox/1\\.0' },
        },
      },
      {
        port: 8080,
        headers: { 'x-canary': { exact: 'insider' }, 'user-agent': { regex: '.*Firefox/1\\.0' } },
      },
      {
        uri: { prefix: '/api' },
        headers: { host: { exact: 'shop' } },
        queryParams: { beta: { regex: 'on.*' } },
        sourceLabels: { app: 'tester' },
      },
      { port: 8080, queryParams: { beta: { regex: 'on.*' } }, sourceLabels: { app: 'tester' } },
    ]);
  });
});

describe('virtualService: mirroring', () => {
  it.each([
    { mirrorWeight: undefined, value: 100 },
    { mirrorWeight: 0, value: 100 },
    { mirrorWeight: 40, value: 40 },
  ])(
    'mirrors $value% to the canary with mirrorWeight $mirrorWeight, and reads it back',
    ({ mirrorWeight, value }) => {
      const canary = canaryWith({
        analysis: {
          stepWeight: undefined,
          iterations: 2,
          mirror: true,
          ...(mirrorWeight !== undefined ? { mirrorWeight } : {}),
        },
      });
      const spec = virtualServiceSpec(canary, routes(0, { mirror: true }));
      expect(spec.http).toEqual([
        {
          name: 'weighted',
          route: toPrimary,
          mirror: { host: 'podinfo-canary', port: { number: 9898 } },
          mirrorPercentage: { value },
        },
      ]);
      expect(routesOf(canary, { spec } as never)?.mirror).toBe(true);
      expect(virtualServiceSpec(canary, routes(0)).http).toEqual([
        { name: 'weighted', route: toPrimary },
      ]);
    },
  );
});

describe('virtualService: session affinity', () => {
  const sticky = (sessionAffinity: NonNullable<Canary['spec']['analysis']['sessionAffinity']>) =>
    released(canaryWith({ analysis: { sessionAffinity } }));

  it.each([0, 100])('has no cookie routes at weight %i', (weight) => {
    const canary = sticky({ cookieName: 'flagger-cookie', maxAge: 60 });
    expect(virtualServiceSpec(canary, routes(weight)).http).toEqual([
      { name: 'weighted', route: split(weight) },
    ]);
  });

  it('at a middle weight pins cookie holders to the canary, and the canary sets the cookie', () => {
    const canary = sticky({ cookieName: 'flagger-cookie', maxAge: 60 });
    const { canary: cookie } = affinityCookies(canary)!;
    expect(cookie.value).toMatch(/^[0-9a-f]{16}$/);
    const spec = virtualServiceSpec(canary, routes(30));
    expect(spec.http).toEqual([
      {
        name: 'canary-cookie',
        match: [
          {
            headers: {
              cookie: { regex: `^(.*?;)?\\s*flagger-cookie=${cookie.value}(;.*)?$` },
            },
          },
        ],
        route: toCanary,
      },
      {
        name: 'weighted',
        route: [
          dest('podinfo-primary', 70, {}),
          dest('podinfo-canary', 30, {
            headers: {
              response: {
                add: { 'Set-Cookie': `flagger-cookie=${cookie.value}; Max-Age=60; Path=/` },
              },
            },
          }),
        ],
      },
    ]);
    expect(
      new RegExp(`^(.*?;)?\\s*flagger-cookie=${cookie.value}(;.*)?$`).test(
        `a=b; flagger-cookie=${cookie.value}; c=d`,
      ),
    ).toBe(true);
    expect(routesOf(canary, { spec } as never)).toEqual({
      canaryWeight: 30,
      matchToCanary: false,
      mirror: false,
    });
  });

  it('with primaryCookieName also pins primary users to the primary, which sets its cookie', () => {
    const canary = sticky({ cookieName: 'c', primaryCookieName: 'p' });
    const cookies = affinityCookies(canary)!;
    const http = virtualServiceSpec(canary, routes(30)).http as Record<string, unknown>[];
    expect(http.map((r) => r.name)).toEqual(['canary-cookie', 'primary-cookie', 'weighted']);
    expect(http[1]).toEqual({
      name: 'primary-cookie',
      match: [{ headers: { cookie: { regex: `^(.*?;)?\\s*p=${cookies.primary!.value}(;.*)?$` } } }],
      route: toPrimary,
    });
    expect((http[2]!.route as unknown[])[0]).toEqual(
      dest('podinfo-primary', 70, {
        headers: {
          response: { add: { 'Set-Cookie': `p=${cookies.primary!.value}; Max-Age=86400; Path=/` } },
        },
      }),
    );
  });

  it('keeps one cookie value through a release and changes it with the next revision', () => {
    const canary = sticky({ cookieName: 'c' });
    const again = sticky({ cookieName: 'c' });
    expect(affinityCookies(canary)).toEqual(affinityCookies(again));
    expect(affinityCookies(released(canary, 'rev-2'))!.canary.value).not.toBe(
      affinityCookies(canary)!.canary.value,
    );
  });
});

describe('adoption', () => {
  it('writes only the Canary label and the original spec on an adopted VirtualService, with no owner', () => {
    const canary = canaryWith({ service: { apex: { labels: { team: 'shop' } } } });
    const original = JSON.stringify({ hosts: ['podinfo'], http: [] });
    expect(virtualService(canary, routes(10), { originalSpec: original }).metadata).toEqual({
      name: 'podinfo',
      namespace: 'shop',
      labels: { 'weir.dev/canary': 'podinfo' },
      annotations: { 'weir.dev/original-spec': original },
    });
  });
});

describe('destinationRules', () => {
  it.each([
    { trafficPolicy: undefined },
    { trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } } },
  ])(
    'are <apex>-primary and <apex>-canary with trafficPolicy $trafficPolicy',
    ({ trafficPolicy }) => {
      const canary = canaryWith({ service: trafficPolicy ? { trafficPolicy } : {} });
      expect(destinationRules(canary)).toEqual(
        ['podinfo-primary', 'podinfo-canary'].map((name) => ({
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: {
            name,
            namespace: 'shop',
            labels: { 'weir.dev/canary': 'podinfo' },
            ownerReferences: [owner],
          },
          spec: { host: name, ...(trafficPolicy ? { trafficPolicy } : {}) },
        })),
      );
    },
  );
});

describe('istioUnsupported', () => {
  const cases: {
    name: string;
    service?: Partial<Canary['spec']['service']>;
    analysis?: Partial<Canary['spec']['analysis']>;
    problem: RegExp | undefined;
  }[] = [
    { name: 'a weighted canary', problem: undefined },
    {
      name: 'blue/green with mirroring',
      analysis: { stepWeight: undefined, iterations: 2, mirror: true },
      problem: undefined,
    },
    {
      name: 'A/B testing',
      analysis: { stepWeight: undefined, iterations: 2, match: [{ sourceLabels: { a: 'b' } }] },
      problem: undefined,
    },
    {
      name: 'session affinity on a weighted canary',
      analysis: { sessionAffinity: { cookieName: 'c' } },
      problem: undefined,
    },
    {
      name: 'session affinity with blue/green',
      analysis: { stepWeight: undefined, iterations: 2, sessionAffinity: { cookieName: 'c' } },
      problem: /sessionAffinity .* needs stepWeight/,
    },
    {
      name: 'delegation with hosts',
      service: { delegation: true, hosts: ['a.example'] },
      problem: /delegate VirtualService has no hosts or gateways/,
    },
    {
      name: 'Gateway API parents',
      service: { gatewayRefs: [{ name: 'public' }] },
      problem:
        /^spec\.service\.gatewayRefs is not supported by the istio provider: Gateway API parents are for the gatewayapi provider; .* spec\.service\.gateways$/,
    },
    {
      name: 'Gateway API mirror backends',
      service: { mirror: [{ backendRef: { name: 'x' } }] },
      problem:
        /^spec\.service\.mirror is not supported by the istio provider: .* analysis\.mirror mirrors traffic to the canary$/,
    },
    {
      name: 'App Mesh fields',
      service: { meshName: 'shop', backends: ['ledger'] },
      problem:
        /^spec\.service\.meshName is not supported by the istio provider: .*kuma provider.*; spec\.service\.backends is not supported by the istio provider: /,
    },
    {
      name: 'every Istio field of an HTTP service',
      service: {
        gateways: ['public'],
        hosts: ['a.example'],
        trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
        match: [{ uri: { prefix: '/api' } }],
        rewrite: { uri: '/' },
        retries: { attempts: 2 },
        headers: { request: { set: { a: 'b' } } },
        corsPolicy: { allowMethods: ['GET'] },
        timeout: '5s',
      },
      problem: undefined,
    },
    {
      name: 'HTTP fields on a TCP service',
      service: { appProtocol: 'tcp', timeout: '5s', retries: { attempts: 2 } },
      problem:
        /^spec\.service\.timeout is not supported by the istio provider: an Istio TCP route .*; spec\.service\.retries is not supported/,
    },
    {
      name: 'a TCP service matched by port',
      service: { appProtocol: 'tcp', match: [{ port: 5432 }], hosts: ['db'] },
      problem: undefined,
    },
    {
      name: 'a TCP service matched by path',
      service: { appProtocol: 'tcp', match: [{ port: 5432, uri: { prefix: '/' } }] },
      problem: /^spec\.service\.match\[0\]: .* TCP service .* by port only; remove uri$/,
    },
    {
      name: 'A/B testing of a TCP service',
      service: { appProtocol: 'tcp' },
      analysis: { stepWeight: undefined, iterations: 2, match: [{ sourceLabels: { a: 'b' } }] },
      problem: /cannot match requests of a TCP service/,
    },
    {
      name: 'mirroring a TCP service',
      service: { appProtocol: 'tcp' },
      analysis: { mirror: true },
      problem: /cannot mirror TCP traffic/,
    },
  ];
  it.each(cases)('$name: $problem', ({ service, analysis, problem }) => {
    const canary = canaryWith({
      ...(service ? { service } : {}),
      ...(analysis ? { analysis } : {}),
    });
    const answer = istioUnsupported(canary, strategyOf(canary.spec.analysis));
    if (problem) expect(answer).toMatch(problem);
    else expect(answer).toBeUndefined();
  });
});
