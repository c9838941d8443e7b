import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import { virtualServiceSpec } from '../../src/routers/istio-objects.js';
import { readObject } from '../harness/controller.js';
import { distinct, startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { createCanary, createDeployment, setImage } from '../harness/weir.js';

const namespace = 'istio-apps';
const istio = 'networking.istio.io/v1';

interface HttpRoute {
  name?: string;
  match?: Record<string, unknown>[];
  route: { destination: { host: string }; weight?: number; headers?: unknown }[];
  mirror?: { host: string };
  mirrorPercentage?: { value: number };
}

// Given a real control plane with Istio's CRDs and Weir running in-process on a
// manual clock, the istio router writes VirtualServices and DestinationRules the
// real schema accepts at every step, and leaves a VirtualService of the user's
// alone, or gives it back exactly as it was.
describe('the istio router on the real control plane', () => {
  let bed: RouterTestbed;
  const canary = (name: string) => bed.canary(name);
  const readVs = (name: string) =>
    readObject<{ metadata: k8s.V1ObjectMeta; spec: Record<string, any> }>(
      bed.objects,
      istio,
      'VirtualService',
      namespace,
      name,
    );
  const http = async (name: string): Promise<HttpRoute[]> => (await readVs(name))?.spec.http ?? [];
  /** "primary/canary" weights of a route, by destination host. */
  const weights = (name: string, r: HttpRoute | undefined) =>
    ['primary', 'canary']
      .map((role) => r?.route.find((d) => d.destination.host === `${name}-${role}`)?.weight ?? 0)
      .join('/');

  /**
   * The VirtualService as the API server holds it, in one line: the named routes
   * with their weights, and the mirror while there is one.
   */
  const summary = async (name: string) =>
    (await http(name))
      .map(
        (r) =>
          `${r.name}:${weights(name, r)}${r.mirror ? ` mirror ${r.mirror.host} ${r.mirrorPercentage?.value}%` : ''}`,
      )
      .join(' ');

  const bootstrap = (
    name: string,
    spec: Partial<Canary['spec']> & Pick<Canary['spec'], 'analysis'>,
  ) => bed.bootstrap(name, { provider: 'istio', ...spec });
  const release = (name: string, read: () => Promise<string> = () => summary(name)) =>
    bed.release(name, read);

  beforeAll(async () => {
    bed = await startRouterTestbed({ namespace, startTime: '2026-12-02T10:00:00Z' });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it('steps a weighted release 0 → 10 → 20 → 30 and back to the primary, with the spec.service fields kept', async () => {
    await bootstrap('podinfo', {
      service: {
        port: 9898,
        gateways: ['istio-system/public'],
        hosts: ['podinfo.example.test'],
        timeout: '30s',
        retries: { attempts: 3, perTryTimeout: '5s', retryOn: 'gateway-error,connect-failure' },
        rewrite: { uri: '/' },
        headers: { request: { set: { 'x-routed-by': 'weir' } } },
        corsPolicy: {
          allowOrigins: [{ exact: 'https://shop.example.test' }],
          allowMethods: ['GET'],
        },
        trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
      },
      analysis: { interval: '10s', stepWeight: 10, maxWeight: 30 },
    });
    for (const role of ['primary', 'canary']) {
      const rule = await readObject(
        bed.objects,
        istio,
        'DestinationRule',
        namespace,
        `podinfo-${role}`,
      );
      expect(rule?.spec).toEqual({
        host: `podinfo-${role}`,
        trafficPolicy: { loadBalancer: { simple: 'LEAST_REQUEST' } },
      });
      expect(rule?.metadata.labels).toEqual({ 'weir.dev/canary': 'podinfo' });
      expect(rule?.metadata.ownerReferences?.[0]).toMatchObject({
        kind: 'Canary',
        name: 'podinfo',
      });
    }
    expect(await summary('podinfo')).toBe('weighted:100/0');

    const steps = await release('podinfo');
    expect(distinct(steps.map((s) => s.routes))).toEqual([
      'weighted:100/0',
      'weighted:90/10',
      'weighted:80/20',
      'weighted:70/30',
      'weighted:100/0',
    ]);
    // Nothing was pruned: the API server holds exactly what Weir built.
    const vs = await readVs('podinfo');
    const c = await canary('podinfo');
    expect(vs?.spec).toEqual(virtualServiceSpec(c, { canaryWeight: 0, matchToCanary: false }));
    expect(vs?.spec).toMatchObject({
      hosts: ['podinfo.example.test', 'podinfo'],
      gateways: ['istio-system/public'],
    });
    expect(vs?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo' });
  });

  it('routes matching requests to the canary during an A/B release', async () => {
    await bootstrap('search', {
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
    });
    await setImage(bed.apps, namespace, 'search', 'example.test/search:2');
    await bed.untilPhase('search', 'Progressing');
    expect(await http('search')).toEqual([
      expect.objectContaining({
        name: 'ab-test',
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      }),
      expect.objectContaining({ name: 'weighted' }),
    ]);
    expect(await summary('search')).toBe('ab-test:0/100 weighted:100/0');
    await bed.untilPhase('search', 'Succeeded');
    expect(await summary('search')).toBe('weighted:100/0');
  });

  it('mirrors traffic to the canary during a blue/green analysis, and stops after it', async () => {
    await bootstrap('billing', {
      service: { port: 8080 },
      analysis: { interval: '10s', iterations: 2, mirror: true, mirrorWeight: 50 },
    });
    const steps = await release('billing');
    const during = steps.filter((s) => s.phase === 'Progressing').map((s) => s.routes);
    expect(during).toContain('weighted:100/0 mirror billing-canary 50%');
    expect(steps.at(-1)?.routes).toBe('weighted:100/0');
  });

  it('pins users to the canary (and to the primary) with cookies while traffic is split', async () => {
    await bootstrap('cart', {
      analysis: {
        interval: '10s',
        stepWeight: 20,
        maxWeight: 40,
        sessionAffinity: {
          cookieName: 'cart-canary',
          primaryCookieName: 'cart-primary',
          maxAge: 600,
        },
      },
    });
    const cookieOf = async () => {
      const routes = await http('cart');
      const sticky = routes.find((r) => r.name === 'canary-cookie');
      const weighted = routes.find((r) => r.name === 'weighted');
      return JSON.stringify({
        summary: await summary('cart'),
        match: sticky?.match,
        setCookie: weighted?.route.map((d) => d.headers ?? null),
      });
    };
    const steps = await release('cart', cookieOf);
    const at20 = steps.map((s) => JSON.parse(s.routes)).find((r) => r.summary.includes('80/20'));
    expect(at20.summary).toBe('canary-cookie:0/100 primary-cookie:100/0 weighted:80/20');
    const regex: string = at20.match[0].headers.cookie.regex;
    const value = /cart-canary=([0-9a-f]+)/.exec(regex)![1];
    expect(new RegExp(regex).test(`session=1; cart-canary=${value}`)).toBe(true);
    expect(at20.setCookie[1]).toEqual({
      response: { add: { 'Set-Cookie': `cart-canary=${value}; Max-Age=600; Path=/` } },
    });
    expect(at20.setCookie[0].response.add['Set-Cookie']).toMatch(
      /^cart-primary=[0-9a-f]+; Max-Age=600; Path=\/$/,
    );
    // The same cookie at 40%: users who reached the canary at 20% stay there.
    const at40 = steps.map((s) => JSON.parse(s.routes)).find((r) => r.summary.includes('60/40'));
    expect(at40.match).toEqual(at20.match);
    expect(JSON.parse(steps.at(-1)!.routes).summary).toBe('weighted:100/0');
  });

  it('blocks a Canary whose Istio fields the schema rejects, with the API server’s reason', async () => {
    await createDeployment(bed.apps, namespace, 'orders', 1);
    await createCanary(bed.objects, namespace, 'orders', {
      provider: 'istio',
      service: { port: 80, trafficPolicy: { loadBalancer: { simple: 'FASTEST' } } },
      analysis: { interval: '10s', stepWeight: 50 },
    });
    const ready = await bed.untilReady('orders', 'InvalidRoute');
    expect(ready.message).toMatch(
      /^The API server rejected DestinationRule istio-apps\/orders-primary: .*FASTEST/,
    );
    expect(await readVs('orders')).toBeUndefined();
  });

  describe('a VirtualService the user already has', () => {
    const manifest = {
      apiVersion: istio,
      kind: 'VirtualService',
      metadata: { name: 'ledger', namespace, labels: { team: 'ledger' } },
      spec: {
        hosts: ['ledger.example.test'],
        exportTo: ['.'],
        http: [{ timeout: '3s', route: [{ destination: { host: 'ledger' } }] }],
      },
    };
    let before: { metadata: k8s.V1ObjectMeta; spec: Record<string, any> };

    it('is left untouched, and the Canary says RouteConflict', async () => {
      await bed.applyAsUser(manifest);
      before = (await readVs('ledger'))!;
      await createDeployment(bed.apps, namespace, 'ledger', 2);
      await createCanary(bed.objects, namespace, 'ledger', {
        provider: 'istio',
        service: { port: 80, hosts: ['ledger.example.test'] },
        analysis: { interval: '10s', stepWeight: 50, maxWeight: 50 },
      });
      const ready = await bed.untilReady('ledger', 'RouteConflict');
      expect(ready).toMatchObject({ status: 'False' });
      expect(ready.message).toMatch(
        /VirtualService istio-apps\/ledger exists and was not created by Canary ledger: Weir does not overwrite it.*revertOnDeletion/,
      );
      const now = (await readVs('ledger'))!;
      expect(now.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
      expect(now.spec).toEqual(manifest.spec);
    });

    it('with revertOnDeletion is adopted, and deleting the Canary restores it exactly', async () => {
      await bed.objects.patch(
        {
          apiVersion: 'weir.dev/v1alpha1',
          kind: 'Canary',
          metadata: { name: 'ledger', namespace },
          spec: { revertOnDeletion: true },
        } as never,
        undefined,
        undefined,
        undefined,
        undefined,
        k8s.PatchStrategy.MergePatch,
      );
      await bed.untilPhase('ledger', 'Initialized');
      const adopted = (await readVs('ledger'))!;
      expect(adopted.metadata.annotations?.['weir.dev/original-spec']).toBe(
        JSON.stringify(before.spec),
      );
      expect(adopted.metadata.labels).toEqual({ team: 'ledger', 'weir.dev/canary': 'ledger' });
      // Never garbage-collected with the Canary: it is the user's.
      expect(adopted.metadata.ownerReferences).toBeUndefined();
      // Weir's gateways replace the user's unset ones; the user's exportTo stays theirs.
      expect(adopted.spec).toMatchObject({
        hosts: ['ledger.example.test', 'ledger'],
        gateways: ['mesh'],
        exportTo: ['.'],
      });

      // A release runs on the adopted VirtualService.
      const steps = await release('ledger');
      expect(distinct(steps.map((s) => s.routes))).toEqual([
        'weighted:100/0',
        'weighted:50/50',
        'weighted:100/0',
      ]);

      await bed.deleteCanary('ledger');
      const after = (await readVs('ledger'))!;
      expect(after.spec).toEqual(before.spec);
      expect(after.metadata.labels).toEqual(before.metadata.labels);
      expect(after.metadata.annotations).toEqual(before.metadata.annotations);
      expect(after.metadata.ownerReferences).toBeUndefined();
      // The user's own tool still applies it without conflicts.
      await expect(bed.applyAsUser(manifest)).resolves.toMatch(/unchanged|configured/);
      expect((await readVs('ledger'))!.spec).toEqual(before.spec);
    });
  });
});
