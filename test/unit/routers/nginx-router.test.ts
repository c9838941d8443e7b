import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { KubeAccess } from '../../../src/kube/access.js';
import { canaryIngress, NginxRouter } from '../../../src/routers/nginx-router.js';
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

const { withRef, weighted, ab } = ingressCanaries('nginx');

/** The user's Ingress: the apex on two hosts, another Service beside it, TLS, a class. */
const userIngress: k8s.V1Ingress = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress',
  metadata: {
    name: 'web',
    namespace: 'shop',
    labels: { 'app.kubernetes.io/instance': 'shop' },
    annotations: {
      'kubernetes.io/ingress.class': 'nginx',
      'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
      'nginx.ingress.kubernetes.io/canary': 'false',
      'kubectl.kubernetes.io/last-applied-configuration': '{}',
      'argocd.argoproj.io/tracking-id': 'shop:networking.k8s.io/Ingress:shop/web',
    },
  },
  spec: {
    ingressClassName: 'nginx',
    tls: [{ hosts: ['shop.example.test'], secretName: 'shop-tls' }],
    rules: [
      {
        host: 'shop.example.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'podinfo', port: { number: 9898 } } },
            },
            {
              path: '/static',
              pathType: 'Prefix',
              backend: { service: { name: 'assets', port: { number: 80 } } },
            },
          ],
        },
      },
      {
        host: 'assets.example.test',
        http: {
          paths: [
            {
              path: '/',
              pathType: 'Prefix',
              backend: { service: { name: 'assets', port: { number: 80 } } },
            },
          ],
        },
      },
    ],
  },
};

const expectedSpec = {
  ingressClassName: 'nginx',
  tls: [{ hosts: ['shop.example.test'], secretName: 'shop-tls' }],
  rules: [
    {
      host: 'shop.example.test',
      http: {
        paths: [
          {
            path: '/',
            pathType: 'Prefix',
            backend: { service: { name: 'podinfo-canary', port: { number: 9898 } } },
          },
        ],
      },
    },
  ],
};
const kept = {
  'kubernetes.io/ingress.class': 'nginx',
  'nginx.ingress.kubernetes.io/proxy-body-size': '8m',
};

