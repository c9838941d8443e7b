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
import { createCanary, createDeployment, setImage } from '../harness/weir.js';

const namespace = 'nginx-apps';
const a = 'nginx.ingress.kubernetes.io/';

/** The user's Ingress for `name`: one host, `/` to Service `name` on port 9898, beside another Service. */
const userIngress = (name: string, metadata: Parameters<typeof userIngressManifest>[3] = {}) =>
  userIngressManifest(namespace, name, 'nginx', metadata);

// Given a real control plane and Weir running in-process on a manual clock, the
// nginx router keeps `<ingress>-canary` next to the user's Ingress, which the
// real API server validates at every step, and never writes the user's Ingress.
describe('the nginx router on the real control plane', () => {
  let bed: RouterTestbed;
  /** The canary annotations of `<ingress>-canary` in one line, e.g. `weight=10` or `weight=0 header=x-canary:insider`. */
  const summary = async (ingress: string) => {
    const an = (await readIngress(bed, `${ingress}-canary`))?.metadata.annotations;
    if (!an) return 'absent';
    return [
      `weight=${an[`${a}canary-weight`]}`,
      ...(an[`${a}canary-by-header`]
        ? [`header=${an[`${a}canary-by-header`]}:${an[`${a}canary-by-header-value`]}`]
        : []),
      ...(an[`${a}canary-by-cookie`] ? [`cookie=${an[`${a}canary-by-cookie`]}`] : []),
    ].join(' ');
  };
  const bootstrap = (
    name: string,
    spec: Partial<Canary['spec']> & Pick<Canary['spec'], 'analysis'>,
  ) => bed.bootstrap(name, { ...ingressCanarySpec('nginx', name), ...spec });

  beforeAll(async () => {
    // An Ingress is a built-in kind: no router CRDs needed.
    bed = await startRouterTestbed({
      namespace,
      startTime: '2026-12-03T10:00:00Z',
      routerCrds: false,
    });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  it('steps a weighted release 0 → 10 → 20 → 30 and back to 0 on the canary Ingress, leaving the user’s alone', async () => {
    await bed.applyAsUser(userIngress('podinfo'));
    const before = (await readIngress(bed, 'podinfo'))!;
    await bootstrap('podinfo', { analysis: { interval: '10s', stepWeight: 10, maxWeight: 30 } });

    const clone = (await readIngress(bed, 'podinfo-canary'))!;
    expect(clone.spec).toEqual({
      ingressClassName: 'nginx',
      rules: [
        {
          host: 'podinfo.example.test',
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
    });
    expect(clone.metadata.labels).toEqual({ 'weir.dev/canary': 'podinfo' });
    expect(clone.metadata.annotations?.[`${a}canary`]).toBe('true');
    expect(clone.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'Canary', name: 'podinfo' });
    expect(await summary('podinfo')).toBe('weight=0');

    const steps = await bed.release('podinfo', () => summary('podinfo'));
    expect(steps.map((s) => s.routes).filter((r, i, all) => r !== all[i - 1])).toEqual([
      'weight=0',
      'weight=10',
      'weight=20',
      'weight=30',
      'weight=0',
    ]);
    // The user's Ingress was never written.
    await expectUnwritten(bed, before);
  });

  it('routes requests with the A/B header to the canary during the analysis, by weight 0 otherwise', async () => {
    await bed.applyAsUser(userIngress('search'));
    await bootstrap('search', {
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [
          { headers: { 'x-canary': { exact: 'insider' } } },
          { headers: { cookie: { exact: 'canary' } } },
        ],
      },
    });
    expect(await summary('search')).toBe('weight=0');
    await setImage(bed.apps, namespace, 'search', 'example.test/search:2');
    await bed.untilPhase('search', 'Progressing');
    expect(await summary('search')).toBe('weight=0 header=x-canary:insider cookie=canary');
    await bed.untilPhase('search', 'Succeeded');
    expect(await summary('search')).toBe('weight=0');
  });

  it('blocks with IngressNotFound until the Ingress exists, then carries on', async () => {
    await createDeployment(bed.apps, namespace, 'orders', 1);
    await createCanary(bed.objects, namespace, 'orders', {
      ...ingressCanarySpec('nginx', 'orders'),
      analysis: { interval: '10s', stepWeight: 50 },
    });
    const ready = await bed.untilReady('orders', 'IngressNotFound');
    expect(ready).toMatchObject({ status: 'False' });
    expect(ready.message).toMatch(/Ingress nginx-apps\/orders \(spec\.ingressRef\) not found/);
    expect(await summary('orders')).toBe('absent');

    await bed.applyAsUser(userIngress('orders'));
    // Weir does not watch Ingresses: it looks again a minute later.
    await bed.untilPhase('orders', 'Initialized', 120);
    expect(await summary('orders')).toBe('weight=0');
  });

  it('revertOnDeletion: deleting the Canary routes all traffic to the target, and leaves the user’s Ingress exactly as it was', async () => {
    await bed.applyAsUser(
      userIngress('ledger', {
        labels: { team: 'ledger', 'app.kubernetes.io/instance': 'shop' },
        annotations: { [`${a}proxy-body-size`]: '8m', 'example.test/owner': 'ledger-team' },
      }),
    );
    const before = (await readIngress(bed, 'ledger'))!;
    await bootstrap('ledger', {
      revertOnDeletion: true,
      analysis: { interval: '10s', stepWeight: 50, maxWeight: 50 },
    });
    const clone = (await readIngress(bed, 'ledger-canary'))!;
    // Only what NGINX reads is copied: not the user's labels (GitOps tools track by them).
    expect(clone.metadata.labels).toEqual({ 'weir.dev/canary': 'ledger' });
    expect(clone.metadata.annotations).toEqual({
      [`${a}proxy-body-size`]: '8m',
      [`${a}canary`]: 'true',
      [`${a}canary-weight`]: '0',
    });

    // Everything that happens to the clone while the Canary goes.
    const seen = await deleteWatchingClone(
      bed,
      'ledger',
      (clone) => `weight=${clone.metadata.annotations?.[`${a}canary-weight`]}`,
    );
    expect(seen).toContain('MODIFIED weight=100');
    expect(seen.indexOf('MODIFIED weight=100')).toBeLessThan(
      seen.findIndex((s) => s.startsWith('DELETED')),
    );

    const after = (await readIngress(bed, 'ledger'))!;
    expect(after.spec).toEqual(before.spec);
    expect(after.metadata.labels).toEqual(before.metadata.labels);
    expect(after.metadata.annotations).toEqual(before.metadata.annotations);
    expect(after.metadata.resourceVersion).toBe(before.metadata.resourceVersion);
    expect(after.metadata.ownerReferences).toBeUndefined();
  });
});
