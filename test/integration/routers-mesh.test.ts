import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../src/api/types.js';
import { readObject } from '../harness/controller.js';
import { startRouterTestbed, type RouterTestbed } from '../harness/router-testbed.js';
import { createCanary, createDeployment } from '../harness/weir.js';

const namespace = 'mesh';

type Provider = 'linkerd' | 'traefik' | 'contour';

/** Where each router keeps its split: the object `<apex>` Weir writes. */
const objectOf: Record<Provider, { apiVersion: string; kind: string }> = {
  linkerd: { apiVersion: 'split.smi-spec.io/v1alpha2', kind: 'TrafficSplit' },
  traefik: { apiVersion: 'traefik.io/v1alpha1', kind: 'TraefikService' },
  contour: { apiVersion: 'projectcontour.io/v1', kind: 'HTTPProxy' },
};

/**
 * The split as the API server holds it, read straight from the object (not
 * through the router): "primary/canary" weights, "mirror N%" while mirrored,
 * "ab " in front while requests are matched to the canary, "gone" once collected.
 */
function summarise(provider: Provider, name: string, obj: Record<string, any> | undefined): string {
  if (!obj) return 'gone';
  const weightOf = (list: { name?: string; service?: string; weight?: number }[], n: string) =>
    list.find((b) => (b.name ?? b.service) === n)?.weight ?? 0;
  const split = (list: any[]) =>
    `${weightOf(list, `${name}-primary`)}/${weightOf(list, `${name}-canary`)}`;
  switch (provider) {
    case 'linkerd':
      expect(obj.spec.service).toBe(name);
      return split(obj.spec.backends);
    case 'traefik':
      if (obj.spec.mirroring) {
        expect(obj.spec.mirroring.name).toBe(`${name}-primary`);
        expect(obj.spec.mirroring.mirrors.map((m: any) => m.name)).toEqual([`${name}-canary`]);
        return `mirror ${obj.spec.mirroring.mirrors[0].percent}%`;
      }
      return split(obj.spec.weighted.services);
    case 'contour': {
      const routes: any[] = obj.spec.routes;
      const matched = routes.filter((r) =>
        r.conditions.some((c: any) => c.header || c.queryParameter),
      );
      const weighted = routes.find((r) => !matched.includes(r));
      const mirror = weighted.services.find((s: any) => s.mirror);
      if (mirror) {
        expect(mirror.name).toBe(`${name}-canary`);
        return `mirror ${mirror.weight}%`;
      }
      for (const r of matched) expect(split(r.services)).toBe('0/100');
      return `${matched.length ? 'ab ' : ''}${split(weighted.services)}`;
    }
  }
}

/** Consecutive duplicates removed. */
const distinct = (values: string[]) => values.filter((v, i) => v !== values[i - 1]);