describe('canaryIngress', () => {
  it.each([0, 30, 100])('clones the apex paths to <apex>-canary at weight %i', (canaryWeight) => {
    expect(canaryIngress(weighted, userIngress, { canaryWeight, matchToCanary: false })).toEqual({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'Ingress',
      metadata: {
        name: 'web-canary',
        namespace: 'shop',
        labels: { 'weir.dev/canary': 'podinfo' },
        annotations: {
          ...kept,
          'nginx.ingress.kubernetes.io/canary': 'true',
          'nginx.ingress.kubernetes.io/canary-weight': String(canaryWeight),
        },
        ownerReferences: [owner],
      },
      spec: expectedSpec,
    });
  });

  it('keeps a default backend on the apex, drops one elsewhere', () => {
    const onApex = {
      ...userIngress,
      spec: { defaultBackend: { service: { name: 'podinfo', port: { name: 'http' } } } },
    };
    expect(canaryIngress(weighted, onApex, { canaryWeight: 5, matchToCanary: false }).spec).toEqual(
      {
        defaultBackend: { service: { name: 'podinfo-canary', port: { name: 'http' } } },
      },
    );
    const elsewhere = { ...userIngress, spec: { defaultBackend: { service: { name: 'x' } } } };
    expect(
      canaryIngress(weighted, elsewhere, { canaryWeight: 5, matchToCanary: false }).spec,
    ).toEqual({});
  });

  const a = 'nginx.ingress.kubernetes.io/';
  it.each<{ what: string; match: Match; annotations: Record<string, string> }>([
    {
      what: 'a header with an exact value',
      match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      annotations: {
        [`${a}canary-by-header`]: 'x-canary',
        [`${a}canary-by-header-value`]: 'insider',
      },
    },
    {
      what: 'a header regex, anchored to the whole value',
      match: [{ headers: { 'user-agent': { regex: '.*Firefox.*' } } }],
      annotations: {
        [`${a}canary-by-header`]: 'user-agent',
        [`${a}canary-by-header-pattern`]: '^(?:.*Firefox.*)$',
      },
    },
    {
      what: 'a header prefix and a suffix as patterns',
      match: [{ headers: { 'x-version': { prefix: 'v2.' } } }],
      annotations: {
        [`${a}canary-by-header`]: 'x-version',
        [`${a}canary-by-header-pattern`]: '^v2\\.',
      },
    },
    {
      what: 'a header suffix',
      match: [{ headers: { 'x-region': { suffix: '-eu' } } }],
      annotations: {
        [`${a}canary-by-header`]: 'x-region',
        [`${a}canary-by-header-pattern`]: '-eu$',
      },
    },
    {
      what: 'a cookie, named by the exact value as in Flagger',
      match: [{ headers: { cookie: { exact: 'canary' } } }],
      annotations: { [`${a}canary-by-cookie`]: 'canary' },
    },
    {
      what: 'a header or a cookie, in separate entries',
      match: [
        { headers: { 'x-canary': { exact: 'insider' } } },
        { headers: { Cookie: { exact: 'canary' } } },
      ],
      annotations: {
        [`${a}canary-by-header`]: 'x-canary',
        [`${a}canary-by-header-value`]: 'insider',
        [`${a}canary-by-cookie`]: 'canary',
      },
    },
  ])('A/B: $what, weight 0 for everyone else', ({ match, annotations }) => {
    const c = ab(match);
    const ingress = canaryIngress(c, userIngress, { canaryWeight: 0, matchToCanary: true });
    expect(ingress.metadata?.annotations).toEqual({
      ...kept,
      [`${a}canary`]: 'true',
      [`${a}canary-weight`]: '0',
      ...annotations,
    });
    // Outside the analysis the same Canary routes by weight only.
    expect(
      canaryIngress(c, userIngress, { canaryWeight: 0, matchToCanary: false }).metadata
        ?.annotations,
    ).toEqual({ ...kept, [`${a}canary`]: 'true', [`${a}canary-weight`]: '0' });
  });
});

