import { describe, expect, it } from 'vitest';
import { parkingNodeSelector, parkingPatch } from '../../../src/workloads/daemonsets.js';
import { canaryWith } from '../routers/fixtures.js';
import { daemonSet, FakeCluster, reconcilerOn, reconcileSteps, type Call } from './fake-cluster.js';

const key = 'shop/podinfo';
const parked = { [parkingNodeSelector.key]: 'true' };

/** A cluster with the DaemonSet `podinfo` (image podinfo:1) and a blue/green Canary for it. */
function world() {
  const cluster = new FakeCluster();
  cluster.daemonSets.set('podinfo', daemonSet('podinfo', 'podinfo:1'));
  const canary = canaryWith({ provider: 'kubernetes' });
  canary.spec.targetRef = { apiVersion: 'apps/v1', kind: 'DaemonSet', name: 'podinfo' };
  // Blue/green: plain Services switch all at once, after the iterations.
  const analysis = { ...canary.spec.analysis, iterations: 1, threshold: 1 };
  delete analysis.stepWeight;
  delete analysis.maxWeight;
  canary.spec.analysis = analysis;
  cluster.addCanary(canary);
  return { cluster, ...reconcilerOn(cluster) };
}

const summary = (c: Call) =>
  c.verb === 'apply'
    ? `apply ${c.kind}/${c.name}`
    : c.verb === 'patchWorkload'
      ? `patchWorkload ${c.kind}/${c.name} ${JSON.stringify(c.body)}`
      : c.verb === 'patchStatus'
        ? `patchStatus ${c.kind}/${c.name}`
        : c.verb === 'event'
          ? `event ${c.type} ${c.reason}`
          : c.verb === 'setRoutes'
            ? `setRoutes ${c.routes.canaryWeight}`
            : c.verb;

const park = (on: boolean) => `patchWorkload DaemonSet/podinfo ${JSON.stringify(parkingPatch(on))}`;

/** Reconciles, lets background checks finish, moves the clock; the writes of each reconcile. */
const run = (w: ReturnType<typeof world>, times: number, stepMs: number) =>
  reconcileSteps(w, key, times, stepMs, summary);

function newImage(w: ReturnType<typeof world>, image: string) {
  const d = w.cluster.daemonSets.get('podinfo')!;
  d.spec!.template.spec!.containers[0]!.image = image;
  d.metadata!.generation = (d.metadata!.generation ?? 0) + 1;
  d.status!.observedGeneration = d.metadata!.generation;
}

const nodeSelector = (w: ReturnType<typeof world>, name = 'podinfo') =>
  w.cluster.daemonSets.get(name)!.spec!.template.spec!.nodeSelector;

describe('Reconciler, a DaemonSet target on a cluster in memory', () => {
  it('bootstraps a primary DaemonSet, then parks the target with a node selector (no revision change)', async () => {
    const w = world();
    const writes = await run(w, 3, 0);
    expect(writes).toEqual([
      [
        'patchStatus canaries/podinfo',
        'apply DaemonSet/podinfo-primary',
        'apply Service/podinfo',
        'apply Service/podinfo-primary',
        'apply Service/podinfo-canary',
        'setRoutes 0',
      ],
      ['patchStatus canaries/podinfo', park(true), 'event Normal Initialized'],
      // Parking wrote to the target's template: still the same revision, nothing to do.
      [],
    ]);
    expect(nodeSelector(w)).toEqual(parked);
    expect(nodeSelector(w, 'podinfo-primary')).toBeUndefined();
    expect(w.cluster.canaries.get('podinfo')!.status!.phase).toBe('Initialized');
  });

  it('un-parks the canary for the analysis, waits for it on every node, promotes, parks it again', async () => {
    const w = world();
    await run(w, 3, 0);
    const revisionBefore = w.cluster.canaries.get('podinfo')!.status!.lastAppliedSpec;
    newImage(w, 'podinfo:2');
    const writes = (await run(w, 8, 5_000)).flat();
    expect(writes).toContain(park(false));
    const promoted = writes.indexOf('apply DaemonSet/podinfo-primary');
    expect(promoted).toBeGreaterThan(writes.indexOf(park(false)));
    expect(writes.lastIndexOf(park(true))).toBeGreaterThan(promoted);
    expect(w.checks.calls).toBeGreaterThanOrEqual(1);
    const status = w.cluster.canaries.get('podinfo')!.status!;
    expect(status.phase).toBe('Succeeded');
    expect(status.lastAppliedSpec).not.toBe(revisionBefore);
    expect(status.lastPromotedSpec).toBe(status.lastAppliedSpec);
    const primary = w.cluster.daemonSets.get('podinfo-primary')!;
    expect(primary.spec!.template.spec!.containers[0]!.image).toBe('podinfo:2');
    expect(primary.spec!.template.spec!.nodeSelector).toBeUndefined();
    expect(nodeSelector(w)).toEqual(parked);
  });

  it('a failed check rolls back: the primary keeps its template and the canary is parked', async () => {
    const w = world();
    await run(w, 3, 0);
    newImage(w, 'podinfo:2');
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    const writes = (await run(w, 6, 5_000)).flat();
    expect(writes).toContain(park(false));
    expect(writes).not.toContain('apply DaemonSet/podinfo-primary');
    expect(writes.lastIndexOf(park(true))).toBeGreaterThan(writes.indexOf(park(false)));
    expect(w.cluster.canaries.get('podinfo')!.status!.phase).toBe('Failed');
    const primary = w.cluster.daemonSets.get('podinfo-primary')!;
    expect(primary.spec!.template.spec!.containers[0]!.image).toBe('podinfo:1');
    expect(nodeSelector(w)).toEqual(parked);
  });

  it('refuses a DaemonSet with updateStrategy OnDelete, saying why', async () => {
    const w = world();
    w.cluster.daemonSets.get('podinfo')!.spec!.updateStrategy = { type: 'OnDelete' };
    await run(w, 1, 0);
    const ready = w.cluster.canaries
      .get('podinfo')!
      .status!.conditions!.find((c) => c.type === 'Ready')!;
    expect(ready).toMatchObject({ status: 'False', reason: 'TargetNotSupported' });
    expect(ready.message).toContain('use RollingUpdate');
    expect(w.cluster.daemonSets.has('podinfo-primary')).toBe(false);
  });
});
