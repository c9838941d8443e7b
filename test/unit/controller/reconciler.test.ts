import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { RoutingBlocked } from '../../../src/errors.js';
import { canaryWith } from '../routers/fixtures.js';
import {
  deployment,
  FakeCluster,
  reconcilerOn,
  reconcileSteps,
  type Call,
} from './fake-cluster.js';

const key = 'shop/podinfo';
const t0 = Date.parse('2026-12-01T10:00:00Z');
const at = (ms: number) => new Date(t0 + ms).toISOString();

/** A cluster with the target `podinfo` (image podinfo:1) and a Canary for it. */
function world(analysis: Partial<Canary['spec']['analysis']> = {}) {
  const cluster = new FakeCluster();
  cluster.deployments.set('podinfo', deployment('podinfo', 'podinfo:1'));
  cluster.addCanary(
    canaryWith({
      provider: 'kubernetes',
      analysis: { interval: '10s', stepWeight: 50, maxWeight: 50, threshold: 1, ...analysis },
    }),
  );
  return { cluster, ...reconcilerOn(cluster) };
}

/** What a call did, in one line: the order and targets of the writes. */
const summary = (c: Call) =>
  c.verb === 'setRoutes'
    ? `setRoutes ${c.routes.canaryWeight}`
    : c.verb === 'patchStatus'
      ? `patchStatus ${c.kind}/${c.name}`
      : c.verb === 'apply' || c.verb === 'delete'
        ? `${c.verb} ${c.kind}/${c.name}`
        : c.verb === 'scale'
          ? `scale ${c.name} ${c.replicas}`
          : c.verb === 'event'
            ? `event ${c.type} ${c.reason}`
            : c.verb;

const statusPatch = (calls: Call[]) =>
  calls.find((c) => c.verb === 'patchStatus' && c.kind === 'canaries') as Extract<
    Call,
    { verb: 'patchStatus' }
  >;

/** Reconciles, lets background checks finish, moves the clock; the writes of each reconcile. */
const run = (w: ReturnType<typeof world>, times: number, stepMs: number) =>
  reconcileSteps(w, key, times, stepMs, summary);

function newImage(w: ReturnType<typeof world>, image: string) {
  const d = w.cluster.deployments.get('podinfo')!;
  d.spec!.template!.spec!.containers[0]!.image = image;
  d.metadata!.generation = (d.metadata!.generation ?? 0) + 1;
  d.status!.observedGeneration = d.metadata!.generation;
}

