import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { strategyOf } from '../../../src/api/strategy.js';
import type { Canary } from '../../../src/api/types.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { KnativeRouter, knativeUnsupported } from '../../../src/routers/knative-router.js';
import { ownProviderOf, targetProviderProblem } from '../../../src/routers/target-providers.js';
import {
  knativeTraffic,
  knativeUnsupported as knativeServiceUnsupported,
  knativeView,
  knativeWeightOf,
  primaryRevisionAnnotation,
  primaryRevisionOf,
  type KnativeService,
  type KnativeTrafficTarget,
} from '../../../src/workloads/knative.js';
import { canaryWith } from './fixtures.js';

/** A Canary for the Knative Service `podinfo`, with `overrides` as in {@link canaryWith}. */
function knativeCanary(overrides: Parameters<typeof canaryWith>[0] = {}): Canary {
  const canary = canaryWith({ provider: 'knative', ...overrides });
  canary.spec.targetRef = {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    name: 'podinfo',
  };
  return canary;
}

/** The Knative Service `podinfo` as Knative reports it. */
function service(
  status: KnativeService['status'],
  annotations?: Record<string, string>,
  traffic?: KnativeTrafficTarget[],
): KnativeService {
  return {
    apiVersion: 'serving.knative.dev/v1',
    kind: 'Service',
    metadata: { name: 'podinfo', namespace: 'shop', ...(annotations ? { annotations } : {}) },
    spec: {
      template: { spec: { containers: [{ name: 'app', image: 'podinfo:2' }] } },
      ...(traffic ? { traffic } : {}),
    },
    status,
  };
}

/** A KubeAccess that records what is applied and refuses every other call. */
function recordingKube(): { kube: KubeAccess; applied: k8s.KubernetesObject[] } {
  const applied: k8s.KubernetesObject[] = [];
  const kube = new Proxy({} as KubeAccess, {
    get: (_t, verb) =>
      verb === 'apply'
        ? async (obj: k8s.KubernetesObject) => (applied.push(obj), obj)
        : () => Promise.reject(new Error(`unexpected ${String(verb)}`)),
  });
  return { kube, applied };
}

const ready = {
  latestCreatedRevisionName: 'podinfo-00002',
  latestReadyRevisionName: 'podinfo-00002',
};

describe('Knative Service targets (workload view)', () => {
  it('reads the primary from Weir’s annotation, else Flagger’s', () => {
    expect(primaryRevisionOf(service(ready, { [primaryRevisionAnnotation]: 'a' }))).toBe('a');
    expect(primaryRevisionOf(service(ready, { 'flagger.app/primary-revision': 'f' }))).toBe('f');
    expect(
      primaryRevisionOf(
        service(ready, { [primaryRevisionAnnotation]: 'a', 'flagger.app/primary-revision': 'f' }),
      ),
    ).toBe('a');
    expect(primaryRevisionOf(service(ready))).toBeUndefined();
  });

  it('is ready from the status alone: the newest Revision ready, the primary the newest ready one or routed', () => {
    const primary = { [primaryRevisionAnnotation]: 'podinfo-00001' };
    // The newest Revision is not ready yet; Knative still routes to the primary.
    const pending = knativeView(
      service(
        {
          latestCreatedRevisionName: 'podinfo-00002',
          latestReadyRevisionName: 'podinfo-00001',
          traffic: [{ revisionName: 'podinfo-00001', percent: 100 }],
        },
        primary,
      ),
    );
    expect(pending).toEqual({
      revision: 'podinfo-00002',
      primaryRevision: 'podinfo-00001',
      primaryReady: true,
      canaryReady: false,
    });
    // Ready, but Knative no longer reports the primary: only routed or newest-ready counts.
    const routedAway = knativeView(service(ready, primary));
    expect(routedAway).toMatchObject({ primaryReady: false, canaryReady: true });
    // No primary yet (before bootstrap): never ready.
    expect(knativeView(service(ready)).primaryReady).toBe(false);
  });

  it('refuses a Service Knative has not reconciled, saying what to check', () => {
    expect(knativeServiceUnsupported(service({}))).toMatch(
      /has no Revision yet .* is Knative Serving running\?/,
    );
    expect(knativeServiceUnsupported(service(ready))).toBeUndefined();
  });

  it('splits by Revision name, never latestRevision; all to one Revision at 0, at 100, and when they are the same', () => {
    expect(knativeTraffic('p', 'c', 0)).toEqual([{ revisionName: 'p', percent: 100 }]);
    expect(knativeTraffic('p', 'c', 30)).toEqual([
      { revisionName: 'p', percent: 70 },
      { revisionName: 'c', percent: 30 },
    ]);
    expect(knativeTraffic('p', 'c', 100)).toEqual([{ revisionName: 'c', percent: 100 }]);
    expect(knativeTraffic('p', 'p', 30)).toEqual([{ revisionName: 'p', percent: 100 }]);
  });

  it('reads the canary’s share back from spec.traffic', () => {
    const primary = { [primaryRevisionAnnotation]: 'p' };
    expect(knativeWeightOf(service(ready, primary, knativeTraffic('p', 'c', 40)))).toBe(40);
    expect(knativeWeightOf(service(ready, primary, knativeTraffic('p', 'c', 0)))).toBe(0);
    expect(
      knativeWeightOf(service(ready, undefined, knativeTraffic('p', 'c', 40))),
    ).toBeUndefined();
  });
});

