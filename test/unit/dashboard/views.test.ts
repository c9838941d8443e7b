import { describe, expect, it } from 'vitest';
import type { RecordEntry } from '../../../src/contracts/records.js';
import type { CanaryRow } from '../../../src/dashboard/model.js';
import {
  canaryDetail,
  canaryRow,
  compareRows,
  offeredActions,
  releaseView,
  viewLimits,
} from '../../../src/dashboard/views.js';
import { canary, deployment, event, hostile, run } from './fixtures.js';

const progressing = {
  phase: 'Progressing' as const,
  canaryWeight: 20,
  failedChecks: 1,
  lastAppliedSpec: 'rev2',
  lastTransitionTime: '2026-11-22T10:00:20Z',
  currentRun: 'web-2',
  conditions: [{ type: 'Ready', status: 'True' as const, reason: 'Progressing' }],
};

const transitions = [
  {
    seq: 4,
    time: '2026-11-22T10:00:00Z',
    from: 'Succeeded' as const,
    to: 'Progressing' as const,
    event: 'new-revision',
    reason: 'NewRevision',
    weight: 0,
    message: 'New revision rev2 detected',
  },
  {
    seq: 5,
    time: '2026-11-22T10:00:10Z',
    from: 'Progressing' as const,
    to: 'Progressing' as const,
    event: 'checks',
    reason: 'StepAdvanced',
    weight: 10,
    failedChecks: 0,
    message: 'Advance canary weight to 10',
    metrics: [
      { name: 'request-success-rate', value: 99.5, min: 99, passed: true },
      { name: 'latency', value: 612, max: 500, passed: false, message: 'latency 612 > 500' },
    ],
    webhooks: [{ name: 'smoke', type: 'rollout', statusCode: 200, passed: true, body: hostile }],
  },
];

describe('canaryRow', () => {
  it('shows the phase, weight, checks, revision, the images of the release and its last transition', () => {
    const c = canary('web', progressing);
    const r = run('web', 'web-2', '2026-11-22T10:00:00Z', transitions);
    expect(canaryRow(c, r)).toEqual({
      namespace: 'shop',
      name: 'web',
      target: 'Deployment/web',
      phase: 'Progressing',
      inFlight: true,
      canaryWeight: 20,
      failedChecks: 1,
      threshold: 3,
      revision: 'rev2',
      images: ['example.test/web:2'],
      lastTransition: { time: '2026-11-22T10:00:10Z', to: 'Progressing', reason: 'StepAdvanced' },
    });
  });

  it('takes the last transition from the outbox when the run has not recorded it yet', () => {
    const pending: RecordEntry = {
      seq: 6,
      run: 'web-2',
      time: '2026-11-22T10:00:20Z',
      from: 'Progressing',
      to: 'Progressing',
      event: 'checks',
      reason: 'StepAdvanced',
      message: 'Advance canary weight to 20',
      weight: 20,
      failedChecks: 1,
    };
    const c = canary('web', { ...progressing, machine: { outbox: [pending] } });
    const r = run('web', 'web-2', '2026-11-22T10:00:00Z', transitions);
    expect(canaryRow(c, r).lastTransition).toEqual({
      time: '2026-11-22T10:00:20Z',
      to: 'Progressing',
      reason: 'StepAdvanced',
    });
    expect(releaseView(r, [pending]).transitions.map((t) => t.weight)).toEqual([0, 10, 20]);
  });

  it('ends a release whose ending transition still waits in the outbox, as the run will', () => {
    const rolledBack: RecordEntry = {
      seq: 6,
      run: 'web-2',
      time: '2026-11-22T10:00:30Z',
      from: 'Progressing',
      to: 'Failed',
      event: 'checks',
      reason: 'RolledBack',
      message: 'Failed checks reached the threshold',
      weight: 0,
      failedChecks: 3,
    };
    const r = run('web', 'web-2', '2026-11-22T10:00:00Z', transitions);
    expect(releaseView(r)).toMatchObject({ name: 'web-2' });
    expect(releaseView(r).result).toBeUndefined();
    expect(releaseView(r).endTime).toBeUndefined();
    expect(releaseView(r, [rolledBack])).toMatchObject({
      result: 'RolledBack',
      endTime: '2026-11-22T10:00:30Z',
    });
    // Once recorded, the run's own result stands.
    const recorded = { ...r, status: { ...r.status, result: 'Aborted' as const, endTime: 'x' } };
    expect(releaseView(recorded, [rolledBack])).toMatchObject({ result: 'Aborted', endTime: 'x' });
  });

  it('gives a blocked Canary its Ready reason and message, the message capped at 2 KiB', () => {
    const long = 'x'.repeat(10_000);
    const c = canary('web', {
      phase: 'Failed',
      lastTransitionTime: '2026-11-22T10:00:00Z',
      conditions: [{ type: 'Ready', status: 'False', reason: 'RoutingBlocked', message: long }],
    });
    const row = canaryRow(c);
    expect(row.inFlight).toBe(false);
    expect(row.reason).toBe('RoutingBlocked');
    expect(row.message).toHaveLength(viewLimits.message);
    expect(row.message!.endsWith('…')).toBe(true);
    expect(row.images).toEqual([]);
    // No run: the status says when and what.
    expect(row.lastTransition).toEqual({
      time: '2026-11-22T10:00:00Z',
      to: 'Failed',
      reason: 'RoutingBlocked',
    });
  });

  it('shows a Canary the controller has not seen yet as Unknown, with zeros', () => {
    const c = canary('new', undefined);
    delete c.status;
    expect(canaryRow(c)).toMatchObject({
      phase: 'Unknown',
      inFlight: false,
      canaryWeight: 0,
      failedChecks: 0,
      images: [],
    });
    expect(canaryRow(c).lastTransition).toBeUndefined();
  });
});