// Given a real control plane with the SMI TrafficSplit, Traefik and Contour CRDs
// installed, and Weir running in-process on a manual clock, each mesh router
// writes objects the real schemas accept at every step of a release.
describe('the linkerd, traefik and contour routers on the real control plane', () => {
  let bed: RouterTestbed;

  const read = (provider: Provider, name: string) =>
    readObject(
      bed.objects,
      objectOf[provider].apiVersion,
      objectOf[provider].kind,
      namespace,
      name,
    );
  const routing = async (provider: Provider, name: string) =>
    summarise(provider, name, await read(provider, name));

  /** A Deployment `name` with two replicas and its Canary, bootstrapped to Initialized. */
  const bootstrap = (
    provider: Provider,
    name: string,
    analysis: Canary['spec']['analysis'],
    extra: Partial<Canary['spec']> = {},
  ) => bed.bootstrap(name, { provider, analysis, ...extra });

  /** Changes the image and returns the distinct splits seen, from before it until the release ends. */
  async function release(provider: Provider, name: string): Promise<string[]> {
    const before = await routing(provider, name);
    const steps = await bed.release(name, () => routing(provider, name));
    return distinct([before, ...steps.map((s) => s.routes)]);
  }

  beforeAll(async () => {
    bed = await startRouterTestbed({ namespace, startTime: '2026-12-01T10:00:00Z' });
  });

  afterAll(async () => {
    await bed?.stop();
  });

  describe.each(['linkerd', 'traefik', 'contour'] as const)('%s', (provider) => {
    const name = `${provider}-web`;

    it('steps a weighted release 0 → 10 → 20 → 30 and returns 100% to the primary after promotion', async () => {
      await bootstrap(provider, name, { interval: '10s', stepWeight: 10, maxWeight: 30 });
      const obj = await read(provider, name);
      expect(obj?.metadata.labels).toMatchObject({ 'weir.dev/canary': name });
      expect(obj?.metadata.ownerReferences).toEqual([
        expect.objectContaining({ kind: 'Canary', name, controller: true }),
      ]);
      expect(await release(provider, name)).toEqual(['100/0', '90/10', '80/20', '70/30', '100/0']);
    });

    it('with revertOnDeletion, deleting the Canary leaves 100% on the target and gives it its replicas back', async () => {
      await bed.objects.patch(
        {
          apiVersion: 'weir.dev/v1alpha1',
          kind: 'Canary',
          metadata: { name, namespace },
          spec: { revertOnDeletion: true },
        } as any,
        undefined,
        undefined,
        undefined,
        undefined,
        k8s.PatchStrategy.MergePatch,
      );
      await bed.until('the finalizer', async () =>
        (await bed.canary(name)).metadata.finalizers?.includes('weir.dev/finalizer')
          ? true
          : undefined,
      );
      expect((await bed.apps.readNamespacedDeployment({ name, namespace })).spec?.replicas).toBe(0);
      await bed.objects.delete({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name, namespace },
      });
      await bed.until('the Canary to be gone', async () =>
        (await bed.canary(name).catch(() => undefined)) ? undefined : true,
      );
      // Garbage collection may already have taken the object; if not, it points at the target.
      expect(['0/100', 'gone']).toContain(await routing(provider, name));
      expect((await bed.apps.readNamespacedDeployment({ name, namespace })).spec?.replicas).toBe(2);
    });
  });

  const rejected: {
    provider: Provider;
    name: string;
    analysis: Canary['spec']['analysis'];
    service?: Canary['spec']['service'];
    message: string;
  }[] = [
    {
      provider: 'linkerd',
      name: 'linkerd-ab',
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
      message:
        'the linkerd provider routes with an SMI TrafficSplit, which can only split by weight',
    },
    {
      provider: 'traefik',
      name: 'traefik-ab',
      analysis: {
        interval: '10s',
        iterations: 2,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
      message: 'the traefik provider cannot route by header or query',
    },
    {
      provider: 'contour',
      name: 'contour-sticky',
      analysis: { interval: '10s', stepWeight: 10, sessionAffinity: { cookieName: 'canary' } },
      message: 'the contour provider cannot pin sessions to the canary',
    },
    {
      provider: 'linkerd',
      name: 'linkerd-timeout',
      analysis: { interval: '10s', stepWeight: 10 },
      service: { port: 80, timeout: '5s' },
      message: 'spec.service.timeout is not supported by the linkerd provider',
    },
    {
      provider: 'traefik',
      name: 'traefik-hosts',
      analysis: { interval: '10s', stepWeight: 10 },
      service: { port: 80, hosts: ['shop.example.test'] },
      message: 'spec.service.hosts is not supported by the traefik provider',
    },
    {
      provider: 'contour',
      name: 'contour-cors',
      analysis: { interval: '10s', stepWeight: 10 },
      service: { port: 80, corsPolicy: { allowOrigin: ['*'] } },
      message: 'spec.service.corsPolicy is not supported by the contour provider',
    },
  ];
  it.each(rejected)(
    '$provider rejects what it cannot route with Ready=False: "$message"',
    async ({ provider, name, analysis, service, message }) => {
      await createDeployment(bed.apps, namespace, name, 1);
      await createCanary(bed.objects, namespace, name, {
        provider,
        analysis,
        ...(service ? { service } : {}),
      });
      const ready = await bed.until(`${name} UnsupportedStrategy`, async () => {
        const c = (await bed.canary(name)).status?.conditions;
        const r = c?.find((x) => x.type === 'Ready');
        return r?.reason === 'UnsupportedStrategy' ? r : undefined;
      });
      expect(ready).toMatchObject({ status: 'False', message: expect.stringContaining(message) });
      expect(await read(provider, name)).toBeUndefined();
    },
  );

  it('contour routes matching requests to the canary during an A/B release, then drops the match', async () => {
    await bootstrap('contour', 'contour-ab', {
      interval: '10s',
      iterations: 2,
      match: [
        { headers: { 'x-canary': { exact: 'insider' } } },
        { headers: { 'user-agent': { prefix: 'Mozilla' } }, queryParams: { beta: { exact: '1' } } },
      ],
    });
    expect(await release('contour', 'contour-ab')).toEqual(['100/0', 'ab 100/0', '100/0']);
  });

  it.each(['traefik', 'contour'] as const)(
    '%s mirrors mirrorWeight percent to the canary through a blue/green analysis',
    async (provider) => {
      const name = `${provider}-mirror`;
      await bootstrap(provider, name, {
        interval: '10s',
        iterations: 2,
        mirror: true,
        mirrorWeight: 50,
      });
      expect(await release(provider, name)).toEqual(['100/0', 'mirror 50%', '100/0']);
    },
  );
});