describe('KnativeRouter', () => {
  it('applies only the primary annotation and spec.traffic, both every time', async () => {
    const { kube, applied } = recordingKube();
    const svc = service(
      { latestCreatedRevisionName: 'podinfo-00002', latestReadyRevisionName: 'podinfo-00002' },
      { [primaryRevisionAnnotation]: 'podinfo-00001' },
    );
    const router = new KnativeRouter(kube, () => svc);
    await router.setRoutes(knativeCanary(), { canaryWeight: 20, matchToCanary: false });
    expect(applied).toEqual([
      {
        apiVersion: 'serving.knative.dev/v1',
        kind: 'Service',
        metadata: {
          name: 'podinfo',
          namespace: 'shop',
          annotations: { [primaryRevisionAnnotation]: 'podinfo-00001' },
        },
        spec: {
          traffic: [
            { revisionName: 'podinfo-00001', percent: 80 },
            { revisionName: 'podinfo-00002', percent: 20 },
          ],
        },
      },
    ]);
  });

  it('bootstraps with the newest ready Revision as the primary, not the newest created', async () => {
    const { kube, applied } = recordingKube();
    const svc = service({
      latestCreatedRevisionName: 'podinfo-00003',
      latestReadyRevisionName: 'podinfo-00002',
    });
    await new KnativeRouter(kube, () => svc).setRoutes(knativeCanary(), {
      canaryWeight: 0,
      matchToCanary: false,
    });
    expect(applied[0]).toMatchObject({
      metadata: { annotations: { [primaryRevisionAnnotation]: 'podinfo-00002' } },
      spec: { traffic: [{ revisionName: 'podinfo-00002', percent: 100 }] },
    });
  });

  it('promotes by moving the annotation and all traffic; finalizes to Knative’s default without the annotation', async () => {
    const { kube, applied } = recordingKube();
    const svc = service(ready, { [primaryRevisionAnnotation]: 'podinfo-00001' });
    const router = new KnativeRouter(kube, () => svc);
    await router.promote(knativeCanary(), 'podinfo-00002');
    await router.finalize(knativeCanary());
    expect(applied.map((o) => [o.metadata?.annotations, (o as KnativeService).spec])).toEqual([
      [
        { [primaryRevisionAnnotation]: 'podinfo-00002' },
        { traffic: [{ revisionName: 'podinfo-00002', percent: 100 }] },
      ],
      [undefined, { traffic: [{ latestRevision: true, percent: 100 }] }],
    ]);
  });

  it('writes nothing for a Service it cannot see, or one without a Revision', async () => {
    const { kube, applied } = recordingKube();
    await new KnativeRouter(kube, () => undefined).setRoutes(knativeCanary(), {
      canaryWeight: 10,
      matchToCanary: false,
    });
    await new KnativeRouter(kube, () => service({})).setRoutes(knativeCanary(), {
      canaryWeight: 10,
      matchToCanary: false,
    });
    expect(applied).toEqual([]);
  });

  it.each([
    ['a weighted canary', {}, undefined],
    ['blue/green', { stepWeight: undefined, maxWeight: undefined, iterations: 2 }, undefined],
    [
      'A/B testing',
      { match: [{ headers: { 'x-canary': { exact: 'on' } } }] },
      /Knative routes by percentage, not by request headers/,
    ],
    ['mirroring', { mirror: true }, /cannot mirror traffic between Revisions/],
    [
      'session affinity',
      { sessionAffinity: { cookieName: 'c' } },
      /cannot pin sessions to a Revision/,
    ],
  ] as const)('%s: %s', (_what, analysis, message) => {
    const canary = knativeCanary({ analysis: analysis as Partial<Canary['spec']['analysis']> });
    const said = knativeUnsupported(canary, strategyOf(canary.spec.analysis));
    if (message) expect(said).toMatch(message);
    else expect(said).toBeUndefined();
  });

  it('routes Knative Services only, and a Knative Service is routed by knative only', () => {
    const deployment = canaryWith({ provider: 'knative' });
    expect(knativeUnsupported(deployment, 'canary')).toMatch(
      /its targetRef must be a Knative Service .*not a Deployment/,
    );
    expect(ownProviderOf(knativeCanary())).toBe('knative');
    expect(targetProviderProblem(knativeCanary(), 'knative')).toBeUndefined();
    expect(targetProviderProblem(knativeCanary(), 'istio')).toMatch(
      /set spec.provider to knative, or leave it out/,
    );
    expect(targetProviderProblem(deployment, 'istio')).toBeUndefined();
  });
});
