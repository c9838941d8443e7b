import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import { createKubeAccess } from '../../src/kube/access.js';
import { GatewayApiRouter } from '../../src/routers/gateway-api-router.js';
import type { Routes } from '../../src/routers/router.js';
import { readObject } from '../harness/controller.js';
import { startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { setImage } from '../harness/weir.js';

const namespace = 'gateway-apps';

interface Rule {
  matches?: { headers?: { name: string; value: string }[] }[];
  filters?: { type: string; requestMirror?: { backendRef: { name: string }; percent?: number } }[];
  backendRefs: {
    name: string;
    weight: number;
    filters?: { responseHeaderModifier: { add: { name: string; value: string }[] } }[];
  }[];
}

// Given a real control plane with the Gateway API v1.4.1 standard-channel CRDs and
// Weir running in-process on a manual clock, the HTTPRoutes for mirroring and
// session affinity are accepted by the real schema at every step.
describe('the gatewayapi router on the real control plane', () => {
  let bed: RouterTestbed;
  let router: GatewayApiRouter;
  const canary = (name: string) => bed.canary(name);
  const rules = async (name: string): Promise<Rule[]> =>
    (
      await readObject<{ spec: { rules: Rule[] } }>(
        bed.objects,
        'gateway.networking.k8s.io/v1',
        'HTTPRoute',
        namespace,
        name,
      )
    )?.spec.rules ?? [];
  /** One rule in one line: `[cookie name] primary/canary [mirror N%]`. */
  const line = (name: string, r: Rule) => {
    const w = (role: string) => r.backendRefs.find((b) => b.name === `${name}-${role}`)?.weight;
    const cookie = r.matches?.[0]?.headers?.find((h) => h.name === 'Cookie');
    const mirror = r.filters?.find((f) => f.type === 'RequestMirror')?.requestMirror;
    return [
      ...(cookie ? [`cookie ${/\)\?([^=]+)=/.exec(cookie.value)?.[1]}`] : []),
      `${w('primary')}/${w('canary')}`,
      ...(mirror ? [`mirror ${mirror.backendRef.name} ${mirror.percent ?? 100}%`] : []),
    ].join(' ');
  };
  const summary = async (name: string) => (await rules(name)).map((r) => line(name, r)).join(' | ');

  const bootstrap = (
    name: string,
    analysis: Canary['spec']['analysis'],
    service: Partial<Canary['spec']['service']> = {},
  ) =>
    bed.bootstrap(name, {
      provider: 'gatewayapi',
      service: {
        port: 9898,
        gatewayRefs: [{ name: 'public' }],
        hosts: [`${name}.example.test`],
        ...service,
      },
      analysis,
    });

  beforeAll(async () => {
    bed = await startRouterTestbed({ namespace, startTime: '2026-12-04T10:00:00Z' });
    router = new GatewayApiRouter(createKubeAccess(bed.kubeConfig), bed.kubeConfig);
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it('blue/green with mirroring: a RequestMirror filter during the analysis, gone after promotion', async () => {
    await bootstrap('billing', { interval: '10s', iterations: 2, mirror: true, mirrorWeight: 50 });
    expect(await summary('billing')).toBe('100/0');
    const steps = await bed.release('billing', async () => ({
      summary: await summary('billing'),
      routes: await router.getRoutes((await canary('billing')) as Canary),
    }));
    const during = steps.filter((s) => s.phase === 'Progressing').map((s) => s.routes);
    expect(during.map((r) => r.summary)).toContain('100/0 mirror billing-canary 50%');
    expect(during.find((r) => r.summary.includes('mirror'))?.routes).toEqual<Routes>({
      canaryWeight: 0,
      matchToCanary: false,
      mirror: true,
    });
    expect(steps.at(-1)?.routes).toEqual({
      summary: '100/0',
      routes: { canaryWeight: 0, matchToCanary: false, mirror: false },
    });
  });

  it('session affinity: a sticky Cookie rule and Set-Cookie on the canary at a middle weight, expired after', async () => {
    await bootstrap('cart', {
      interval: '10s',
      stepWeight: 20,
      maxWeight: 40,
      sessionAffinity: {
        cookieName: 'cart-canary',
        primaryCookieName: 'cart-primary',
        maxAge: 600,
      },
    });
    expect(await summary('cart')).toBe(
      'cookie cart-canary 100/0 | cookie cart-primary 100/0 | 100/0',
    );
    const steps = await bed.release('cart', async () => JSON.stringify(await rules('cart')));
    const at20 = steps
      .map((s) => JSON.parse(s.routes) as Rule[])
      .find((r) => line('cart', r.at(-1)!) === '80/20')!;
    expect(at20.map((r) => line('cart', r)).join(' | ')).toBe(
      'cookie cart-canary 0/100 | cookie cart-primary 100/0 | 80/20',
    );
    const pattern = at20[0]!.matches![0]!.headers![0]!.value;
    const value = /cart-canary=([0-9a-f]+)/.exec(pattern)![1];
    expect(new RegExp(pattern).test(`session=1; cart-canary=${value}`)).toBe(true);
    const setCookies = at20[2]!.backendRefs.map(
      (b) => b.filters?.[0]?.responseHeaderModifier.add[0]?.value,
    );
    expect(setCookies[1]).toBe(`cart-canary=${value}; Max-Age=600; Path=/`);
    expect(setCookies[0]).toMatch(/^cart-primary=[0-9a-f]+; Max-Age=600; Path=\/$/);
    // The same cookie at 40%: users who reached the canary at 20% stay there.
    const at40 = steps
      .map((s) => JSON.parse(s.routes) as Rule[])
      .find((r) => line('cart', r.at(-1)!) === '60/40')!;
    expect(at40[0]!.matches).toEqual(at20[0]!.matches);
    expect(await summary('cart')).toBe(
      'cookie cart-canary 100/0 | cookie cart-primary 100/0 | 100/0',
    );
    expect(await router.getRoutes((await canary('cart')) as Canary)).toEqual({
      canaryWeight: 0,
      matchToCanary: false,
      mirror: false,
    });
  });

  it('getRoutes sees A/B rules on the route the API server defaulted', async () => {
    await bootstrap('search', {
      interval: '10s',
      iterations: 2,
      match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
    });
    expect(await router.getRoutes((await canary('search')) as Canary)).toEqual({
      canaryWeight: 0,
      matchToCanary: false,
      mirror: false,
    });
    await setImage(bed.apps, namespace, 'search', 'example.test/search:2');
    await bed.untilPhase('search', 'Progressing');
    expect(await router.getRoutes((await canary('search')) as Canary)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
    await bed.untilPhase('search', 'Succeeded');
  });

  it('spec.service matches, header changes, rewrite and mirrors pass the real schema on every kind of rule', async () => {
    await bootstrap(
      'orders',
      { interval: '10s', stepWeight: 20, maxWeight: 40, sessionAffinity: { cookieName: 'pin' } },
      {
        match: [{ uri: { prefix: '/orders' }, headers: { 'x-tenant': { exact: 'eu' } } }],
        headers: {
          request: { set: { 'x-routed-by': 'weir' } },
          response: { add: { 'x-served-by': 'weir' }, remove: ['server'] },
        },
        rewrite: { uri: '/', type: 'ReplacePrefixMatch' },
        mirror: [{ backendRef: { name: 'orders-shadow', port: 9898 } }],
        timeout: '10s',
      },
    );
    // At rest the cookie rule expires the cookie: its Set-Cookie joins spec.service's response modifier.
    const atRest = await rules('orders');
    expect(atRest.map((r) => line('orders', r))).toEqual([
      'cookie pin 100/0 mirror orders-shadow 100%',
      '100/0 mirror orders-shadow 100%',
    ]);
    expect(atRest.map((r) => r.filters?.map((f) => f.type))).toEqual([
      ['RequestHeaderModifier', 'ResponseHeaderModifier', 'URLRewrite', 'RequestMirror'],
      ['RequestHeaderModifier', 'ResponseHeaderModifier', 'URLRewrite', 'RequestMirror'],
    ]);
    expect(
      (atRest[0]!.filters![1] as { responseHeaderModifier?: { add?: unknown[] } })
        .responseHeaderModifier?.add,
    ).toEqual([
      { name: 'x-served-by', value: 'weir' },
      { name: 'Set-Cookie', value: 'pin=; Max-Age=0; Path=/' },
    ]);
    const current = (await canary('orders')) as Canary;
    // A weighted step with sticky cookies, then A/B (the Canary's analysis swapped in memory).
    await router.setRoutes(current, { canaryWeight: 20, matchToCanary: false });
    expect((await rules('orders')).map((r) => line('orders', r))).toEqual([
      'cookie pin 0/100 mirror orders-shadow 100%',
      '80/20 mirror orders-shadow 100%',
    ]);
    const ab: Canary = {
      ...current,
      spec: {
        ...current.spec,
        analysis: {
          interval: '10s',
          iterations: 2,
          match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
        },
      },
    };
    await router.setRoutes(ab, { canaryWeight: 0, matchToCanary: true });
    const abRules = await rules('orders');
    expect(abRules[0]!.matches).toEqual([
      {
        path: { type: 'PathPrefix', value: '/orders' },
        headers: [
          { type: 'Exact', name: 'x-tenant', value: 'eu' },
          { type: 'Exact', name: 'x-canary', value: 'insider' },
        ],
      },
    ]);
    expect(await router.getRoutes(ab)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
  });
});
