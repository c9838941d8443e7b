import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { RoutingBlocked } from '../../../src/errors.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { GatewayApiRouter, httpRoute } from '../../../src/routers/gateway-api-router.js';
import {
  gatewayGap,
  knownGaps,
  routeFeatures,
} from '../../../src/routers/gateway-implementations.js';
import type { Routes } from '../../../src/routers/router.js';
import { canaryWith, offlineKubeConfig } from './fixtures.js';

const traefik = 'traefik.io/gateway-controller';
const other = 'example.net/gateway-controller';

const plain = canaryWith({ service: { gatewayRefs: [{ name: 'public' }] } });
const mirrored = canaryWith({
  service: { gatewayRefs: [{ name: 'public' }] },
  analysis: { stepWeight: undefined, iterations: 3, mirror: true },
});
const serviceMirror = canaryWith({
  service: { gatewayRefs: [{ name: 'public' }], mirror: [{ backendRef: { name: 'shadow' } }] },
});
const sticky = canaryWith({
  service: { gatewayRefs: [{ name: 'public' }] },
  analysis: { sessionAffinity: { cookieName: 'pin' } },
});
const at = (canaryWeight: number, mirror?: boolean): Routes => ({
  canaryWeight,
  matchToCanary: false,
  ...(mirror !== undefined ? { mirror } : {}),
});

describe('routeFeatures', () => {
  it.each([
    { what: 'plain weights', canary: plain, routes: at(30), features: [] },
    { what: 'analysis.mirror', canary: mirrored, routes: at(0, true), features: ['requestMirror'] },
    {
      what: 'analysis.mirror once mirroring ends',
      canary: mirrored,
      routes: at(0, false),
      features: [],
    },
    {
      what: 'spec.service.mirror on every rule',
      canary: serviceMirror,
      routes: at(0),
      features: ['requestMirror'],
    },
    {
      what: 'sessionAffinity at a middle weight',
      canary: sticky,
      routes: at(20),
      features: ['backendRefFilters'],
    },
    // The expiring cookie is a rule filter, which implementations read.
    { what: 'sessionAffinity at 0%', canary: sticky, routes: at(0), features: [] },
  ])('$what', ({ canary, routes, features }) => {
    expect(routeFeatures(httpRoute(canary, routes))).toEqual(features);
  });
});

describe('gatewayGap', () => {
  const onTraefik = [{ gateway: 'shop/public', controllerName: traefik }];
  const mirrorRoute = httpRoute(mirrored, at(0, true));
  const stickyRoute = httpRoute(sticky, at(20));

  it('Traefik breaks a RequestMirror filter: 500 to every request of its rule', () => {
    expect(gatewayGap(mirrorRoute, onTraefik)).toEqual({
      gateway: 'shop/public',
      controllerName: traefik,
      feature: 'requestMirror',
      what: 'RequestMirror filters',
      reason: knownGaps[traefik]!.requestMirror,
    });
    expect(knownGaps[traefik]!.requestMirror).toMatch(/Traefik v3 .* answers 500 to every request/);
  });

  it('Traefik ignores backendRef filters: the affinity cookie is never handed out', () => {
    expect(gatewayGap(stickyRoute, onTraefik)).toMatchObject({
      gateway: 'shop/public',
      feature: 'backendRefFilters',
      reason: expect.stringMatching(/Traefik v3 .* ignores filters on a backendRef/),
    });
  });

  it('no gap for a route without mirror or backendRef filters, on Traefik', () => {
    expect(gatewayGap(httpRoute(plain, at(30)), onTraefik)).toBeUndefined();
    expect(gatewayGap(httpRoute(sticky, at(0)), onTraefik)).toBeUndefined();
  });

  it('no gap on another implementation, an unknown one, or without parents', () => {
    for (const controllerName of [other, '', 'constructor', 'toString']) {
      const parents = [{ gateway: 'shop/public', controllerName }];
      expect(gatewayGap(mirrorRoute, parents)).toBeUndefined();
      expect(gatewayGap(stickyRoute, parents)).toBeUndefined();
    }
    expect(gatewayGap(mirrorRoute, [])).toBeUndefined();
  });

  it('the first parent with a gap is named, whatever comes before it', () => {
    const parents = [
      { gateway: 'shop/internal', controllerName: other },
      { gateway: 'edge/public', controllerName: traefik },
    ];
    expect(gatewayGap(mirrorRoute, parents)?.gateway).toBe('edge/public');
  });

  it('another implementation is one entry of the table', () => {
    const gaps = { [other]: { backendRefFilters: 'it drops them' } };
    const parents = [{ gateway: 'shop/public', controllerName: other }];
    expect(gatewayGap(stickyRoute, parents, gaps)?.reason).toBe('it drops them');
    expect(gatewayGap(mirrorRoute, parents, gaps)).toBeUndefined();
  });
});

/** An API error as the client throws it. */
const apiError = (code: number) => Object.assign(new Error(`HTTP ${code}`), { code });

/**
 * A GatewayApiRouter whose object reads answer from `objects` (by `Kind/namespace/name`,
 * or `Kind/name` when cluster-scoped; a number is an error of that code), every read
 * and apply recorded.
 */
function fakeRouter(objects: Record<string, unknown>) {
  const reads: string[] = [];
  const applied: k8s.KubernetesObject[] = [];
  const kube = {
    apply: async (o: k8s.KubernetesObject) => {
      applied.push(o);
      return o;
    },
  } as unknown as KubeAccess;
  const router = new GatewayApiRouter(kube, offlineKubeConfig());
  const read = async (o: k8s.KubernetesObject) => {
    const { namespace, name } = o.metadata!;
    const key = [o.kind, ...(namespace ? [namespace] : []), name].join('/');
    reads.push(key);
    const found = objects[key];
    if (typeof found === 'number') throw apiError(found);
    if (found === undefined) throw apiError(404);
    return found;
  };
  Object.assign(router, { objects: { read } });
  return { router, reads, applied };
}

