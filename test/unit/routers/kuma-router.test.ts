import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { strategyOf } from '../../../src/api/strategy.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import {
  KumaRouter,
  kumaUnsupported,
  routesOfTrafficRoute,
  trafficRoute,
  type TrafficRouteObject,
} from '../../../src/routers/kuma-router.js';
import { canaryWith } from './fixtures.js';

const kuma = (c: Canary, annotations?: Record<string, string>): Canary => ({
  ...c,
  metadata: { ...c.metadata, generation: 1, ...(annotations ? { annotations } : {}) },
  spec: { ...c.spec, provider: 'kuma' },
});
const weighted = kuma(canaryWith({}));

describe('trafficRoute', () => {
  it.each([0, 10, 50, 100])('at canary weight %i splits the apex’s Kuma service', (w) => {
    const route = trafficRoute(weighted, { canaryWeight: w, matchToCanary: false });
    expect(route).toEqual({
      apiVersion: 'kuma.io/v1alpha1',
      kind: 'TrafficRoute',
      mesh: 'default',
      metadata: {
        name: 'podinfo.shop',
        labels: { 'weir.dev/canary': 'podinfo', 'weir.dev/canary-namespace': 'shop' },
      },
      spec: {
        sources: [{ match: { 'kuma.io/service': '*' } }],
        destinations: [{ match: { 'kuma.io/service': 'podinfo_shop_svc_9898' } }],
        conf: {
          split: [
            {
              weight: 100 - w,
              destination: { 'kuma.io/service': 'podinfo-primary_shop_svc_9898' },
            },
            { weight: w, destination: { 'kuma.io/service': 'podinfo-canary_shop_svc_9898' } },
          ],
        },
      },
    });
    expect(routesOfTrafficRoute(weighted, route as TrafficRouteObject)).toEqual({
      canaryWeight: w,
      matchToCanary: false,
      mirror: false,
    });
  });

  it('takes the mesh from spec.service.meshName, else from Flagger’s kuma.io/mesh annotation', () => {
    const mesh = (c: Canary) => trafficRoute(c, { canaryWeight: 0, matchToCanary: false }).mesh;
    expect(mesh(kuma(canaryWith({ service: { meshName: 'payments' } })))).toBe('payments');
    expect(mesh(kuma(canaryWith({}), { 'kuma.io/mesh': 'legacy' }))).toBe('legacy');
    expect(
      mesh(kuma(canaryWith({ service: { meshName: 'payments' } }), { 'kuma.io/mesh': 'legacy' })),
    ).toBe('payments');
  });
});

describe('kumaUnsupported', () => {
  const unsupported = (c: Canary) => kumaUnsupported(c, strategyOf(c.spec.analysis));
  it.each([
    {
      what: 'A/B testing',
      canary: kuma(
        canaryWith({
          analysis: {
            stepWeight: undefined,
            maxWeight: undefined,
            iterations: 3,
            match: [{ headers: { 'x-canary': { exact: 'a' } } }],
          },
        }),
      ),
      message:
        /the kuma provider splits a TrafficRoute by weight only, as Flagger does: remove analysis\.match/,
    },
    {
      what: 'mirroring',
      canary: kuma(canaryWith({ analysis: { mirror: true } })),
      message: /the kuma provider cannot mirror traffic.*remove analysis\.mirror/,
    },
    {
      what: 'session affinity',
      canary: kuma(canaryWith({ analysis: { sessionAffinity: { cookieName: 'c' } } })),
      message: /cannot pin sessions.*remove analysis\.sessionAffinity/,
    },
    {
      what: 'spec.service.retries',
      canary: kuma(canaryWith({ service: { retries: { attempts: 3 } } })),
      message:
        /spec\.service\.retries is not supported by the kuma provider: a Kuma TrafficRoute splits by weight only; configure retries \(a Retry policy\)/,
    },
    {
      what: 'meshName',
      canary: kuma(canaryWith({ service: { meshName: 'payments' } })),
      message: undefined,
    },
    {
      what: 'blue/green',
      canary: kuma(
        canaryWith({ analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 3 } }),
      ),
      message: undefined,
    },
  ])('$what', ({ canary, message }) => {
    if (message) expect(unsupported(canary)).toMatch(message);
    else expect(unsupported(canary)).toBeUndefined();
  });
});

describe('KumaRouter', () => {
  function harness(routes: Record<string, TrafficRouteObject>) {
    const applied: Record<string, unknown>[] = [];
    const deleted: string[] = [];
    const kube = {
      apply: async (obj: k8s.KubernetesObject) => {
        applied.push(obj as Record<string, unknown>);
        return obj;
      },
      deleteObject: async (obj: { metadata: { name: string } }) => {
        deleted.push(obj.metadata.name);
      },
    } as unknown as KubeAccess;
    const reads: string[] = [];
    const router = new KumaRouter(kube, async (name) => {
      reads.push(name);
      return routes[name];
    });
    return { router, applied, deleted, reads };
  }
  const ours: TrafficRouteObject = {
    metadata: { labels: { 'weir.dev/canary': 'podinfo', 'weir.dev/canary-namespace': 'shop' } },
  };

  it('checks the name once per Canary generation, then only applies', async () => {
    const { router, applied, reads } = harness({});
    for (const canaryWeight of [0, 10, 20])
      await router.setRoutes(weighted, { canaryWeight, matchToCanary: false });
    expect(reads).toEqual(['podinfo.shop']);
    expect(applied).toHaveLength(3);
  });

  it('blocks with NameConflict on a TrafficRoute of that name that is not this Canary’s', async () => {
    const other = {
      metadata: { labels: { 'weir.dev/canary': 'podinfo', 'weir.dev/canary-namespace': 'eu' } },
    };
    const { router, applied } = harness({ 'podinfo.shop': other });
    await expect(
      router.setRoutes(weighted, { canaryWeight: 0, matchToCanary: false }),
    ).rejects.toMatchObject({
      reason: 'NameConflict',
      message: expect.stringContaining(
        "TrafficRoute podinfo.shop exists and is not Weir's for Canary shop/podinfo",
      ),
    });
    expect(applied).toEqual([]);
  });

  it('deletes its TrafficRoute when told the Canary is gone, and only one it routed', async () => {
    const { router, deleted } = harness({ 'podinfo.shop': ours });
    router.forget('shop', 'other');
    await router.setRoutes(weighted, { canaryWeight: 0, matchToCanary: false });
    router.forget('shop', 'podinfo');
    await new Promise((r) => setTimeout(r, 0));
    expect(deleted).toEqual(['podinfo.shop']);
  });
});