describe('NginxRouter.unsupported', () => {
  const router = new NginxRouter({} as KubeAccess, async () => undefined);
  const cases: IngressUnsupportedCase[] = [
    ...ingressCloneCases('nginx'),
    {
      what: 'mirroring',
      analysis: { stepWeight: undefined, iterations: 3, mirror: true },
      strategy: 'blueGreen',
      message: /cannot mirror traffic/,
    },
    {
      what: 'mirror backends',
      analysis: {},
      strategy: 'canary',
      spec: { service: { port: 9898, mirror: [{ backendRef: { name: 'shadow', port: 80 } }] } },
      message:
        /^spec\.service\.mirror is not supported by the nginx provider: set nginx\.ingress\.kubernetes\.io\/mirror-target on your Ingress/,
    },
    {
      what: "routing fields NGINX takes from the user's Ingress",
      analysis: {},
      strategy: 'canary',
      spec: { service: { port: 9898, retries: { attempts: 3 }, hosts: ['shop.example'] } },
      message:
        /^spec\.service\.hosts is not supported by the nginx provider: set the hosts on your Ingress \(spec\.ingressRef\).*; spec\.service\.retries is not supported by the nginx provider: set the nginx\.ingress\.kubernetes\.io\/proxy-next-upstream annotations on your Ingress/,
    },
    {
      what: 'session affinity',
      analysis: { sessionAffinity: { cookieName: 'pin' } },
      strategy: 'canary',
      message: /cannot keep users on the canary \(analysis\.sessionAffinity\)/,
    },
    {
      what: 'an A/B header',
      analysis: { iterations: 3, match: [{ headers: { 'x-canary': { exact: 'insider' } } }] },
      strategy: 'abTesting',
      message: undefined,
    },
    {
      what: 'two headers in one entry',
      analysis: { iterations: 3, match: [{ headers: { a: { exact: '1' }, b: { exact: '2' } } }] },
      strategy: 'abTesting',
      message: /analysis\.match\[0\] requires a and b together/,
    },
    {
      what: 'two headers in two entries',
      analysis: {
        iterations: 3,
        match: [{ headers: { a: { exact: '1' } } }, { headers: { b: { exact: '2' } } }],
      },
      strategy: 'abTesting',
      message:
        /analysis\.match\[1\]: NGINX routes by one header only \(canary-by-header\), and a is already matched/,
    },
    {
      what: 'query parameters',
      analysis: { iterations: 3, match: [{ queryParams: { beta: { exact: '1' } } }] },
      strategy: 'abTesting',
      message:
        /analysis\.match\[0\]\.queryParams: an NGINX canary Ingress cannot match query parameters/,
    },
    {
      what: 'a cookie regex',
      analysis: { iterations: 3, match: [{ headers: { cookie: { regex: 'canary=.*' } } }] },
      strategy: 'abTesting',
      message: /headers\.cookie: for NGINX, exact names the cookie/,
    },
    {
      what: 'two cookies',
      analysis: {
        iterations: 3,
        match: [{ headers: { cookie: { exact: 'a' } } }, { headers: { cookie: { exact: 'b' } } }],
      },
      strategy: 'abTesting',
      message: /one cookie only \(canary-by-cookie\), and a is already matched/,
    },
    {
      what: 'Istio source labels',
      analysis: { iterations: 3, match: [{ sourceLabels: { app: 'web' } }] },
      strategy: 'abTesting',
      message: /sourceLabels selects callers by workload labels, which only Istio can do/,
    },
  ];
  it.each(cases)('$what', (row) => expectUnsupported(router, withRef, row));
});

const harness = (objects: Record<string, k8s.V1Ingress | undefined>) =>
  fakeIngressApi(objects, (kube, read) => new NginxRouter(kube, read));
const weightOf = (i: k8s.V1Ingress | undefined) =>
  i?.metadata?.annotations?.['nginx.ingress.kubernetes.io/canary-weight'];

describe('NginxRouter', () => {
  it('reads the user’s Ingress only when traffic leaves or returns to the primary', async () => {
    const { router, reads, applied } = harness({ web: userIngress });
    const steps = [0, 10, 20, 30, 0];
    const readsPerStep: number[] = [];
    for (const canaryWeight of steps) {
      const before = reads.length;
      await router.setRoutes(weighted, { canaryWeight, matchToCanary: false });
      readsPerStep.push(reads.length - before);
    }
    expect(applied.map(weightOf)).toEqual(['0', '10', '20', '30', '0']);
    // Each read is the user's Ingress and the clone's name (to see it is Weir's).
    expect(readsPerStep).toEqual([2, 2, 0, 0, 2]);
    // A changed Canary reads again.
    const edited = { ...weighted, metadata: { ...weighted.metadata, generation: 2 } };
    await router.setRoutes(edited, { canaryWeight: 10, matchToCanary: false });
    await router.setRoutes(edited, { canaryWeight: 20, matchToCanary: false });
    expect(reads.length).toBe(8);
  });

  itClonesTheUsersIngress({
    harness,
    weighted,
    ab,
    userIngress,
    noApex: {
      what: 'no path reaches the apex',
      ingress: { ...userIngress, spec: { rules: [userIngress.spec!.rules![1]!] } },
      message: /Ingress shop\/web has no backend on Service podinfo/,
    },
  });

  it('finalize sends all traffic to the target through the clone, and gives up quietly without the user’s Ingress', async () => {
    const h = harness({ web: userIngress });
    await h.router.finalize(weighted);
    expect(weightOf(h.applied.at(-1))).toBe('100');
    const gone = harness({});
    await expect(gone.router.finalize(weighted)).resolves.toBeUndefined();
    expect(gone.applied).toEqual([]);
  });
});
