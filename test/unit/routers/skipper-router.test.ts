import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../../src/kube/access.js';
import { SkipperRouter, skipperIngress } from '../../../src/routers/skipper-router.js';
import { owner } from './fixtures.js';
import {
  expectUnsupported,
  fakeIngressApi,
  ingressCloneCases,
  itClonesTheUsersIngress,
  ingressCanaries,
  type IngressUnsupportedCase,
  type Match,
} from './ingress-clone-fixtures.js';

const { withRef, weighted, ab } = ingressCanaries('skipper');

const z = 'zalando.org/';
const backend = (name: string, port: k8s.V1ServiceBackendPort = { number: 9898 }) => ({
  service: { name, port },
});

/** The user's Ingress: the apex on one host, another Service beside it, TLS, Skipper settings. */
const userIngress: k8s.V1Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'web',
    namespace: 'shop',
    labels: { 'app.kubernetes.io/instance': 'shop' },
    annotations: {
      'kubernetes.io/ingress.class': 'skipper',
      [`${z}skipper-filter`]: 'consecutiveBreaker(15)',
      [`${z}skipper-predicate`]: 'Method("GET")',
      [`${z}skipper-routes`]: 'health: Path("/healthz") -> status(200) -> <shunt>',
      [`${z}backend-weights`]: '{"podinfo": 100}',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
    },
  },
  spec: {
    ingressClassName: 'skipper',
    tls: [{ hosts: ['shop.example.test'], secretName: 'shop-tls' }],
    defaultBackend: backend('podinfo'),
    rules: [
      {
        host: 'shop.example.test',
        http: {
          paths: [
            { path: '/', pathType: 'Prefix', backend: backend('podinfo') },
            { path: '/static', pathType: 'Prefix', backend: backend('assets', { number: 80 }) },
          ],
        },
      },
      {
        host: 'assets.example.test',
        http: {
          paths: [{ path: '/', pathType: 'Prefix', backend: backend('assets', { number: 80 }) }],
        },
      },
    ],
  },
};

// Each apex path twice, to the primary and to the canary; no default backend (it cannot be split).
const expectedSpec = {
  ingressClassName: 'skipper',
  tls: [{ hosts: ['shop.example.test'], secretName: 'shop-tls' }],
  rules: [
    {
      host: 'shop.example.test',
      http: {
        paths: [
          { path: '/', pathType: 'Prefix', backend: backend('podinfo-primary') },
          { path: '/', pathType: 'Prefix', backend: backend('podinfo-canary') },
        ],
      },
    },
  ],
};
// The user's Skipper settings, but not their extra routes nor their weights and predicate.
const kept = {
  'kubernetes.io/ingress.class': 'skipper',
  [`${z}skipper-filter`]: 'consecutiveBreaker(15)',
};
const weights = (primary: number, canary: number) =>
  JSON.stringify({ 'podinfo-primary': primary, 'podinfo-canary': canary });

