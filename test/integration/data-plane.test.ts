import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinQuery, type QueryRole } from '../../src/analysis/builtin-queries.js';
import { renderQuery } from '../../src/analysis/query-template.js';
import type { Canary } from '../../src/api/types.js';
import {
  gatewayClassName,
  gatewayPort,
  startDataPlane,
  type DataPlane,
} from '../harness/data-plane.js';
import { sendRequests, SteadyLoad, type LoadCounts } from '../harness/load.js';
import { startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { waitFor } from '../harness/wait.js';

const namespace = 'edge';
/** Requests per measured weight, and the tolerance stated for them (see withinTolerance). */
const perWeight = 1_000;

/**
 * The largest distance from the weight that a fair weighted split may show over n
 * requests with 99.95 % confidence: 3.5 standard deviations of the binomial share,
 * plus one request. Traefik's smooth weighted round robin is exact up to rounding,
 * so this bound is generous; a router that sent the wrong share breaks it.
 */
const tolerance = (weight: number, n: number) =>
  ((3.5 * Math.sqrt((weight / 100) * (1 - weight / 100) * n) + 1) / n) * 100;

/** A Deployment of the demo app whose pods the data plane runs (probe, preStop, scrape). */
function appDeployment(name: string, version: string, replicas = 2): k8s.V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: {
          labels: { app: name },
          annotations: { 'prometheus.io/scrape': 'true', 'prometheus.io/port': '8080' },
        },
        spec: {
          containers: [
            {
              name: 'app',
              image: `weir-demo-app:${version}`,
              ports: [{ name: 'http', containerPort: 8080 }],
              env: [
                { name: 'APP_VERSION', value: version },
                { name: 'ERROR_RATE', value: '0' },
              ],
              readinessProbe: { httpGet: { path: '/healthz', port: 'http' } },
              // The gateway drops a terminating pod's endpoint within its 2 s throttle.
              lifecycle: { preStop: { sleep: { seconds: 4 } } },
            },
          ],
        },
      },
    },
  };
}

