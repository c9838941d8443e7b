import { describe, expect, it } from 'vitest';
import {
  contourUnsupported,
  httpProxy,
  routesOfHttpProxy,
} from '../../../src/routers/contour-router.js';
import { canaryWith, owner } from './fixtures.js';

const canary = canaryWith({ provider: 'contour' });
const svc = (name: string, extra: Record<string, unknown>) => ({
  name,
  port: 9898,
  ...extra,
  requestHeadersPolicy: {
    set: [{ name: 'l5d-dst-override', value: `${name}.shop.svc.cluster.local:9898` }],
  },
});
const split = (canaryWeight: number) => [
  svc('podinfo-primary', { weight: 100 - canaryWeight }),
  svc('podinfo-canary', { weight: canaryWeight }),
];

describe('httpProxy', () => {
  it.each([0, 40, 100])('weights the route at %i% canary', (canaryWeight) => {
    const object = httpProxy(canary, { canaryWeight, matchToCanary: false });
    expect(object).toEqual({
      apiVersion: 'projectcontour.io/v1',
      kind: 'HTTPProxy',
      metadata: {
        name: 'podinfo',
        namespace: 'shop',
        labels: { 'weir.dev/canary': 'podinfo' },
        ownerReferences: [owner],
      },
      spec: { routes: [{ conditions: [{ prefix: '/' }], services: split(canaryWeight) }] },
    });
    expect(routesOfHttpProxy(canary, object as never)).toEqual({
      canaryWeight,
      matchToCanary: false,
      mirror: false,
    });
  });

  it('routes requests matching any analysis.match entry to the canary, ahead of the weighted route', () => {
    const ab = canaryWith({
      analysis: {
        stepWeight: undefined,
        iterations: 2,
        match: [
          { headers: { 'x-canary': { exact: 'insider' }, 'user-agent': { prefix: 'Mozilla.5' } } },
          {
            headers: { cookie: { suffix: 'canary=1' } },
            queryParams: { beta: { regex: 'y(es)?' } },
          },
          { headers: { 'x-team': { regex: 'shop|cart' } } },
        ],
      },
    });
    const object = httpProxy(ab, { canaryWeight: 0, matchToCanary: true }) as any;
    expect(object.spec.routes).toEqual([
      {
        conditions: [
          { prefix: '/' },
          { header: { name: 'x-canary', exact: 'insider' } },
          { header: { name: 'user-agent', regex: 'Mozilla\\.5.*' } },
        ],
        services: split(100),
      },
      {
        conditions: [
          { prefix: '/' },
          { header: { name: 'cookie', regex: '.*canary=1' } },
          { queryParameter: { name: 'beta', regex: 'y(es)?' } },
        ],
        services: split(100),
      },
      {
        conditions: [{ prefix: '/' }, { header: { name: 'x-team', regex: 'shop|cart' } }],
        services: split(100),
      },
      { conditions: [{ prefix: '/' }], services: split(0) },
    ]);
    expect(routesOfHttpProxy(ab, object)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
    // After the analysis the A/B routes go.
    expect(
      (httpProxy(ab, { canaryWeight: 0, matchToCanary: false }) as any).spec.routes,
    ).toHaveLength(1);
  });

  it.each([
    { mirrorWeight: undefined, weight: 100 },
    { mirrorWeight: 30, weight: 30 },
  ])(
    'mirrors $weight% to the canary as the route’s mirror Service (mirrorWeight $mirrorWeight)',
    ({ mirrorWeight, weight }) => {
      const mirrored = canaryWith({
        analysis: { mirror: true, ...(mirrorWeight ? { mirrorWeight } : {}) },
      });
      const object = httpProxy(mirrored, {
        canaryWeight: 0,
        matchToCanary: false,
        mirror: true,
      }) as any;
      expect(object.spec.routes[0].services).toEqual([
        svc('podinfo-primary', { weight: 100 }),
        svc('podinfo-canary', { mirror: true, weight }),
      ]);
      expect(routesOfHttpProxy(mirrored, object)).toEqual({
        canaryWeight: 0,
        matchToCanary: false,
        mirror: true,
      });
    },
  );

  it('takes paths from spec.service.match and timeout and retries from spec.service, on every route', () => {
    const object = httpProxy(
      canaryWith({
        service: {
          match: [{ uri: { prefix: '/api' } }, { uri: { exact: '/health' } }],
          timeout: '15s',
          retries: {
            attempts: 3,
            perTryTimeout: '5s',
            retryOn: 'gateway-error, connect-failure,503',
          },
        },
      }),
      { canaryWeight: 10, matchToCanary: false },
    ) as any;
    const policies = {
      timeoutPolicy: { response: '15s' },
      retryPolicy: {
        count: 3,
        perTryTimeout: '5s',
        retryOn: ['gateway-error', 'connect-failure', 'retriable-status-codes'],
        retriableStatusCodes: [503],
      },
    };
    expect(object.spec.routes).toEqual([
      { conditions: [{ prefix: '/api' }], services: split(10), ...policies },
      { conditions: [{ exact: '/health' }], services: split(10), ...policies },
    ]);
  });

  it('says "no retries" to Contour as -1 when attempts is 0', () => {
    const object = httpProxy(canaryWith({ service: { retries: { attempts: 0 } } }), {
      canaryWeight: 0,
      matchToCanary: false,
    }) as any;
    expect(object.spec.routes[0].retryPolicy).toEqual({ count: -1 });
  });
});

describe('routesOfHttpProxy', () => {
  it.each([
    { what: 'no object', object: undefined },
    {
      what: 'only matched routes',
      object: { spec: { routes: [{ conditions: [{ header: { name: 'x' } }], services: [] }] } },
    },
  ])('is undefined for $what', ({ object }) => {
    expect(routesOfHttpProxy(canary, object as never)).toBeUndefined();
  });
});

describe('contourUnsupported', () => {
  it.each([
    { what: 'a weighted canary', spec: {}, message: undefined },
    {
      what: 'blue/green',
      spec: { analysis: { stepWeight: undefined, iterations: 2 } },
      message: undefined,
    },
    {
      what: 'mirroring at 50%',
      spec: { analysis: { mirror: true, mirrorWeight: 50 } },
      message: undefined,
    },
    {
      what: 'A/B testing on headers and query',
      spec: {
        analysis: {
          iterations: 2,
          match: [{ headers: { a: { exact: 'b' } }, queryParams: { c: { prefix: 'd' } } }],
        },
      },
      message: undefined,
    },
    {
      what: 'Istio source labels',
      spec: { analysis: { iterations: 2, match: [{ sourceLabels: { app: 'web' } }] } },
      message: /^the contour provider cannot match analysis.match\[0\].sourceLabels/,
    },
    {
      what: 'a match entry with nothing to match',
      spec: { analysis: { iterations: 2, match: [{ headers: { a: { exact: 'b' } } }, {}] } },
      message:
        /^analysis.match\[1\] has no headers or queryParams: it would send every request to the canary/,
    },
    {
      what: 'a service match on headers',
      spec: { service: { match: [{ uri: { prefix: '/' } }, { headers: { a: { exact: 'b' } } }] } },
      message:
        /^the contour provider routes spec.service.match\[1\] by path only: give it exactly one of uri.prefix, uri.exact or uri.regex and remove headers$/,
    },
    {
      what: 'a retryOn Contour does not know',
      spec: { service: { retries: { retryOn: '5xx,retriable-headers,non-idempotent' } } },
      message:
        /^the contour provider cannot retry on non-idempotent \(spec.service.retries.retryOn\)/,
    },
    {
      what: 'path matches, timeout and retries',
      spec: {
        service: {
          match: [{ uri: { prefix: '/api' } }],
          timeout: '5s',
          retries: { attempts: 2, retryOn: '5xx' },
        },
      },
      message: undefined,
    },
    {
      what: "hostnames and CORS, which are the root HTTPProxy's",
      spec: { service: { hosts: ['shop.example'], corsPolicy: { allowOrigin: ['*'] } } },
      message:
        /^spec\.service\.hosts is not supported by the contour provider: the hostname is the virtualhost\.fqdn of your root HTTPProxy.*; spec\.service\.corsPolicy is not supported by the contour provider: CORS is configured on the virtualhost of your root HTTPProxy/,
    },
    {
      what: 'mirrorWeight 0',
      spec: { analysis: { mirror: true, mirrorWeight: 0 } },
      message: /^analysis.mirrorWeight 0 cannot be expressed in Contour/,
    },
    {
      what: 'session affinity',
      spec: { analysis: { sessionAffinity: { cookieName: 'canary' } } },
      message:
        /^the contour provider cannot pin sessions to the canary: Contour's Cookie load balancing/,
    },
  ])('$what', ({ spec, message }) => {
    const result = contourUnsupported(canaryWith(spec as never), 'canary');
    if (message === undefined) expect(result).toBeUndefined();
    else expect(result).toMatch(message);
  });
});
