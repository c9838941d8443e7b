import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { strategyOf } from '../../../src/api/strategy.js';
import { RoutingBlocked } from '../../../src/errors.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import {
  ApisixRouter,
  apisixUnsupported,
  canaryApisixRoute,
  routesOfApisixRoute,
  type ApisixRouteObject,
  type ApisixRouteReader,
} from '../../../src/routers/apisix-router.js';
import { canaryWith, owner } from './fixtures.js';

const routeRef = {
  apiVersion: 'apisix.apache.org/v2',
  kind: 'ApisixRoute' as const,
  name: 'shop',
};
const withRef = (c: Canary, ref: Canary['spec']['routeRef'] | null = routeRef): Canary => ({
  ...c,
  metadata: { ...c.metadata, generation: 1 },
  spec: { ...c.spec, provider: 'apisix', ...(ref ? { routeRef: ref } : {}) },
});
const weighted = withRef(canaryWith({}));
const ab = (match: NonNullable<Canary['spec']['analysis']['match']>) =>
  withRef(
    canaryWith({ analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 5, match } }),
  );

/** The user's route: the apex on `/`, with plugins and a timeout; another Service beside it. */
const userRoute: ApisixRouteObject = {
  apiVersion: 'apisix.apache.org/v2',
  kind: 'ApisixRoute',
  metadata: {
    name: 'shop',
    namespace: 'shop',
    labels: { 'app.kubernetes.io/instance': 'shop' },
    annotations: { 'kubernetes.io/ingress.class': 'apisix', 'example.test/team': 'shop' },
  },
  spec: {
    ingressClassName: 'apisix',
    http: [
      {
        name: 'web',
        priority: 1,
        match: {
          hosts: ['shop.example.test'],
          paths: ['/*'],
          exprs: [{ subject: { scope: 'Header', name: 'x-env' }, op: 'Equal', value: 'prod' }],
        },
        timeout: { read: '30s' },
        plugins: [{ name: 'cors', enable: true }],
        backends: [{ serviceName: 'podinfo', servicePort: 9898, resolveGranularity: 'service' }],
      },
      {
        name: 'assets',
        match: { paths: ['/static/*'] },
        backends: [{ serviceName: 'assets', servicePort: 80 }],
      },
    ],
  },
};

const weightedEntry = (primary: number, canary: number) => ({
  name: 'web',
  priority: 10000,
  match: userRoute.spec!.http![0]!.match,
  timeout: { read: '30s' },
  plugins: [{ name: 'cors', enable: true }],
  backends: [
    {
      serviceName: 'podinfo-primary',
      servicePort: 9898,
      resolveGranularity: 'service',
      weight: primary,
    },
    {
      serviceName: 'podinfo-canary',
      servicePort: 9898,
      resolveGranularity: 'service',
      weight: canary,
    },
  ],
});

describe('canaryApisixRoute', () => {
  it.each([
    [0, 100],
    [10, 90],
    [50, 50],
    [100, 0],
  ])(
    'at canary weight %i copies the apex entry with Flagger’s priority, primary %i',
    (canaryWeight, primary) => {
      const route = canaryApisixRoute(weighted, userRoute, { canaryWeight, matchToCanary: false });
      expect(route).toEqual({
        apiVersion: 'apisix.apache.org/v2',
        kind: 'ApisixRoute',
        metadata: {
          name: 'shop-podinfo-canary',
          namespace: 'shop',
          labels: { 'weir.dev/canary': 'podinfo' },
          annotations: { 'kubernetes.io/ingress.class': 'apisix' },
          ownerReferences: [owner],
        },
        spec: { ingressClassName: 'apisix', http: [weightedEntry(primary, canaryWeight)] },
      });
      expect(routesOfApisixRoute(weighted, route)).toEqual({
        canaryWeight,
        matchToCanary: false,
        mirror: false,
      });
    },
  );

  it('A/B: one entry per match, above the weights, with the user’s expressions kept', () => {
    const canary = ab([
      { headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { prefix: 'y.s' } } },
      { headers: { cookie: { regex: '.*canary=always.*' }, 'user-agent': { suffix: 'Mobile' } } },
    ]);
    const route = canaryApisixRoute(canary, userRoute, { canaryWeight: 0, matchToCanary: true });
    const userExpr = { subject: { scope: 'Header', name: 'x-env' }, op: 'Equal', value: 'prod' };
    const toCanary = [
      { serviceName: 'podinfo-canary', servicePort: 9898, resolveGranularity: 'service' },
    ];
    expect(route.spec!.http).toEqual([
      {
        ...weightedEntry(100, 0),
        name: 'web-ab-0',
        priority: 10001,
        match: {
          ...userRoute.spec!.http![0]!.match,
          exprs: [
            userExpr,
            { subject: { scope: 'Header', name: 'x-canary' }, op: 'Equal', value: 'insider' },
            { subject: { scope: 'Query', name: 'beta' }, op: 'RegexMatch', value: '^y\\.s' },
          ],
        },
        backends: toCanary,
      },
      {
        ...weightedEntry(100, 0),
        name: 'web-ab-1',
        priority: 10001,
        match: {
          ...userRoute.spec!.http![0]!.match,
          exprs: [
            userExpr,
            {
              subject: { scope: 'Header', name: 'cookie' },
              op: 'RegexMatch',
              value: '^(?:.*canary=always.*)$',
            },
            {
              subject: { scope: 'Header', name: 'user-agent' },
              op: 'RegexMatch',
              value: 'Mobile$',
            },
          ],
        },
        backends: toCanary,
      },
      weightedEntry(100, 0),
    ]);
    expect(routesOfApisixRoute(canary, route)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
  });

  it('refuses a route whose apex entry shares its traffic with another backend', () => {
    const shared: ApisixRouteObject = {
      spec: {
        http: [
          {
            name: 'web',
            match: { paths: ['/*'] },
            backends: [
              { serviceName: 'podinfo', servicePort: 9898 },
              { serviceName: 'legacy', servicePort: 80 },
            ],
          },
        ],
      },
    };
    expect(() =>
      canaryApisixRoute(weighted, shared, { canaryWeight: 10, matchToCanary: false }),
    ).toThrow(/http entry web sends traffic to Service podinfo and to other backends/);
  });
});