describe('Reconciler, on a cluster in memory', () => {
  it('first sight: writes the Initializing status first, conditional on the version read, then bootstraps', async () => {
    const w = world();
    const result = await w.reconciler.reconcile(key);
    const calls = w.cluster.take();
    expect(calls.map(summary)).toEqual([
      'patchStatus canaries/podinfo',
      'apply Deployment/podinfo-primary',
      'apply Service/podinfo',
      'apply Service/podinfo-primary',
      'apply Service/podinfo-canary',
      'setRoutes 0',
    ]);
    const reconciling = (type: string, status: string) => ({
      type,
      status,
      reason: 'Initializing',
      message: 'Creating the primary and routing',
      lastTransitionTime: at(0),
      observedGeneration: 1,
    });
    expect(statusPatch(calls)).toEqual({
      verb: 'patchStatus',
      kind: 'canaries',
      name: 'podinfo',
      resourceVersion: '101',
      body: {
        phase: 'Initializing',
        canaryWeight: 0,
        failedChecks: 0,
        iterations: 0,
        lastTransitionTime: at(0),
        observedGeneration: 1,
        conditions: [
          reconciling('Ready', 'True'),
          reconciling('Promoted', 'Unknown'),
          reconciling('Reconciling', 'True'),
        ],
        machine: {
          version: 1,
          phase: 'Initializing',
          context: { weight: 0, iterations: 0, failedChecks: 0 },
          writes: 1,
          seq: 0,
          outbox: [],
        },
      },
    });
    expect(calls.find((c) => c.verb === 'setRoutes')).toEqual({
      verb: 'setRoutes',
      routes: { canaryWeight: 0, matchToCanary: false },
    });
    // Its own write asks for a second look at once (the echo is not reconciled).
    expect(result).toEqual({ requeueAt: t0 });
  });

  it('once the primary is ready: Initialized, the target scaled to zero, an Event; then nothing', async () => {
    const w = world();
    await w.reconciler.reconcile(key);
    w.cluster.take();
    await w.reconciler.reconcile(key);
    const calls = w.cluster.take();
    expect(calls.map(summary)).toEqual([
      'patchStatus canaries/podinfo',
      'scale podinfo 0',
      'event Normal Initialized',
    ]);
    const body = statusPatch(calls).body as Record<string, any>;
    expect(body.phase).toBe('Initialized');
    // The Reconciling condition goes: the patch names every condition there is.
    expect(body.conditions.map((c: { type: string }) => c.type)).toEqual(['Ready', 'Promoted']);
    expect(body.machine.outbox).toEqual([
      {
        seq: 1,
        time: at(0),
        from: 'Initializing',
        to: 'Initialized',
        event: 'primary-ready',
        reason: 'Initialized',
        message: 'Primary is ready; the target is scaled to zero until a new revision',
        weight: 0,
        failedChecks: 0,
        revision: body.machine.context.revision,
      },
    ]);
    expect(await run(w, 3, 1_000)).toEqual([[], [], []]);
  });

  it('a release: each weight only after a full interval at the one before and its passing check', async () => {
    const w = world();
    await run(w, 2, 0);
    newImage(w, 'podinfo:2');
    const writes = await run(w, 8, 5_000);
    expect(writes).toEqual([
      // t=0: the new revision; the canary scaled up, its run created.
      [
        'patchStatus canaries/podinfo',
        'scale podinfo 2',
        'event Normal NewRevision',
        'apply CanaryRun/podinfo-2',
        'patchStatus canaryruns/podinfo-2',
      ],
      [], // t=5 s: inside the interval
      [], // t=10 s: the interval is up: checks start in the background
      // t=15 s: their result is in: 50 %
      ['patchStatus canaries/podinfo', 'setRoutes 50', 'event Normal StepAdvanced'],
      [],
      [], // t=25 s: a full interval after the routes at 50 % landed: checks again
      // t=30 s: the analysis is complete: the primary gets the new template
      [
        'patchStatus canaries/podinfo',
        'apply Deployment/podinfo-primary',
        'event Normal Promoting',
        'patchStatus canaryruns/podinfo-2',
      ],
      [
        'patchStatus canaries/podinfo',
        'setRoutes 0',
        'event Normal Finalising',
        'patchStatus canaryruns/podinfo-2',
      ],
    ]);
    expect(w.checks.calls).toBe(2);
    const phase = w.cluster.canaries.get('podinfo')!.status!.phase;
    expect(phase).toBe('Finalising');
  });

  it('a failed check at the threshold rolls back: routes to the primary, canary to zero, Failed', async () => {
    const w = world();
    await run(w, 2, 0);
    newImage(w, 'podinfo:2');
    w.checks.outcome = { passed: false, failures: ['error-rate 7 > 1'] };
    const writes = await run(w, 4, 5_000);
    // The first step runs at weight 0: the routes are already there and not written again.
    expect(writes.at(-1)).toEqual([
      'patchStatus canaries/podinfo',
      'scale podinfo 0',
      'event Warning RolledBack',
      'patchStatus canaryruns/podinfo-2',
    ]);
    const status = w.cluster.canaries.get('podinfo')!.status!;
    expect(status.phase).toBe('Failed');
    expect(status.conditions!.find((c) => c.type === 'Stalled')).toMatchObject({
      status: 'True',
      reason: 'RolledBack',
    });
  });

  it('a Canary whose target is missing gets Ready=False and a Warning once, and is looked at again in a minute', async () => {
    const w = world();
    w.cluster.deployments.delete('podinfo');
    const result = await w.reconciler.reconcile(key);
    const calls = w.cluster.take();
    expect(calls.map(summary)).toEqual([
      'patchStatus canaries/podinfo',
      'event Warning TargetNotFound',
    ]);
    const conditions = (statusPatch(calls).body as { conditions: unknown[] }).conditions;
    const blocked = (type: string) => ({
      type,
      status: type === 'Ready' ? 'False' : 'True',
      reason: 'TargetNotFound',
      message: expect.stringContaining('podinfo'),
      lastTransitionTime: at(0),
      observedGeneration: 1,
    });
    expect(conditions).toEqual([blocked('Ready'), blocked('Stalled')]);
    expect(result).toEqual({ requeueAt: t0 + 60_000 });
    await w.reconciler.reconcile(key);
    expect(w.cluster.take()).toEqual([]);
  });

  it('a route the router refuses: the decision is written only once the routes went through', async () => {
    const w = world();
    w.cluster.failNext = {
      verb: 'setRoutes',
      error: new RoutingBlocked('NameConflict', 'HTTPRoute shop/podinfo is not Weir’s'),
    };
    const first = await w.reconciler.reconcile(key);
    expect(w.cluster.take().map(summary)).toEqual([
      'patchStatus canaries/podinfo',
      'apply Deployment/podinfo-primary',
      'apply Service/podinfo',
      'apply Service/podinfo-primary',
      'apply Service/podinfo-canary',
      'setRoutes 0',
      'patchStatus canaries/podinfo',
      'event Warning NameConflict',
    ]);
    expect(first).toEqual({ requeueAt: t0 + 60_000 });
    // Unchanged, it waits for the retry.
    await w.reconciler.reconcile(key);
    expect(w.cluster.take()).toEqual([]);
    w.clock.advance(60_000);
    await w.reconciler.reconcile(key);
    // Decided afresh (the primary is ready by now): the effects first (unchanged objects
    // are not written again), then the decision, then its record.
    expect(w.cluster.take().map(summary)).toEqual([
      'setRoutes 0',
      'scale podinfo 0',
      'patchStatus canaries/podinfo',
      'event Normal Initialized',
    ]);
    expect(w.cluster.canaries.get('podinfo')!.status!.phase).toBe('Initialized');
  });

  it('a status write that conflicts acts on nothing; the next reconcile decides again', async () => {
    const w = world();
    w.cluster.failNext = {
      verb: 'patchStatus',
      kind: 'canaries',
      error: Object.assign(new Error('conflict'), { code: 409 }),
    };
    await expect(w.reconciler.reconcile(key)).rejects.toThrow('conflict');
    expect(w.cluster.take().map(summary)).toEqual(['patchStatus canaries/podinfo']);
    await w.reconciler.reconcile(key);
    expect(w.cluster.take().map(summary)).toEqual([
      'patchStatus canaries/podinfo',
      'apply Deployment/podinfo-primary',
      'apply Service/podinfo',
      'apply Service/podinfo-primary',
      'apply Service/podinfo-canary',
      'setRoutes 0',
    ]);
  });

  it('tells the echo of its own status write from a change of the Canary', async () => {
    const w = world();
    await w.reconciler.reconcile(key);
    const echoed = w.cluster.canaries.get('podinfo')!;
    expect(w.reconciler.isOwnEcho(echoed)).toBe(true);
    const edited = { ...echoed, metadata: { ...echoed.metadata, generation: 2 } };
    expect(w.reconciler.isOwnEcho(edited)).toBe(false);
  });

  it('forgets a deleted Canary and writes nothing for it', async () => {
    const w = world();
    await w.reconciler.reconcile(key);
    w.cluster.take();
    expect(w.reconciler.remembered).toBe(1);
    w.cluster.canaries.delete('podinfo');
    expect(await w.reconciler.reconcile(key)).toBeUndefined();
    expect(w.cluster.take()).toEqual([]);
    expect(w.reconciler.remembered).toBe(0);
  });
});
