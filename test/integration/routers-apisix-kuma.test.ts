import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import { readObject } from '../harness/controller.js';
import { distinct, startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { waitFor } from '../harness/wait.js';
import { createCanary, createDeployment, setImage } from '../harness/weir.js';

const namespace = 'gateways';

/** The splits of a release by stepWeight 10 up to maxWeight 30, promoted. */
const weightedSteps = ['100/0', '90/10', '80/20', '70/30', '100/0'];

/** The user's ApisixRoute `name`: one host, `/*` to Service `app` on 9898, and `/static/*` elsewhere. */
const userRoute = (name: string, app: string) => ({
  apiVersion: 'apisix.apache.org/v2',
  kind: 'ApisixRoute',
  metadata: { name, namespace, labels: { team: app } },
  spec: {
    ingressClassName: 'apisix',
    http: [
      {
        name: 'web',
        match: { hosts: [`${app}.example.test`], paths: ['/*'] },
        timeout: { read: '30s' },
        backends: [{ serviceName: app, servicePort: 9898, resolveGranularity: 'service' }],
      },
      {
        name: 'static',
        match: { paths: ['/static/*'] },
        backends: [{ serviceName: 'assets', servicePort: 80 }],
      },
    ],
  },
});

// Given a real control plane with the ApisixRoute (apisix-ingress-controller v1.8.4) and Kuma
// TrafficRoute (kuma v1.8.1) CRDs installed, and Weir running in-process on a manual clock,
// the apisix and kuma routers write objects the real schemas accept at every step of a release.
describe('the apisix and kuma routers on the real control plane', () => {
  let bed: RouterTestbed;
  beforeAll(async () => {
    bed = await startRouterTestbed({ namespace, startTime: '2026-12-05T10:00:00Z' });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  describe('apisix', () => {
    const readRoute = (name: string) =>
      readObject(bed.objects, 'apisix.apache.org/v2', 'ApisixRoute', namespace, name);
    /**
     * The canary route `<route>-<app>-canary` as the API server holds it: "primary/canary"
     * weights of its weighted entry, "ab " in front while matched requests go to the
     * canary (with the expressions of each matched entry), "absent" before it exists.
     */
    const summary = async (route: string, app: string) => {
      const obj = await readRoute(`${route}-${app}-canary`);
      if (!obj) return 'absent';
      const http: any[] = obj.spec.http;
      const weight = (entry: any, svc: string) =>
        entry.backends.find((b: any) => b.serviceName === svc)?.weight;
      const weighted = http.filter((h) => h.backends.length === 2);
      const matched = http.filter((h) => h.backends.length === 1);
      for (const h of weighted) expect(h.priority).toBe(10000);
      for (const h of matched) {
        expect(h.priority).toBe(10001);
        expect(h.backends[0].serviceName).toBe(`${app}-canary`);
      }
      const split = weighted
        .map((h) => `${weight(h, `${app}-primary`)}/${weight(h, `${app}-canary`)}`)
        .join(',');
      const exprs = matched.map((h) =>
        h.match.exprs.map((e: any) => `${e.subject.scope}:${e.subject.name} ${e.op} ${e.value}`),
      );
      return matched.length > 0 ? `ab ${split} ${JSON.stringify(exprs)}` : split;
    };
    const bootstrap = (
      name: string,
      route: string,
      analysis: Canary['spec']['analysis'],
      extra: Partial<Canary['spec']> = {},
    ) =>
      bed.bootstrap(name, {
        provider: 'apisix',
        routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: route },
        service: { port: 9898 },
        analysis,
        ...extra,
      });

    it('steps a weighted release 0 → 10 → 20 → 30 and back to the primary, leaving the user’s route alone', async () => {
      await bed.applyAsUser(userRoute('shop', 'web'));
      const before = (await readRoute('shop'))!;
      await bootstrap('web', 'shop', { interval: '10s', stepWeight: 10, maxWeight: 30 });

      const copy = (await readRoute('shop-web-canary'))!;
      expect(copy.metadata.labels).toEqual({ 'weir.dev/canary': 'web' });
      expect(copy.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Canary', name: 'web', controller: true }),
      ]);
      // Only the entry that reaches the apex, with everything else of the user's kept.
      expect(copy.spec).toEqual({
        ingressClassName: 'apisix',
        http: [
          {
            name: 'web',
            priority: 10000,
            match: { hosts: ['web.example.test'], paths: ['/*'] },
            timeout: { read: '30s' },
            backends: [
              {
                serviceName: 'web-primary',
                servicePort: 9898,
                resolveGranularity: 'service',
                weight: 100,
              },
              {
                serviceName: 'web-canary',
                servicePort: 9898,
                resolveGranularity: 'service',
                weight: 0,
              },
            ],
          },
        ],
      });

      const steps = await bed.release('web', () => summary('shop', 'web'));
      expect(distinct(['100/0', ...steps.map((s) => s.routes)])).toEqual(weightedSteps);
      expect((await readRoute('shop'))!.metadata.resourceVersion).toBe(
        before.metadata.resourceVersion,
      );
    });

    it('routes requests matching the A/B headers and query to the canary during the analysis, then drops the match', async () => {
      await bed.applyAsUser(userRoute('search-route', 'search'));
      await bootstrap('search', 'search-route', {
        interval: '10s',
        iterations: 2,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } } },
          {
            headers: { 'user-agent': { prefix: 'Mozilla' } },
            queryParams: { beta: { exact: '1' } },
          },
        ],
      });
      expect(await summary('search-route', 'search')).toBe('100/0');
      await setImage(bed.apps, namespace, 'search', 'example.test/search:2');
      await bed.untilPhase('search', 'Progressing');
      expect(await summary('search-route', 'search')).toBe(
        `ab 100/0 ${JSON.stringify([
          ['Header:x-canary Equal insider'],
          ['Header:user-agent RegexMatch ^Mozilla', 'Query:beta Equal 1'],
        ])}`,
      );
      await bed.untilPhase('search', 'Succeeded');
      expect(await summary('search-route', 'search')).toBe('100/0');
    });

    it('rolls back to the primary when the checks fail', async () => {
      await bed.applyAsUser(userRoute('cart-route', 'cart'));
      await bootstrap('cart', 'cart-route', {
        interval: '10s',
        threshold: 1,
        stepWeight: 20,
        maxWeight: 60,
      });
      await bed.rollBackAfter(
        'cart',
        'cart at weight 20',
        async () => (await summary('cart-route', 'cart')) === '80/20',
      );
      expect(await summary('cart-route', 'cart')).toBe('100/0');
      expect((await bed.canary('cart')).status?.canaryWeight).toBe(0);
    });

    it('blocks with RouteNotFound until the ApisixRoute exists, then carries on', async () => {
      await createDeployment(bed.apps, namespace, 'orders', 1);
      await createCanary(bed.objects, namespace, 'orders', {
        provider: 'apisix',
        routeRef: { apiVersion: 'apisix.apache.org/v2', kind: 'ApisixRoute', name: 'orders-route' },
        service: { port: 9898 },
        analysis: { interval: '10s', stepWeight: 50 },
      });
      const ready = await bed.untilReady('orders', 'RouteNotFound');
      expect(ready).toMatchObject({ status: 'False' });
      expect(ready.message).toMatch(
        /ApisixRoute gateways\/orders-route \(spec\.routeRef\) not found/,
      );
      await bed.applyAsUser(userRoute('orders-route', 'orders'));
      await bed.untilPhase('orders', 'Initialized', 120);
      expect(await summary('orders-route', 'orders')).toBe('100/0');
    });
  });

  describe('kuma', () => {
    /** The TrafficRoute `<canary>.<namespace>` (cluster-scoped) as "primary/canary" weights. */
    const readRoute = (name: string) =>
      readObject(bed.objects, 'kuma.io/v1alpha1', 'TrafficRoute', '', `${name}.${namespace}`);
    const summary = async (name: string) => {
      const obj = await readRoute(name);
      if (!obj) return 'gone';
      const weight = (svc: string) =>
        obj.spec.conf.split.find(
          (s: any) => s.destination['kuma.io/service'] === `${svc}_${namespace}_svc_9898`,
        )?.weight;
      return `${weight(`${name}-primary`)}/${weight(`${name}-canary`)}`;
    };
    const bootstrap = (name: string, analysis: Canary['spec']['analysis']) =>
      bed.bootstrap(name, {
        provider: 'kuma',
        service: { port: 9898, meshName: 'shop-mesh' },
        analysis,
      });

    it('steps a weighted release 0 → 10 → 20 → 30 and back to the primary on a TrafficRoute in the mesh', async () => {
      await bootstrap('mesh-web', { interval: '10s', stepWeight: 10, maxWeight: 30 });
      const route = (await readRoute('mesh-web'))!;
      expect(route.mesh).toBe('shop-mesh');
      expect(route.metadata.labels).toEqual({
        'weir.dev/canary': 'mesh-web',
        'weir.dev/canary-namespace': namespace,
      });
      expect(route.spec).toEqual({
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: { 'kuma.io/service': `mesh-web_${namespace}_svc_9898` } }],
        conf: {
          split: [
            {
              weight: 100,
              destination: { 'kuma.io/service': `mesh-web-primary_${namespace}_svc_9898` },
            },
            {
              weight: 0,
              destination: { 'kuma.io/service': `mesh-web-canary_${namespace}_svc_9898` },
            },
          ],
        },
      });
      const steps = await bed.release('mesh-web', () => summary('mesh-web'));
      expect(distinct(['100/0', ...steps.map((s) => s.routes)])).toEqual(weightedSteps);
    });

    it('rolls back to the primary when the checks fail, and deletes the TrafficRoute with the Canary', async () => {
      await bootstrap('mesh-cart', {
        interval: '10s',
        threshold: 1,
        stepWeight: 20,
        maxWeight: 60,
      });
      await bed.rollBackAfter(
        'mesh-cart',
        'mesh-cart at weight 20',
        async () => (await summary('mesh-cart')) === '80/20',
      );
      expect(await summary('mesh-cart')).toBe('100/0');

      // A cluster-scoped TrafficRoute cannot be owned by the Canary: the router deletes it.
      await bed.deleteCanary('mesh-cart');
      await waitFor(async () => ((await readRoute('mesh-cart')) ? undefined : true), {
        timeoutMs: 30_000,
        intervalMs: 200,
        what: 'the TrafficRoute of mesh-cart to be deleted',
      });
    });

    it('rejects A/B testing with Ready=False and writes no TrafficRoute', async () => {
      await createDeployment(bed.apps, namespace, 'mesh-ab', 1);
      await createCanary(bed.objects, namespace, 'mesh-ab', {
        provider: 'kuma',
        analysis: {
          interval: '10s',
          iterations: 2,
          match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        },
      });
      const ready = await bed.untilReady('mesh-ab', 'UnsupportedStrategy');
      expect(ready.message).toContain('the kuma provider splits a TrafficRoute by weight only');
      expect(await readRoute('mesh-ab')).toBeUndefined();
    });
  });
});
