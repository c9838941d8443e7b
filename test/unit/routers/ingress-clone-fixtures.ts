import type * as k8s from '@kubernetes/client-node';
import { expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { RoutingBlocked } from '../../../src/errors.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import type { IngressReader } from '../../../src/routers/ingress-clone-router.js';
import type { Router } from '../../../src/routers/router.js';
import { canaryWith, type UnsupportedCase } from './fixtures.js';

/*
 * What the unit tests of the routers that clone the user's Ingress as
 * `<ingress>-canary` (nginx, skipper) share: the Canaries, a fake API, and the
 * cases every such router blocks or refuses in the same way.
 */

/** `spec.analysis.match` of a Canary. */
export type Match = NonNullable<Canary['spec']['analysis']['match']>;

/** The `spec.ingressRef` of the Canaries below: the user's Ingress `web`. */
export const ingressRef = {
  apiVersion: 'networking.k8s.io/v1',
  kind: 'Ingress' as const,
  name: 'web',
};

/** {@link canaryWith}'s Canaries for `provider`, naming the Ingress `web`, at generation 1. */
export function ingressCanaries(provider: string) {
  const withRef = (c: Canary): Canary => ({
    ...c,
    metadata: { ...c.metadata, generation: 1 },
    spec: { ...c.spec, provider, ingressRef },
  });
  return {
    withRef,
    /** A weighted canary. */
    weighted: withRef(canaryWith({})),
    /** An A/B test of five iterations matching `match`. */
    ab: (match: Match) =>
      withRef(
        canaryWith({
          analysis: { stepWeight: undefined, maxWeight: undefined, iterations: 5, match },
        }),
      ),
  };
}

/** A router built on a fake API: `objects` by name, every read and apply recorded. */
export function fakeIngressApi<R extends Router>(
  objects: Record<string, k8s.V1Ingress | undefined>,
  build: (kube: KubeAccess, read: IngressReader) => R,
) {
  const reads: string[] = [];
  const applied: k8s.V1Ingress[] = [];
  const read: IngressReader = async (namespace, name) => {
    reads.push(`${namespace}/${name}`);
    return objects[name];
  };
  const kube = {
    apply: async (o: k8s.V1Ingress) => {
      applied.push(o);
      objects[o.metadata!.name!] = o;
      return o;
    },
  } as unknown as KubeAccess;
  return { router: build(kube, read), reads, applied, objects };
}

/** A row of an unsupported() table whose Canary may also change `spec`. */
export type IngressUnsupportedCase = UnsupportedCase & { spec?: Partial<Canary['spec']> };

/**
 * The rows every provider that clones `spec.ingressRef` answers alike: weighted
 * canaries and blue/green run; no `spec.ingressRef`, or one of another API version, do not.
 */
export function ingressCloneCases(provider: string): IngressUnsupportedCase[] {
  return [
    { what: 'a weighted canary', analysis: {}, strategy: 'canary', message: undefined },
    {
      what: 'blue/green',
      analysis: { stepWeight: undefined, iterations: 3 },
      strategy: 'blueGreen',
      message: undefined,
    },
    {
      what: 'no ingressRef',
      analysis: {},
      strategy: 'canary',
      spec: { ingressRef: undefined },
      message: new RegExp(
        `^the ${provider} provider needs spec\\.ingressRef: the Ingress that routes to Service podinfo`,
      ),
    },
    {
      what: 'another Ingress API version',
      analysis: {},
      strategy: 'canary',
      spec: { ingressRef: { ...ingressRef, apiVersion: 'extensions/v1beta1' } },
      message: new RegExp(
        `extensions/v1beta1 is not served: the ${provider} provider reads networking\\.k8s\\.io/v1`,
      ),
    },
  ];
}

/** Checks one {@link IngressUnsupportedCase} against `router`, the Canary made by `withRef`. */
export function expectUnsupported(
  router: Router,
  withRef: (c: Canary) => Canary,
  { analysis, strategy, spec, message }: IngressUnsupportedCase,
): void {
  const base = withRef(canaryWith({ analysis }));
  const c = { ...base, spec: { ...base.spec, ...spec } } as Canary;
  const problem = router.unsupported(c, strategy);
  if (message) expect(problem).toMatch(message);
  else expect(problem).toBeUndefined();
}

/** A row of a "blocks when" table: the API's objects, and the reason and message expected. */
export interface BlockedCase {
  what: string;
  objects: Record<string, k8s.V1Ingress>;
  reason: string;
  message: RegExp;
}

/**
 * The ways every Ingress-clone router blocks: the user's Ingress `web` missing,
 * reaching no apex (`noApex`, whose shape each provider decides), or its clone's
 * name taken.
 */
export function blockedCases(
  userIngress: k8s.V1Ingress,
  noApex: { what: string; ingress: k8s.V1Ingress; message: RegExp },
): BlockedCase[] {
  return [
    {
      what: 'the Ingress does not exist',
      objects: {},
      reason: 'IngressNotFound',
      message: /Ingress shop\/web \(spec\.ingressRef\) not found/,
    },
    {
      what: noApex.what,
      objects: { web: noApex.ingress },
      reason: 'IngressBackendNotFound',
      message: noApex.message,
    },
    {
      what: '<ingress>-canary is someone else’s',
      objects: { web: userIngress, 'web-canary': { metadata: { name: 'web-canary' } } },
      reason: 'NameConflict',
      message: /Ingress shop\/web-canary exists and is not owned by this Canary/,
    },
  ];
}

/** Expects setRoutes (at rest) to block with `reason` and a message matching `message`. */
export async function expectBlocked(
  router: Router,
  canary: Canary,
  { reason, message }: Pick<BlockedCase, 'reason' | 'message'>,
): Promise<void> {
  const err = await router
    .setRoutes(canary, { canaryWeight: 0, matchToCanary: false })
    .catch((e: unknown) => e);
  expect(err).toBeInstanceOf(RoutingBlocked);
  expect(err).toMatchObject({ reason, message: expect.stringMatching(message) });
}

/**
 * The tests every Ingress-clone router passes alike, on a fake API made by
 * `harness`: it never writes the user's Ingress, blocks on the cases of
 * {@link blockedCases}, and reads the split back from the clone.
 */
export function itClonesTheUsersIngress(bed: {
  harness: (objects: Record<string, k8s.V1Ingress | undefined>) => {
    router: Router;
    applied: k8s.V1Ingress[];
  };
  weighted: Canary;
  /** An A/B Canary matching `match`. */
  ab: (match: Match) => Canary;
  userIngress: k8s.V1Ingress;
  noApex: Parameters<typeof blockedCases>[1];
}): void {
  const { harness, weighted, ab, userIngress, noApex } = bed;

  it('never writes the user’s Ingress', async () => {
    const { router, applied } = harness({ web: userIngress });
    await router.setRoutes(weighted, { canaryWeight: 10, matchToCanary: false });
    await router.finalize(weighted);
    expect(applied.map((i) => i.metadata?.name)).toEqual(['web-canary', 'web-canary']);
  });

  it.each(blockedCases(userIngress, noApex))(
    'blocks when $what',
    async ({ objects, ...expected }) => {
      const { router, applied } = harness(objects);
      await expectBlocked(router, weighted, expected);
      expect(applied).toEqual([]);
    },
  );

  it('getRoutes reads the split back from the clone’s annotations', async () => {
    const { router } = harness({ web: userIngress });
    expect(await router.getRoutes(weighted)).toBeUndefined();
    for (const canaryWeight of [0, 30, 100]) {
      await router.setRoutes(weighted, { canaryWeight, matchToCanary: false });
      expect(await router.getRoutes(weighted)).toEqual({
        canaryWeight,
        matchToCanary: false,
        mirror: false,
      });
    }
    const c = ab([{ headers: { 'x-canary': { exact: 'insider' } } }]);
    await router.setRoutes(c, { canaryWeight: 0, matchToCanary: true });
    expect(await router.getRoutes(c)).toEqual({
      canaryWeight: 0,
      matchToCanary: true,
      mirror: false,
    });
  });
}