describe('skipperIngress', () => {
  it.each([
    { canaryWeight: 0, predicate: 'False()', primary: 100 },
    { canaryWeight: 10, predicate: 'Weight(100) && Method("GET")', primary: 90 },
    { canaryWeight: 50, predicate: 'Weight(100) && Method("GET")', primary: 50 },
    { canaryWeight: 100, predicate: 'Weight(100) && Method("GET")', primary: 0 },
  ])(
    'at weight $canaryWeight: backend-weights $primary/$canaryWeight, predicate $predicate',
    ({ canaryWeight, predicate, primary }) => {
      expect(skipperIngress(weighted, userIngress, { canaryWeight, matchToCanary: false })).toEqual(
        {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: {
            name: 'web-canary',
            namespace: 'shop',
            labels: { 'weir.dev/canary': 'podinfo' },
            annotations: {
              ...kept,
              [`${z}backend-weights`]: weights(primary, canaryWeight),
              [`${z}skipper-predicate`]: predicate,
            },
            ownerReferences: [owner],
          },
          spec: expectedSpec,
        },
      );
    },
  );

  it('keeps a named port, and needs no predicate of the user’s', () => {
    const plain: k8s.V1Ingress = {
      metadata: { name: 'web' },
      spec: {
        rules: [
          {
            http: {
              paths: [
                { path: '/api', pathType: 'Exact', backend: backend('podinfo', { name: 'http' }) },
              ],
            },
          },
        ],
      },
    };
    const ingress = skipperIngress(weighted, plain, { canaryWeight: 20, matchToCanary: false });
    expect(ingress.spec).toEqual({
      rules: [
        {
          http: {
            paths: [
              {
                path: '/api',
                pathType: 'Exact',
                backend: backend('podinfo-primary', { name: 'http' }),
              },
              {
                path: '/api',
                pathType: 'Exact',
                backend: backend('podinfo-canary', { name: 'http' }),
              },
            ],
          },
        },
      ],
    });
    expect(ingress.metadata?.annotations).toEqual({
      [`${z}backend-weights`]: weights(80, 20),
      [`${z}skipper-predicate`]: 'Weight(100)',
    });
  });

  it.each<{ what: string; match: Match; predicates: string }>([
    {
      what: 'a header with an exact value',
      match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      predicates: 'Header("x-canary", "insider")',
    },
    {
      what: 'a header regex, anchored to the whole value',
      match: [{ headers: { 'user-agent': { regex: '.*Firefox.*' } } }],
      predicates: 'HeaderRegexp("user-agent", "^(?:.*Firefox.*)$")',
    },
    {
      what: 'a header prefix, escaped',
      match: [{ headers: { 'x-version': { prefix: 'v2.' } } }],
      predicates: 'HeaderRegexp("x-version", "^v2\\\\.")',
    },
    {
      what: 'a header suffix',
      match: [{ headers: { 'x-region': { suffix: '-eu' } } }],
      predicates: 'HeaderRegexp("x-region", "-eu$")',
    },
    {
      what: 'a cookie, as a header (as Istio and Gateway API match it)',
      match: [{ headers: { cookie: { regex: '^(.*?;)?(canary=always)(;.*)?$' } } }],
      predicates: 'HeaderRegexp("cookie", "^(?:^(.*?;)?(canary=always)(;.*)?$)$")',
    },
    {
      what: 'a quote in a value, escaped for eskip',
      match: [{ headers: { 'x-tag': { exact: 'say "hi"' } } }],
      predicates: 'Header("x-tag", "say \\"hi\\"")',
    },
    {
      what: 'headers and query parameters of one entry, all required',
      match: [
        {
          headers: { 'x-canary': { exact: 'insider' } },
          queryParams: { beta: { exact: 'on' }, ui: { prefix: 'v2' } },
        },
      ],
      predicates:
        'Header("x-canary", "insider") && QueryParam("beta", "^on$") && QueryParam("ui", "^v2")',
    },
  ])(
    'A/B: $what, all of it to the canary, the rest through the user’s Ingress',
    ({ match, predicates }) => {
      const c = ab(match);
      const ingress = skipperIngress(c, userIngress, { canaryWeight: 0, matchToCanary: true });
      expect(ingress.metadata?.annotations).toEqual({
        ...kept,
        [`${z}backend-weights`]: weights(0, 100),
        [`${z}skipper-predicate`]: `Weight(100) && ${predicates} && Method("GET")`,
      });
      // Outside the analysis the same Canary's clone is off.
      expect(
        skipperIngress(c, userIngress, { canaryWeight: 0, matchToCanary: false }).metadata
          ?.annotations,
      ).toEqual({
        ...kept,
        [`${z}backend-weights`]: weights(100, 0),
        [`${z}skipper-predicate`]: 'False()',
      });
    },
  );
});