describe('compareRows', () => {
  const row = (name: string, inFlight: boolean, time?: string): CanaryRow => ({
    namespace: 'shop',
    name,
    target: `Deployment/${name}`,
    phase: inFlight ? 'Progressing' : 'Succeeded',
    inFlight,
    canaryWeight: 0,
    failedChecks: 0,
    threshold: 1,
    images: [],
    ...(time ? { lastTransition: { time, to: 'Succeeded' } } : {}),
  });

  it('puts releases in flight first, then the newest transition first, never-moved last, then by name', () => {
    const rows = [
      row('quiet', false),
      row('old-done', false, '2026-11-22T09:00:00Z'),
      row('b-flying', true, '2026-11-22T09:30:00Z'),
      row('new-done', false, '2026-11-22T10:00:00Z'),
      row('a-flying', true, '2026-11-22T09:30:00Z'),
      row('fresh-flying', true, '2026-11-22T10:05:00Z'),
      row('also-quiet', false),
    ];
    expect(rows.sort(compareRows).map((r) => r.name)).toEqual([
      'fresh-flying',
      'a-flying',
      'b-flying',
      'new-done',
      'old-done',
      'also-quiet',
      'quiet',
    ]);
  });
});

describe('canaryDetail', () => {
  const c = canary('web', progressing);
  const older = run('web', 'web-1', '2026-11-21T10:00:00Z', [], {
    result: 'Promoted',
    from: ['example.test/web:0'],
    to: ['example.test/web:1'],
  });
  const current = run('web', 'web-2', '2026-11-22T10:00:00Z', transitions);
  const events = Array.from({ length: 60 }, (_, i) =>
    event(
      'web',
      `e${i}`,
      new Date(Date.parse('2026-11-22T10:00:00Z') + i * 1000).toISOString(),
      `m${i}`,
    ),
  );
  const detail = canaryDetail(
    c,
    [older, current],
    deployment('web', ['example.test/web:2'], 0),
    deployment('web-primary', ['example.test/web:1'], 3, 2),
    events,
    offeredActions(c, true),
  );

  it('lists the releases newest first, with every transition, its metrics against their bounds and webhooks', () => {
    expect(detail.releases.map((r) => [r.name, r.result, r.images.to])).toEqual([
      ['web-2', undefined, ['example.test/web:2']],
      ['web-1', 'Promoted', ['example.test/web:1']],
    ]);
    const step = detail.releases[0]!.transitions[1]!;
    expect(step).toMatchObject({ seq: 5, to: 'Progressing', weight: 10, reason: 'StepAdvanced' });
    expect(step.metrics).toEqual([
      { name: 'request-success-rate', value: 99.5, min: 99, passed: true },
      { name: 'latency', value: 612, max: 500, passed: false, message: 'latency 612 > 500' },
    ]);
    expect(step.webhooks[0]).toMatchObject({ name: 'smoke', statusCode: 200, passed: true });
  });

  it('shows what Git declares against what the primary runs', () => {
    expect(detail.declared).toEqual({ images: ['example.test/web:2'] });
    expect(detail.running).toEqual({
      images: ['example.test/web:1'],
      replicas: 3,
      readyReplicas: 2,
    });
  });

  it('keeps the last 50 Events, newest first', () => {
    expect(detail.events).toHaveLength(viewLimits.events);
    expect(detail.events[0]).toEqual({
      time: '2026-11-22T10:00:59.000Z',
      type: 'Normal',
      reason: 'Synced',
      message: 'm59',
    });
    expect(detail.events.at(-1)!.message).toBe('m10');
  });

  it('carries a hostile webhook answer and Event message unchanged, as data', () => {
    const withHostileEvent = canaryDetail(
      c,
      [current],
      undefined,
      undefined,
      [event('web', 'bad', '2026-11-22T10:00:00Z', hostile)],
      [],
    );
    const roundTrip = JSON.parse(JSON.stringify(withHostileEvent)) as typeof withHostileEvent;
    expect(roundTrip.releases[0]!.transitions[1]!.webhooks[0]!.body).toBe(hostile);
    expect(roundTrip.events[0]!.message).toBe(hostile);
    expect(withHostileEvent.declared.images).toEqual([]);
    expect(withHostileEvent.running).toEqual({ images: [] });
  });
});