const gatewayOf = (className: string) => ({ spec: { gatewayClassName: className } });
const classOf = (controllerName: string) => ({ spec: { controllerName } });
const traefikCluster = {
  'Gateway/shop/public': gatewayOf('traefik'),
  'GatewayClass/traefik': classOf(traefik),
};

const blocked = async (p: Promise<unknown>) => {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RoutingBlocked);
  return err as RoutingBlocked;
};

describe('GatewayApiRouter.setRoutes on an implementation known to break the route', () => {
  it('refuses analysis.mirror on Traefik, writing nothing', async () => {
    const { router, reads, applied } = fakeRouter(traefikCluster);
    const err = await blocked(router.setRoutes(mirrored, at(0, true)));
    expect(err.reason).toBe('UnsupportedByGateway');
    expect(err.message).toBe(
      `Gateway shop/public is implemented by ${traefik}, which is known to break RequestMirror filters: ` +
        `${knownGaps[traefik]!.requestMirror}. Weir did not write HTTPRoute shop/podinfo, so its traffic stays where it was: ` +
        'remove analysis.mirror from the Canary, or name a Gateway of another implementation in spec.service.gatewayRefs',
    );
    expect(reads).toEqual(['Gateway/shop/public', 'GatewayClass/traefik']);
    expect(applied).toEqual([]);
  });

  it('refuses spec.service.mirror on Traefik, and names that field', async () => {
    const { router, applied } = fakeRouter(traefikCluster);
    const err = await blocked(router.setRoutes(serviceMirror, at(0)));
    expect(err.reason).toBe('UnsupportedByGateway');
    expect(err.message).toMatch(/answers 500 .* remove spec\.service\.mirror from the Canary/);
    expect(applied).toEqual([]);
  });

  it('refuses sessionAffinity at a middle weight on Traefik, and names that field', async () => {
    const { router, applied } = fakeRouter(traefikCluster);
    const err = await blocked(router.setRoutes(sticky, at(20)));
    expect(err.reason).toBe('UnsupportedByGateway');
    expect(err.message).toMatch(
      /^Gateway shop\/public is implemented by traefik\.io\/gateway-controller, which is known to break filters on a backendRef .* cookie is never handed out.* remove analysis\.sessionAffinity from the Canary/,
    );
    expect(applied).toEqual([]);
  });

  it('reads the Gateway in its own namespace, and only Gateway parents', async () => {
    const canary = canaryWith({
      service: {
        gatewayRefs: [
          { name: 'mesh', kind: 'Service', group: '' },
          { name: 'public', namespace: 'edge' },
        ],
      },
      analysis: { sessionAffinity: { cookieName: 'pin' } },
    });
    const { router, reads } = fakeRouter({
      'Gateway/edge/public': gatewayOf('traefik'),
      'GatewayClass/traefik': classOf(traefik),
    });
    const err = await blocked(router.setRoutes(canary, at(20)));
    expect(err.message).toMatch(/^Gateway edge\/public /);
    expect(reads).toEqual(['Gateway/edge/public', 'GatewayClass/traefik']);
  });

  it('writes plain weights on Traefik without reading any Gateway', async () => {
    const { router, reads, applied } = fakeRouter(traefikCluster);
    await router.setRoutes(plain, at(30));
    await router.setRoutes(sticky, at(0));
    expect(reads).toEqual([]);
    expect(applied.map((o) => o.metadata?.name)).toEqual(['podinfo', 'podinfo']);
  });

  it('writes mirroring and affinity on another implementation', async () => {
    const { router, reads, applied } = fakeRouter({
      'Gateway/shop/public': gatewayOf('envoy'),
      'GatewayClass/envoy': classOf(other),
    });
    await router.setRoutes(mirrored, at(0, true));
    await router.setRoutes(sticky, at(20));
    expect(reads).toContain('GatewayClass/envoy');
    expect(applied).toHaveLength(2);
  });

  it.each([
    { what: 'the Gateway is absent', objects: {} },
    { what: 'the Gateway is forbidden', objects: { 'Gateway/shop/public': 403 } },
    {
      what: 'the GatewayClass is absent',
      objects: { 'Gateway/shop/public': gatewayOf('traefik') },
    },
    {
      what: 'the GatewayClass is forbidden (a Role cannot grant it)',
      objects: { 'Gateway/shop/public': gatewayOf('traefik'), 'GatewayClass/traefik': 403 },
    },
  ])('writes the route as it is when $what: the implementation is unknown', async ({ objects }) => {
    const { router, reads, applied } = fakeRouter(objects);
    await router.setRoutes(mirrored, at(0, true));
    expect(reads[0]).toBe('Gateway/shop/public');
    expect(applied).toHaveLength(1);
  });

  it('an outage reading the Gateway fails the write instead of guessing', async () => {
    const { router, applied } = fakeRouter({ 'Gateway/shop/public': 500 });
    await expect(router.setRoutes(mirrored, at(0, true))).rejects.toMatchObject({ code: 500 });
    expect(applied).toEqual([]);
  });

  it('finalize does not hold a deletion on a route the Gateway would break', async () => {
    const { router, applied } = fakeRouter(traefikCluster);
    await router.finalize(sticky);
    expect(applied).toEqual([]);
    const { router: elsewhere, applied: written } = fakeRouter({});
    await elsewhere.finalize(sticky);
    expect(written).toHaveLength(1);
  });
});
