import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import {
  deleteWatchingClone,
  expectUnwritten,
  ingressCanarySpec,
  readIngress,
  userIngressManifest,
} from '../harness/ingress-clone.js';
import { startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { setImage } from '../harness/weir.js';

const namespace = 'skipper-apps';
const z = 'zalando.org/';

/** The user's Ingress for `name`: `/` to Service `name` on port 9898 beside another Service, with Skipper settings. */
const userIngress = (name: string) =>
  userIngressManifest(namespace, name, 'skipper', {
    labels: { team: name },
    annotations: {
      [`${z}skipper-predicate`]: 'Method("GET")',
      [`${z}skipper-filter`]: 'consecutiveBreaker(15)',
    },
  });

// Given a real control plane and Weir running in-process on a manual clock, the
// skipper router keeps `<ingress>-canary` next to the user's Ingress, which the
// real API server validates at every step, and never writes the user's Ingress.
// No Skipper runs here: what the annotations mean comes from Skipper's and
// Flagger's documentation and source (docs/routers.md).
describe('the skipper router on the real control plane', () => {
  let bed: RouterTestbed;
  const canary = (name: string) => bed.canary(name);
  /** The split on `<ingress>-canary` in one line: `primary/canary predicate`, e.g. `90/10 Weight(100) && Method("GET")`. */
  const summary = async (ingress: string) => {
    const an = (await readIngress(bed, `${ingress}-canary`))?.metadata.annotations;
    if (!an) return 'absent';
    const w = JSON.parse(an[`${z}backend-weights`] ?? '{}') as Record<string, number>;
    return `${w[`${ingress}-primary`]}/${w[`${ingress}-canary`]} ${an[`${z}skipper-predicate`]}`;
  };
  const bootstrap = (
    name: string,
    spec: Partial<Canary['spec']> & Pick<Canary['spec'], 'analysis'>,
  ) => bed.bootstrap(name, { ...ingressCanarySpec('skipper', name), ...spec });

  beforeAll(async () => {
    // An Ingress is a built-in kind: no router CRDs needed.
    bed = await startRouterTestbed({
      namespace,
      startTime: '2026-12-09T10:00:00Z',
      routerCrds: false,
    });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it('steps a weighted release 0 → 10 → 20 → 30 on backend-weights and turns the canary Ingress off after promotion, leaving the user’s alone', async () => {
    await bed.applyAsUser(userIngress('podinfo'));
    const before = (await readIngress(bed, 'podinfo'))!;
    await bootstrap('podinfo', { analysis: { interval: '10s', stepWeight: 10, maxWeight: 30 } });

    const clone = (await readIngress(bed, 'podinfo-canary'))!;
    // Each apex path twice, to the primary and to the canary; the other Service's path is not copied.
    const backend = (name: string) => ({ service: { name, port: { number: 9898 } } });
    expect(clone.spec).toEqual({
      ingressClassName: 'skipper',
      rules: [
        {
          host: 'podinfo.example.test',
          http: {
            paths: [
              { path: '/', pathType: 'Prefix', backend: backend('podinfo-primary') },
              { path: '/', pathType: 'Prefix', backend: backend('podinfo-canary') },
            ],
          },
        },
      ],
    });
    expect(clone.metadata.labels).toEqual({ 'weir.dev/canary': 'podinfo' });
    expect(clone.metadata.annotations).toEqual({
      [`${z}skipper-filter`]: 'consecutiveBreaker(15)',
      [`${z}backend-weights`]: '{"podinfo-primary":100,"podinfo-canary":0}',
      [`${z}skipper-predicate`]: 'False()',
    });
    expect(clone.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo' });

    const steps = await bed.release('podinfo', () => summary('podinfo'));
    expect(steps.map((s) => s.routes).filter((r, i, all) => r !== all[i - 1])).toEqual([
      '100/0 False()',
      '90/10 Weight(100) && Method("GET")',
      '80/20 Weight(100) && Method("GET")',
      '70/30 Weight(100) && Method("GET")',
      '100/0 False()',
    ]);
    expect((await canary('podinfo')).status?.phase).toBe('Succeeded');
    // The user's Ingress was never written.
    await expectUnwritten(bed, before);
  });

  it('sends only requests matching the A/B header and query parameter through the canary Ingress, all to the canary, during the analysis', async () => {
    await bed.applyAsUser(userIngress('search'));
    const before = (await readIngress(bed, 'search'))!;
    await bootstrap('search', {
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } }, queryParams: { beta: { exact: 'on' } } },
        ],
      },
    });
    expect(await summary('search')).toBe('100/0 False()');
    await setImage(bed.apps, namespace, 'search', 'example.test/search:2');
    await bed.untilPhase('search', 'Progressing');
    expect(await summary('search')).toBe(
      '0/100 Weight(100) && Header("x-canary", "insider") && QueryParam("beta", "^on$") && Method("GET")',
    );
    await bed.untilPhase('search', 'Succeeded');
    expect(await summary('search')).toBe('100/0 False()');
    await expectUnwritten(bed, before);
  });

  it('rolls back to the primary when the checks fail: weights 100/0 and the canary Ingress off', async () => {
    await bed.applyAsUser(userIngress('cart'));
    const before = (await readIngress(bed, 'cart'))!;
    await bootstrap('cart', {
      analysis: { interval: '10s', threshold: 1, stepWeight: 20, maxWeight: 60 },
    });
    await bed.rollBackAfter(
      'cart',
      'cart at weight 20',
      async () => (await summary('cart')) === '80/20 Weight(100) && Method("GET")',
    );
    expect(await summary('cart')).toBe('100/0 False()');
    expect((await canary('cart')).status?.canaryWeight).toBe(0);
    await expectUnwritten(bed, before);
  });

  it('revertOnDeletion: deleting the Canary routes all traffic to the target through the clone, and leaves the user’s Ingress exactly as it was', async () => {
    await bed.applyAsUser(userIngress('ledger'));
    const before = (await readIngress(bed, 'ledger'))!;
    await bootstrap('ledger', {
      revertOnDeletion: true,
      analysis: { interval: '10s', stepWeight: 50, maxWeight: 50 },
    });
    const seen = await deleteWatchingClone(
      bed,
      'ledger',
      (clone) => `${clone.metadata.annotations?.[`${z}backend-weights`]}`,
    );
    const allToTarget = 'MODIFIED {"ledger-primary":0,"ledger-canary":100}';
    expect(seen).toContain(allToTarget);
    expect(seen.indexOf(allToTarget)).toBeLessThan(seen.findIndex((s) => s.startsWith('DELETED')));
    const after = (await readIngress(bed, 'ledger'))!;
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.annotations).toEqual(before.metadata.annotations);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
  });
});
