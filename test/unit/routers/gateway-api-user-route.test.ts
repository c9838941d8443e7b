import { describe, expect, it } from 'vitest';
import { gatewayApiUnsupported } from '../../../src/routers/gateway-api-router.js';
import {
  splitPoints,
  userRouteRoutes,
  weightPatch,
  type SplitPoint,
  type UserRoute,
} from '../../../src/routers/gateway-api-user-route.js';
import { canaryWith } from './fixtures.js';

const canary = canaryWith({
  provider: 'gatewayapi',
  service: { routeRef: { name: 'shop-public' } },
});
const svc = (name: string, weight?: number, extra: Record<string, string> = {}) => ({
  name,
  port: 9898,
  ...(weight !== undefined ? { weight } : {}),
  ...extra,
});
/** A user's route: an extra rule first, the split rule with a third backend, a second split rule. */
const route = (): UserRoute => ({
  metadata: { name: 'shop-public', namespace: 'shop' },
  spec: {
    rules: [
      { backendRefs: [svc('docs')] },
      { backendRefs: [svc('podinfo-canary', 0), svc('legacy', 5), svc('podinfo-primary', 100)] },
      { backendRefs: [svc('podinfo-primary'), svc('podinfo-canary')] },
    ],
  },
});

describe('an HTTPRoute the user owns (spec.service.routeRef)', () => {
  it('finds every rule that names both of Weir’s Services, wherever they sit in it', () => {
    expect(splitPoints(route(), canary)).toEqual([
      { rule: 1, primary: 2, canary: 0 },
      { rule: 2, primary: 0, canary: 1 },
    ]);
  });

  it('ignores namesakes in another namespace or of another kind, and says what to add when nothing is left', () => {
    const r: UserRoute = {
      metadata: { name: 'shop-public', namespace: 'shop' },
      spec: {
        rules: [
          {
            backendRefs: [
              svc('podinfo-primary', 100, { namespace: 'other' }),
              svc('podinfo-canary', 0),
            ],
          },
          { backendRefs: [svc('podinfo-primary', 100), svc('podinfo-canary', 0, { kind: 'Pod' })] },
          { backendRefs: [svc('podinfo-primary', 100)] },
          {},
        ],
      },
    };
    expect(splitPoints(r, canary)).toEqual({
      error:
        'HTTPRoute shop/shop-public (spec.service.routeRef) has no rule whose backendRefs name both Services podinfo-primary and podinfo-canary: add both to the rule Weir should split, with weights 100 and 0',
    });
  });

  it('patches only the weights that differ, each after a test of its backend’s name', () => {
    const r = route();
    const points = splitPoints(r, canary) as SplitPoint[];
    expect(weightPatch(r, points, { canaryWeight: 25, matchToCanary: false })).toEqual([
      { op: 'test', path: '/spec/rules/1/backendRefs/2/name', value: 'podinfo-primary' },
      { op: 'add', path: '/spec/rules/1/backendRefs/2/weight', value: 75 },
      { op: 'test', path: '/spec/rules/1/backendRefs/0/name', value: 'podinfo-canary' },
      { op: 'add', path: '/spec/rules/1/backendRefs/0/weight', value: 25 },
      // Weights left out weigh 1: both are set.
      { op: 'test', path: '/spec/rules/2/backendRefs/0/name', value: 'podinfo-primary' },
      { op: 'add', path: '/spec/rules/2/backendRefs/0/weight', value: 75 },
      { op: 'test', path: '/spec/rules/2/backendRefs/1/name', value: 'podinfo-canary' },
      { op: 'add', path: '/spec/rules/2/backendRefs/1/weight', value: 25 },
    ]);
    // The third backend and the other rules are never named.
    const paths = weightPatch(r, points, { canaryWeight: 60, matchToCanary: false }).map(
      (o) => o.path,
    );
    expect(
      paths.every((p) => /^\/spec\/rules\/[12]\/backendRefs\/[012]\/(name|weight)$/.test(p)),
    ).toBe(true);
    expect(paths.some((p) => p.startsWith('/spec/rules/1/backendRefs/1/'))).toBe(false);
  });

  it('writes nothing when the route already carries the split', () => {
    const r: UserRoute = {
      spec: { rules: [{ backendRefs: [svc('podinfo-primary', 100), svc('podinfo-canary', 0)] }] },
    };
    const points = splitPoints(r, canary) as SplitPoint[];
    expect(weightPatch(r, points, { canaryWeight: 0, matchToCanary: false })).toEqual([]);
    expect(weightPatch(r, points, { canaryWeight: 10, matchToCanary: false })).toHaveLength(4);
  });

  it('reads the split back as a percentage, whatever the weights add up to', () => {
    const read = (primary?: number, canaryWeight?: number) => {
      const r: UserRoute = {
        spec: {
          rules: [
            { backendRefs: [svc('podinfo-primary', primary), svc('podinfo-canary', canaryWeight)] },
          ],
        },
      };
      return userRouteRoutes(r, splitPoints(r, canary) as SplitPoint[]).canaryWeight;
    };
    expect(read(75, 25)).toBe(25);
    expect(read(3, 1)).toBe(25);
    expect(read(undefined, undefined)).toBe(50);
    expect(read(0, 0)).toBe(0);
  });

  it('refuses what would need rules or filters of Weir’s own, naming the field and the way out', () => {
    const withService = (service: object) =>
      gatewayApiUnsupported(
        canaryWith({ service: { routeRef: { name: 'shop-public' }, ...service } }),
        'canary',
      );
    expect(withService({})).toBeUndefined();
    expect(withService({ hosts: ['shop.example'] })).toBe(
      'spec.service.hosts is not supported by the gatewayapi provider: with spec.service.routeRef the HTTPRoute is yours: declare its hostnames in it, and remove it here',
    );
    expect(withService({ gatewayRefs: [{ name: 'public' }] })).toMatch(/declare its parentRefs/);
    const withAnalysis = (analysis: object) =>
      gatewayApiUnsupported(
        canaryWith({ service: { routeRef: { name: 'shop-public' } }, analysis }),
        'canary',
      );
    expect(withAnalysis({ match: [{ headers: { x: { exact: 'y' } } }] })).toMatch(
      /^analysis\.match needs a rule of Weir's own.*remove spec\.service\.routeRef/,
    );
    expect(withAnalysis({ mirror: true })).toMatch(/^analysis\.mirror needs a RequestMirror/);
    expect(withAnalysis({ sessionAffinity: { cookieName: 'c' } })).toMatch(
      /^analysis\.sessionAffinity needs cookie rules/,
    );
  });

  it('is the gatewayapi provider’s alone: another provider names routeRef and says to remove it', async () => {
    const { routerFamily } = await import('../../../src/routers/routers.js');
    const withIngress = {
      ...canary,
      spec: {
        ...canary.spec,
        ingressRef: { apiVersion: 'networking.k8s.io/v1', kind: 'Ingress', name: 'shop' },
      },
    } as typeof canary;
    for (const entry of routerFamily.filter((e) => e.name !== 'gatewayapi'))
      expect(entry.unsupported(withIngress, 'canary'), entry.name).toMatch(
        /spec\.service\.routeRef is not supported by the \w+ provider: it names a Gateway API HTTPRoute/,
      );
  });
});