describe('SkipperRouter.unsupported', () => {
  const router = new SkipperRouter({} as KubeAccess, async () => undefined);
  const cases: IngressUnsupportedCase[] = [
    ...ingressCloneCases('skipper'),
    {
      what: 'mirroring',
      analysis: { stepWeight: undefined, iterations: 3, mirror: true },
      strategy: 'blueGreen',
      message: /^the skipper provider cannot mirror traffic to the canary/,
    },
    {
      what: 'session affinity',
      analysis: { sessionAffinity: { cookieName: 'pin' } },
      strategy: 'canary',
      message:
        /^the skipper provider cannot keep users on the canary \(analysis\.sessionAffinity\)/,
    },
    {
      what: "routing fields Skipper takes from the user's Ingress",
      analysis: {},
      strategy: 'canary',
      spec: { service: { port: 9898, timeout: '5s', hosts: ['shop.example'] } },
      message:
        /^spec\.service\.timeout is not supported by the skipper provider: set a backendTimeout\(\) filter in zalando\.org\/skipper-filter on your Ingress.*; spec\.service\.hosts is not supported by the skipper provider: set the hosts on your Ingress/,
    },
    {
      what: 'an A/B header and query parameter',
      analysis: {
        iterations: 3,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } }, queryParams: { b: { regex: '1|2' } } },
        ],
      },
      strategy: 'abTesting',
      message: undefined,
    },
    {
      what: 'two match entries',
      analysis: {
        iterations: 3,
        match: [{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }],
      },
      strategy: 'abTesting',
      message:
        /^analysis\.match\[1\]: a Skipper route has one predicate expression, in which every condition must hold/,
    },
    {
      what: 'Istio source labels',
      analysis: { iterations: 3, match: [{ sourceLabels: { app: 'web' } }] },
      strategy: 'abTesting',
      message:
        /^analysis\.match\[0\]\.sourceLabels selects callers by workload labels, which only Istio can do/,
    },
    {
      what: 'an empty match entry',
      analysis: { iterations: 3, match: [{}] },
      strategy: 'abTesting',
      message: /^analysis\.match\[0\] has no header or query parameter/,
    },
  ];
  it.each(cases)('$what', (row) => expectUnsupported(router, withRef, row));
});

const harness = (objects: Record<string, k8s.V1Ingress | undefined>) =>
  fakeIngressApi(objects, (kube, read) => new SkipperRouter(kube, read));
const weightsOf = (i: k8s.V1Ingress | undefined) =>
  i?.metadata?.annotations?.[`${z}backend-weights`];

describe('SkipperRouter', () => {
  it('steps the weights on the clone, reading the user’s Ingress only when traffic leaves or returns to the primary', async () => {
    const { router, reads, applied } = harness({ web: userIngress });
    const readsPerStep: number[] = [];
    for (const canaryWeight of [0, 10, 20, 30, 0]) {
      const before = reads.length;
      await router.setRoutes(weighted, { canaryWeight, matchToCanary: false });
      readsPerStep.push(reads.length - before);
    }
    expect(applied.map(weightsOf)).toEqual([
      weights(100, 0),
      weights(90, 10),
      weights(80, 20),
      weights(70, 30),
      weights(100, 0),
    ]);
    expect(readsPerStep).toEqual([2, 2, 0, 0, 2]);
  });

  itClonesTheUsersIngress({
    harness,
    weighted,
    ab,
    userIngress,
    noApex: {
      what: 'only the default backend reaches the apex (it cannot be split)',
      ingress: { ...userIngress, spec: { defaultBackend: backend('podinfo') } },
      message: /Ingress shop\/web has no backend on Service podinfo: point the paths to release/,
    },
  });

  it('finalize sends all traffic to the target through the clone', async () => {
    const h = harness({ web: userIngress });
    await h.router.finalize(weighted);
    expect(weightsOf(h.applied.at(-1))).toBe(weights(0, 100));
    expect(h.applied.at(-1)?.metadata?.annotations?.[`${z}skipper-predicate`]).toBe(
      'Weight(100) && Method("GET")',
    );
  });
});