// Given a real control plane whose pods run on their pod IPs in a network namespace, with
// Traefik v3.6.12 in it reading the Gateway API and its own CRDs from the API server, and
// a real Prometheus scraping Traefik and the pods: the routers' objects do to real
// requests what Weir meant. Weir runs in-process on a manual clock with scripted checks.
describe('routers through a real data plane (Traefik v3.6.12)', () => {
  let bed: RouterTestbed;
  let dp: DataPlane;
  const measured: string[] = [];

  /** A new revision of `name`: version (and error rate) in the pod template. */
  const releaseVersion = (name: string, version: string, errorRate = '0') =>
    bed.apps.patchNamespacedDeployment(
      {
        name,
        namespace,
        body: {
          spec: {
            template: {
              spec: {
                containers: [
                  {
                    name: 'app',
                    image: `weir-demo-app:${version}`,
                    env: [
                      { name: 'APP_VERSION', value: version },
                      { name: 'ERROR_RATE', value: errorRate },
                    ],
                  },
                ],
              },
            },
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );

  const bootstrap = async (
    name: string,
    analysis: Canary['spec']['analysis'],
    provider: 'gatewayapi' | 'traefik' = 'gatewayapi',
  ) => {
    await bed.apps.createNamespacedDeployment({ namespace, body: appDeployment(name, '1.0.0') });
    const gateway = { gatewayRefs: [{ name: 'public' }], hosts: [`${name}.example.test`] };
    await bed.objects.create({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'Canary',
      metadata: { name, namespace },
      spec: {
        provider,
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
        service: { port: 80, targetPort: 8080, ...(provider === 'gatewayapi' ? gateway : {}) },
        analysis,
      },
    } as Canary);
    if (provider === 'traefik')
      // The team's own IngressRoute sends its host to the TraefikService Weir owns.
      await bed.objects.create({
        apiVersion: 'traefik.io/v1alpha1',
        kind: 'IngressRoute',
        metadata: { name, namespace },
        spec: {
          entryPoints: ['web'],
          routes: [
            {
              kind: 'Rule',
              match: `Host(\`${name}.example.test\`)`,
              services: [{ kind: 'TraefikService', name }],
            },
          ],
        },
      });
    await bed.untilPhase(name, 'Initialized');
  };
  /** The built-in query of `metric` for `provider`, rendered for `name`'s `role`. */
  const builtin = (
    provider: string,
    metric: 'request-success-rate' | 'request-duration',
    name: string,
    role: QueryRole,
  ) =>
    renderQuery(builtinQuery(provider, metric, role) as string, {
      name,
      namespace,
      target: role === 'canary' ? name : `${name}-primary`,
      service: name,
      backend: `${name}-${role}`,
      ingress: name,
      route: name,
      interval: '1m',
      role,
      variables: {},
    });
  /** The built-in success rates of both roles, once Prometheus has data for both. */
  const successRates = (provider: string, name: string) =>
    waitFor(
      async () => {
        const both = await Promise.all(
          (['canary', 'primary'] as const).map(
            async (role) =>
              (await dp.prometheus.query(builtin(provider, 'request-success-rate', name, role)))[0]
                ?.value,
          ),
        );
        return both.every((v) => v !== undefined && Number.isFinite(v)) ? both : undefined;
      },
      { timeoutMs: 30_000, what: `Prometheus to have both success rates of ${name}` },
    );

  /**
   * Waits until Traefik applies `primary`/`canary` as the weights of `name`'s split, with
   * servers behind each backend that gets a share (its endpoints may come a reload later).
   */
  const applied = (name: string, primary: number, canary: number) =>
    waitFor(
      async () => {
        for (const backends of Object.values(await dp.appliedWeights())) {
          const backend = (role: string) =>
            Object.entries(backends).find(([b]) =>
              b.startsWith(`${namespace}-${name}-${role}-`),
            )?.[1];
          const p = backend('primary');
          const c = backend('canary');
          const served = (b: { weight: number; servers: number }) =>
            b.weight === 0 || b.servers > 0;
          if (p?.weight === primary && c?.weight === canary && served(p) && served(c)) return true;
        }
        return undefined;
      },
      { timeoutMs: 30_000, what: `Traefik to apply ${primary}/${canary} for ${name}` },
    );

  const send = (name: string, n: number, headers: Record<string, string> = {}) =>
    sendRequests(`${dp.gatewayUrl}/`, n, {
      headers: { host: `${name}.example.test`, ...headers },
      concurrency: 8,
    });
  const share = (c: LoadCounts, version: string) =>
    ((c.answers[`200 hello from ${version}`] ?? 0) / c.total) * 100;
  /** The canary's pods terminate after the route has left them; waits until they are gone. */
  const canaryPodsGone = (name: string) =>
    waitFor(
      async () =>
        (
          await bed.cluster.kubectl([
            'get',
            'pods',
            '-n',
            namespace,
            '-l',
            `app=${name}`,
            '-o',
            'name',
          ])
        ).trim()
          ? undefined
          : true,
      { timeoutMs: 60_000, what: `${name}'s canary pods to be gone` },
    );
  const weightIs = (name: string, weight: number) => async () =>
    (await bed.canary(name)).status?.canaryWeight === weight ? true : undefined;

  beforeAll(async () => {
    bed = await startRouterTestbed({
      namespace,
      startTime: '2026-12-05T10:00:00Z',
      podRunner: true,
    });
    dp = await startDataPlane(bed.cluster, { crdProvider: true });
    await bed.objects.create({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace },
      spec: {
        gatewayClassName,
        listeners: [{ name: 'http', protocol: 'HTTP', port: gatewayPort }],
      },
    });
  });

  afterAll(async () => {
    if (measured.length) console.log(`data plane measurements:\n${measured.join('\n')}`);
    await dp?.stop();
    await bed?.stop();
  });

  it('sends 0, 10, 50 and 100 % of requests to the canary as the weights say, and drops none through promotion', async () => {
    await bootstrap('web', { interval: '10s', threshold: 2, stepWeights: [10, 50, 100] });
    await applied('web', 100, 0);
    const atRest = await send('web', 400);
    expect(atRest.failed, JSON.stringify(atRest.answers)).toBe(0);
    expect(share(atRest, '1.0.0')).toBe(100);

    const load = new SteadyLoad(`${dp.gatewayUrl}/`, 50, { host: 'web.example.test' }).start();
    try {
      await releaseVersion('web', '1.0.1');
      for (const weight of [10, 50, 100]) {
        await bed.until(`web at ${weight} %`, weightIs('web', weight));
        await applied('web', 100 - weight, weight);
        const c = await send('web', perWeight);
        const got = share(c, '1.0.1');
        measured.push(
          `gatewayapi weight ${weight}: canary ${got.toFixed(1)} % of ${c.total} (tolerance ±${tolerance(weight, perWeight).toFixed(1)}), failed ${c.failed}`,
        );
        expect(c.failed).toBe(0);
        expect(Math.abs(got - weight)).toBeLessThanOrEqual(tolerance(weight, perWeight));
        expect(
          (c.answers['200 hello from 1.0.0'] ?? 0) + (c.answers['200 hello from 1.0.1'] ?? 0),
        ).toBe(c.total);
      }
      await bed.untilPhase('web', 'Succeeded');
      await applied('web', 100, 0);
      // The canary's pods terminate after the route has left them; wait until they are gone.
      await canaryPodsGone('web');
    } finally {
      const through = await load.stop();
      measured.push(
        `gatewayapi promotion: ${through.total} requests at 50/s from the start of the release to the end of promotion, failed ${through.failed} ${through.examples.join('; ')}`,
      );
      expect(through.failed).toBe(0);
    }
    const after = await send('web', 200);
    expect(share(after, '1.0.1')).toBe(100);
  }, 300_000);

  it('rolls back without dropping a request', async () => {
    const load = new SteadyLoad(`${dp.gatewayUrl}/`, 50, { host: 'web.example.test' }).start();
    try {
      await releaseVersion('web', '1.0.2');
      await bed.until('web at 50 %', weightIs('web', 50));
      await applied('web', 50, 50);
      bed.checks.outcome = { passed: false, failures: ['request-success-rate 80% < 99%'] };
      await bed.untilPhase('web', 'Failed');
      bed.checks.outcome = { passed: true, failures: [] };
      await applied('web', 100, 0);
      await canaryPodsGone('web');
    } finally {
      bed.checks.outcome = { passed: true, failures: [] };
      const through = await load.stop();
      measured.push(
        `gatewayapi rollback: ${through.total} requests at 50/s from the start of the release to the end of the rollback, failed ${through.failed} ${through.examples.join('; ')}`,
      );
      expect(through.failed).toBe(0);
    }
    const after = await send('web', 200);
    expect(share(after, '1.0.1')).toBe(100);
  }, 300_000);

  it('A/B: only requests with the header or the cookie reach the canary, and the built-ins read its pods from Prometheus', async () => {
    await bootstrap('shop', {
      interval: '10s',
      threshold: 2,
      iterations: 3,
      match: [
        { headers: { 'x-canary': { exact: 'insider' } } },
        // A browser separates cookies with "; ": the regex allows the space.
        { headers: { cookie: { regex: '^(.*?; ?)?(canary=always)(;.*)?$' } } },
      ],
    });
    // The canary fails one request in five: its built-in success rate must say 80 %.
    await releaseVersion('shop', '2.0.0', '0.2');
    await bed.until('shop to route A/B', async () =>
      (await bed.canary('shop')).status?.phase === 'Progressing' &&
      (
        await bed.cluster.kubectl(['get', 'httproute', 'shop', '-n', namespace, '-o', 'json'])
      ).includes('insider')
        ? true
        : undefined,
    );
    // Wait until the gateway routes the header to the canary.
    await waitFor(
      async () =>
        (await send('shop', 8, { 'x-canary': 'insider' })).answers['200 hello from 2.0.0']
          ? true
          : undefined,
      { timeoutMs: 30_000, what: 'Traefik to route x-canary to the canary' },
    );
    const header = await send('shop', 500, { 'x-canary': 'insider' });
    const cookie = await send('shop', 500, { cookie: 'theme=dark; canary=always' });
    const others = await send('shop', 500, { 'x-canary': 'outsider', cookie: 'canary=never' });
    const toCanary = (c: LoadCounts) =>
      (c.answers['200 hello from 2.0.0'] ?? 0) + (c.answers['500 error from 2.0.0'] ?? 0);
    measured.push(
      `gatewayapi A/B: with the header ${toCanary(header)}/500 to the canary, with the cookie ${toCanary(cookie)}/500, others ${toCanary(others)}/500`,
    );
    expect(toCanary(header)).toBe(500);
    expect(toCanary(cookie)).toBe(500);
    expect(share(others, '1.0.0')).toBe(100);

    // The built-in queries of gatewayapi read the app's own metrics of the pods Prometheus
    // scraped, under steady traffic as in a release: the canary's 20 % errors, the primary's none.
    const url = `${dp.gatewayUrl}/`;
    const insiders = new SteadyLoad(url, 20, { host: 'shop.example.test', 'x-canary': 'insider' });
    const everyone = new SteadyLoad(url, 20, { host: 'shop.example.test' });
    insiders.start();
    everyone.start();
    // A dozen seconds of it (some 240 requests a side) before the first look.
    await new Promise((r) => setTimeout(r, 12_000));
    const [canaryRate, primaryRate] = await successRates('gatewayapi', 'shop').finally(() =>
      Promise.all([insiders.stop(), everyone.stop()]),
    );
    measured.push(
      `gatewayapi built-in request-success-rate: canary ${canaryRate?.toFixed(1)} %, primary ${primaryRate?.toFixed(1)} %`,
    );
    expect(Math.abs(canaryRate! - 80)).toBeLessThan(3);
    expect(primaryRate).toBe(100);
    const p99 = builtin('gatewayapi', 'request-duration', 'shop', 'canary');
    expect((await dp.prometheus.query(p99))[0]?.value).toBeGreaterThan(0);

    bed.checks.outcome = { passed: false, failures: ['request-success-rate 80% < 99%'] };
    await bed.untilPhase('shop', 'Failed');
    bed.checks.outcome = { passed: true, failures: [] };
  }, 300_000);

  it('gatewayapi on Traefik: session affinity is refused (UnsupportedByGateway) with traffic left on the primary, because Traefik breaks what it needs', async () => {
    await bootstrap('cart', {
      interval: '10s',
      threshold: 2,
      stepWeight: 20,
      maxWeight: 40,
      sessionAffinity: { cookieName: 'cart-canary' },
    });
    await releaseVersion('cart', '1.1.0');
    const blocked = await bed.untilReady('cart', 'UnsupportedByGateway');
    expect(blocked.message).toContain('traefik.io/gateway-controller');
    expect(blocked.message).toContain('remove analysis.sessionAffinity');
    await applied('cart', 100, 0);
    const during = await send('cart', 300);
    expect(during.failed).toBe(0);
    expect(during.answers['200 hello from 1.0.0']).toBe(300);

    // Why: Traefik v3.6 sends no Set-Cookie from a backendRef's filter, and answers 500 to
    // every request of a rule with a RequestMirror filter. When an upgrade implements either,
    // this fails: drop its entry from src/routers/gateway-implementations.ts.
    await bed.applyAsUser({
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'HTTPRoute',
      metadata: { name: 'gaps', namespace },
      spec: {
        parentRefs: [{ name: 'public' }],
        hostnames: ['gaps.example.test'],
        rules: [
          {
            matches: [{ headers: [{ name: 'x-mirror', value: 'yes' }] }],
            filters: [
              {
                type: 'RequestMirror',
                requestMirror: { backendRef: { name: 'cart-canary', port: 80 } },
              },
            ],
            backendRefs: [{ name: 'cart-primary', port: 80 }],
          },
          {
            backendRefs: [
              {
                name: 'cart-primary',
                port: 80,
                filters: [
                  {
                    type: 'ResponseHeaderModifier',
                    responseHeaderModifier: { add: [{ name: 'Set-Cookie', value: 'pin=1' }] },
                  },
                ],
              },
            ],
          },
        ],
      },
    });
    await waitFor(
      async () =>
        (await send('gaps', 4)).answers['200 hello from 1.0.0'] === 4 ? true : undefined,
      { timeoutMs: 30_000, what: 'Traefik to route gaps.example.test' },
    );
    const cookies = await send('gaps', 200);
    const mirrored = await send('gaps', 200, { 'x-mirror': 'yes' });
    measured.push(
      `Traefik's Gateway provider: ${Object.values(cookies.setCookies).reduce((a, b) => a + b, 0)} Set-Cookie from a backendRef filter in 200 answers; ` +
        `a RequestMirror rule answered ${JSON.stringify(mirrored.answers)}`,
    );
    expect(cookies.answers['200 hello from 1.0.0']).toBe(200);
    expect(cookies.setCookies).toEqual({});
    expect(mirrored.failed).toBe(200);
    expect(Object.keys(mirrored.answers).every((k) => k.startsWith('500'))).toBe(true);
  }, 300_000);

  it('traefik: the TraefikService splits 20 and 40 %, promotes without a failed request, and its built-ins read Traefik from Prometheus', async () => {
    await bootstrap(
      'edge-web',
      { interval: '10s', threshold: 2, stepWeight: 20, maxWeight: 40 },
      'traefik',
    );
    await waitFor(
      async () =>
        (await send('edge-web', 4)).answers['200 hello from 1.0.0'] === 4 ? true : undefined,
      { timeoutMs: 30_000, what: 'Traefik to route the IngressRoute to the primary' },
    );
    const load = new SteadyLoad(`${dp.gatewayUrl}/`, 50, { host: 'edge-web.example.test' }).start();
    try {
      // The canary fails one request in ten: Traefik's own metrics must say so.
      await releaseVersion('edge-web', '1.0.1', '0.1');
      for (const weight of [20, 40]) {
        await bed.until(`edge-web at ${weight} %`, weightIs('edge-web', weight));
        await applied('edge-web', 100 - weight, weight);
        const c = await send('edge-web', perWeight);
        const got =
          (((c.answers['200 hello from 1.0.1'] ?? 0) + (c.answers['500 error from 1.0.1'] ?? 0)) /
            c.total) *
          100;
        measured.push(
          `traefik weight ${weight}: canary ${got.toFixed(1)} % of ${c.total} (tolerance ±${tolerance(weight, perWeight).toFixed(1)})`,
        );
        expect(Math.abs(got - weight)).toBeLessThanOrEqual(tolerance(weight, perWeight));
      }
      const [canaryRate, primaryRate] = await successRates('traefik', 'edge-web');
      measured.push(
        `traefik built-in request-success-rate (traefik_service_requests_total): canary ${canaryRate?.toFixed(1)} %, primary ${primaryRate?.toFixed(1)} %`,
      );
      expect(canaryRate).toBeGreaterThan(85);
      expect(canaryRate).toBeLessThan(95);
      expect(primaryRate).toBe(100);
      expect(
        (await dp.prometheus.query(builtin('traefik', 'request-duration', 'edge-web', 'canary')))[0]
          ?.value,
      ).toBeGreaterThan(0);
    } finally {
      const during = load.take();
      // Only the canary's own 500s fail: the gateway drops nothing.
      const dropped =
        during.failed -
        Object.entries(during.answers)
          .filter(([k]) => k === '500 error from 1.0.1')
          .reduce((a, [, n]) => a + n, 0);
      measured.push(
        `traefik release: ${during.total} requests, ${dropped} failed other than the canary's own 500s`,
      );
      expect(dropped).toBe(0);
      await load.stop();
    }
  }, 300_000);

  it('traefik: mirroring copies the share of requests it names to the canary, and only the primary answers', async () => {
    await bootstrap(
      'mirror',
      { interval: '10s', threshold: 2, iterations: 3, mirror: true, mirrorWeight: 50 },
      'traefik',
    );
    const canaryRequests = async () =>
      (
        await dp.prometheus.query(
          `sum(http_requests_total{namespace="${namespace}", pod=~"mirror-[0-9a-z]+-[0-9a-z]+"})`,
        )
      )[0]?.value ?? 0;
    await releaseVersion('mirror', '1.0.1');
    await bed.until('mirror to be mirrored', async () =>
      (
        await bed.cluster.kubectl([
          'get',
          'traefikservice',
          'mirror',
          '-n',
          namespace,
          '-o',
          'json',
        ])
      ).includes('mirroring')
        ? true
        : undefined,
    );
    // Until Traefik applies the mirroring service, nothing reaches the canary.
    await waitFor(
      async () => {
        await send('mirror', 10);
        return (await canaryRequests()) > 0 ? true : undefined;
      },
      { timeoutMs: 30_000, what: 'Traefik to mirror requests to the canary' },
    );
    await new Promise((r) => setTimeout(r, 2_500)); // two scrapes: the count is complete
    const before = await canaryRequests();
    const c = await send('mirror', 400);
    const after = await waitFor(
      async () => {
        const a = await canaryRequests();
        await new Promise((r) => setTimeout(r, 2_500));
        return (await canaryRequests()) === a && a > before ? a : undefined;
      },
      { timeoutMs: 30_000, what: "the canary's request count to settle" },
    );
    const mirrored = after - before;
    measured.push(
      `traefik mirroring at 50 %: ${c.answers['200 hello from 1.0.0'] ?? 0}/400 answered by the primary, ${mirrored} copies reached the canary`,
    );
    expect(c.answers['200 hello from 1.0.0']).toBe(400);
    expect(Math.abs((mirrored / 400) * 100 - 50)).toBeLessThanOrEqual(tolerance(50, 400));
    bed.checks.outcome = { passed: false, failures: ['request-success-rate 80% < 99%'] };
    await bed.untilPhase('mirror', 'Failed');
    bed.checks.outcome = { passed: true, failures: [] };
  }, 300_000);
});