describe('offeredActions', () => {
  const applicable = (status: Parameters<typeof canary>[1]) =>
    Object.fromEntries(
      offeredActions(canary('web', status), true).map((a) => [a.action, a.applicable]),
    );

  it('offers what the phase allows: promote and abort in progress, approve at a gate, retry after a failure', () => {
    expect(applicable({ phase: 'Progressing', lastAppliedSpec: 'r' })).toEqual({
      promote: true,
      abort: true,
      retry: false,
      approve: false,
    });
    expect(applicable({ phase: 'WaitingPromotion', lastAppliedSpec: 'r' })).toEqual({
      promote: true,
      abort: true,
      retry: false,
      approve: true,
    });
    expect(applicable({ phase: 'Waiting', lastAppliedSpec: 'r' })).toMatchObject({ approve: true });
    expect(applicable({ phase: 'Failed', lastAppliedSpec: 'r' })).toEqual({
      promote: false,
      abort: false,
      retry: true,
      approve: false,
    });
    expect(applicable({ phase: 'Succeeded', lastAppliedSpec: 'r' })).toEqual({
      promote: false,
      abort: false,
      retry: false,
      approve: false,
    });
    // No release yet: nothing to act on.
    expect(applicable({ phase: 'Progressing' })).toMatchObject({ promote: false, abort: false });
  });

  it('names the annotation and value a GitOps user would commit, and offers nothing without RBAC', () => {
    const c = canary('web', { phase: 'WaitingPromotion', lastAppliedSpec: 'rev2' });
    expect(offeredActions(c, true).find((a) => a.action === 'approve')).toEqual({
      action: 'approve',
      applicable: true,
      annotation: 'weir.dev/approve',
      value: 'rev2',
    });
    expect(offeredActions(c, false)).toEqual([]);
  });
});