describe('apisixUnsupported', () => {
  const unsupported = (c: Canary) => apisixUnsupported(c, strategyOf(c.spec.analysis));
  it.each([
    {
      what: 'no routeRef',
      canary: withRef(canaryWith({}), null),
      message:
        /the apisix provider needs spec\.routeRef: the ApisixRoute \(apisix\.apache\.org\/v2\) whose http backend is Service podinfo/,
    },
    {
      what: 'another apiVersion',
      canary: withRef(canaryWith({}), { ...routeRef, apiVersion: 'apisix.apache.org/v2beta3' }),
      message: /spec\.routeRef\.apiVersion apisix\.apache\.org\/v2beta3 is not served/,
    },
    {
      what: 'spec.service.timeout',
      canary: withRef(canaryWith({ service: { timeout: '5s' } })),
      message:
        /spec\.service\.timeout is not supported by the apisix provider: set timeout \(connect, send, read\) on your ApisixRoute/,
    },
    {
      what: 'mirroring',
      canary: withRef(canaryWith({ analysis: { mirror: true } })),
      message: /the apisix provider cannot mirror traffic to the canary.*remove analysis\.mirror/,
    },
    {
      what: 'session affinity',
      canary: withRef(canaryWith({ analysis: { sessionAffinity: { cookieName: 'c' } } })),
      message: /cannot keep users on the canary \(analysis\.sessionAffinity\)/,
    },
    {
      what: 'sourceLabels',
      canary: ab([{ sourceLabels: { app: 'front' } }]),
      message: /analysis\.match\[0\]\.sourceLabels selects callers by workload labels/,
    },
    {
      what: 'a match with nothing to match',
      canary: ab([{ headers: { 'x-canary': { exact: 'a' } } }, {}]),
      message: /analysis\.match\[1\] matches nothing/,
    },
    { what: 'a weighted canary', canary: weighted, message: undefined },
    {
      what: 'A/B by header and query',
      canary: ab([{ headers: { a: { exact: '1' } }, queryParams: { b: { regex: 'x' } } }]),
      message: undefined,
    },
    {
      what: 'blue/green',
      canary: withRef(
        canaryWith({ analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 3 } }),
      ),
      message: undefined,
    },
  ])('$what', ({ canary, message }) => {
    if (message) expect(unsupported(canary)).toMatch(message);
    else expect(unsupported(canary)).toBeUndefined();
  });
});

describe('ApisixRouter', () => {
  /** A router over routes in memory, recording what it applies and how often it reads. */
  function harness(routes: Record<string, ApisixRouteObject>) {
    const applied: ApisixRouteObject[] = [];
    const reads: string[] = [];
    const read: ApisixRouteReader = async (_ns, name) => {
      reads.push(name);
      return routes[name];
    };
    const kube = {
      apply: async (obj: k8s.KubernetesObject) => {
        applied.push(obj as ApisixRouteObject);
        return obj;
      },
    } as unknown as KubeAccess;
    return { router: new ApisixRouter(kube, read), applied, reads };
  }

  it('reads the user’s route when traffic leaves the primary and when it returns, not in between', async () => {
    const { router, applied, reads } = harness({ shop: userRoute });
    for (const canaryWeight of [0, 10, 20, 0])
      await router.setRoutes(weighted, { canaryWeight, matchToCanary: false });
    expect(reads.filter((n) => n === 'shop')).toHaveLength(3);
    expect(applied.map((r) => routesOfApisixRoute(weighted, r)?.canaryWeight)).toEqual([
      0, 10, 20, 0,
    ]);
  });

  it('blocks with RouteNotFound, RouteBackendNotFound or NameConflict, naming the object', async () => {
    const missing = harness({});
    await expect(
      missing.router.setRoutes(weighted, { canaryWeight: 0, matchToCanary: false }),
    ).rejects.toMatchObject({
      reason: 'RouteNotFound',
      message: expect.stringContaining('ApisixRoute shop/shop (spec.routeRef) not found'),
    });
    const elsewhere = harness({
      shop: { spec: { http: [{ ...userRoute.spec!.http![1]! }] } },
    });
    await expect(
      elsewhere.router.setRoutes(weighted, { canaryWeight: 0, matchToCanary: false }),
    ).rejects.toMatchObject({
      reason: 'RouteBackendNotFound',
      message: expect.stringContaining('no http entry has Service podinfo as its backend'),
    });
    const taken = harness({ shop: userRoute, 'shop-podinfo-canary': { metadata: {} } });
    const err = await taken.router
      .setRoutes(weighted, { canaryWeight: 0, matchToCanary: false })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RoutingBlocked);
    expect(err).toMatchObject({
      reason: 'NameConflict',
      message:
        'ApisixRoute shop/shop-podinfo-canary exists and is not owned by this Canary: rename or delete it',
    });
    expect(taken.applied).toEqual([]);
  });

  it('finalize sends all traffic to the target on the copy', async () => {
    const { router, applied } = harness({ shop: userRoute });
    await router.finalize(weighted);
    expect(routesOfApisixRoute(weighted, applied[0])).toMatchObject({ canaryWeight: 100 });
  });
});
