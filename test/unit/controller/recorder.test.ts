import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Canary, CanaryRun } from '../../../src/api/types.js';
import {
  Recorder,
  runBatch,
  trimEndedRun,
  type RecorderOptions,
} from '../../../src/controller/recorder.js';
import { Telemetry } from '../../../src/controller/telemetry.js';
import type { RecordEntry } from '../../../src/contracts/records.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { createLogger } from '../../../src/logger.js';

/** Records the CanaryRun status patches, per namespace/name, and counts every write. */
function fakeKube() {
  const runs = new Map<string, { seq: number }[]>();
  const patches: { run: string; status: Record<string, unknown> }[] = [];
  const writes = { applies: 0, runPatches: 0, events: 0 };
  const kube = {
    apply: async () => {
      writes.applies += 1;
    },
    patchStatus: async (
      _kind: string,
      ref: { namespace: string; name: string },
      status: { transitions: { seq: number }[] },
    ) => {
      writes.runPatches += 1;
      patches.push({ run: `${ref.namespace}/${ref.name}`, status });
      if (status.transitions) runs.set(`${ref.namespace}/${ref.name}`, status.transitions);
    },
    createEvent: async () => {
      writes.events += 1;
    },
    deleteObject: async () => undefined,
  } as unknown as KubeAccess;
  return { kube, runs, writes, patches };
}

const canary = (namespace: string): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace, uid: namespace },
  }) as unknown as Canary;
/** A weight step (Progressing → Progressing); `changes` makes it start a run or change phase. */
const entry = (seq: number, message: string, changes: Partial<RecordEntry> = {}): RecordEntry => ({
  seq,
  time: '2026-11-22T10:00:00.000Z',
  from: 'Progressing',
  to: 'Progressing',
  event: 'checks',
  reason: 'StepAdvanced',
  message,
  weight: seq * 10,
  failedChecks: 0,
  revision: 'r1',
  run: 'podinfo-1',
  ...changes,
});
const start = { event: 'new-revision', reason: 'NewRevision', from: 'Succeeded' } as const;
const promoting = { reason: 'Promoting', to: 'Promoting' } as const;
const images = { from: ['a:1'], to: ['a:2'] };
const recorderOn = (kube: KubeAccess, options: Partial<RecorderOptions> = {}) =>
  new Recorder({
    kube,
    logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })),
    telemetry: new Telemetry(new Registry()),
    runsOf: () => [],
    ...options,
  });
const messages = (runs: Map<string, { seq: number }[]>, key: string) =>
  runs.get(key)!.map((t) => (t as unknown as { message: string }).message);

describe('Recorder', () => {
  it('keeps the runs of same-named Canaries in different namespaces apart', async () => {
    const { kube, runs } = fakeKube();
    const recorder = recorderOn(kube);
    await recorder.flush(canary('team-a'), [entry(1, 'a1', start)], images);
    await recorder.flush(canary('team-b'), [entry(1, 'b1', start)], images);
    await recorder.flush(canary('team-a'), [entry(2, 'a2', promoting)], images);
    await recorder.flush(canary('team-b'), [entry(2, 'b2', promoting)], images);
    expect(messages(runs, 'team-a/podinfo-1')).toEqual(['a1', 'a2']);
    expect(messages(runs, 'team-b/podinfo-1')).toEqual(['b1', 'b2']);
  });

  it('lets a weight step wait in the outbox: an Event now, the run with the next phase change', async () => {
    const { kube, runs, writes } = fakeKube();
    const recorder = recorderOn(kube);
    const c = canary('shop');
    await recorder.flush(c, [entry(1, 'started', start)], images);
    expect(writes).toEqual({ applies: 1, runPatches: 1, events: 1 });

    // A step, flushed twice (the next reconcile sees the same outbox): one Event, no run write.
    await recorder.flush(c, [entry(2, 'step 20')], images);
    await recorder.flush(c, [entry(2, 'step 20')], images);
    expect(writes).toEqual({ applies: 1, runPatches: 1, events: 2 });
    expect(recorder.flushedSeq(c)).toBe(1);

    // The phase change writes both pending entries in one patch.
    await recorder.flush(c, [entry(2, 'step 20'), entry(3, 'promoting', promoting)], images);
    expect(writes).toEqual({ applies: 1, runPatches: 2, events: 3 });
    expect(messages(runs, 'shop/podinfo-1')).toEqual(['started', 'step 20', 'promoting']);
    expect(recorder.flushedSeq(c)).toBe(3);
  });

  it(`writes the run anyway once ${runBatch} entries are waiting`, async () => {
    const { kube, runs } = fakeKube();
    const recorder = recorderOn(kube);
    const c = canary('shop');
    await recorder.flush(c, [entry(1, 'started', start)], images);
    const outbox: RecordEntry[] = [];
    for (let seq = 2; seq < 2 + runBatch; seq++) {
      outbox.push(entry(seq, `step ${seq}`));
      await recorder.flush(c, outbox, images);
    }
    expect(runs.get('shop/podinfo-1')).toHaveLength(1 + runBatch);
  });

  it('trims an ended run in the cache to its spec, result and last seq, and reads it back before appending to it', async () => {
    const { kube, runs } = fakeKube();
    const full = [1, 2, 3].map((seq) => entry(seq, `m${seq}`, { to: 'Succeeded' }));
    const stored = {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'CanaryRun',
      metadata: {
        name: 'podinfo-1',
        namespace: 'shop',
        uid: 'u1',
        resourceVersion: '7',
        labels: { 'weir.dev/canary': 'podinfo' },
        ownerReferences: [{ kind: 'Canary', name: 'podinfo' }],
        annotations: { note: 'x' },
      },
      spec: { canary: 'podinfo', revision: 'r1', startTime: '2026-11-22T10:00:00.000Z' },
      status: { transitions: full, result: 'Promoted', endTime: '2026-11-22T10:05:00.000Z' },
    } as unknown as CanaryRun;
    const cached = structuredClone(stored);
    trimEndedRun(cached);
    expect(cached).toEqual({
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'CanaryRun',
      metadata: {
        name: 'podinfo-1',
        namespace: 'shop',
        uid: 'u1',
        resourceVersion: '7',
        labels: { 'weir.dev/canary': 'podinfo' },
      },
      spec: stored.spec,
      status: {
        result: 'Promoted',
        endTime: '2026-11-22T10:05:00.000Z',
        transitions: [{ seq: 3 }],
      },
    });
    const reads: string[] = [];
    const recorder = recorderOn(kube, {
      runsOf: () => [cached],
      readRun: async (namespace, name) => {
        reads.push(`${namespace}/${name}`);
        return stored;
      },
    });
    const c = canary('shop');
    // The cache's last seq is enough to know what is recorded: nothing is read or written.
    expect(recorder.flushedSeq(c)).toBe(3);
    await recorder.flush(c, full, images);
    expect(reads).toEqual([]);
    // An entry that still belongs to the ended run: its history is read back, not lost.
    await recorder.flush(c, [...full, entry(4, 'late', promoting)], images);
    expect(reads).toEqual(['shop/podinfo-1']);
    expect(messages(runs, 'shop/podinfo-1')).toEqual(['m1', 'm2', 'm3', 'late']);
  });

  it('leaves a run that has not ended as it is', () => {
    const open = { status: { transitions: [{ seq: 1 }, { seq: 2 }] } } as unknown as CanaryRun;
    trimEndedRun(open);
    expect(open.status!.transitions).toHaveLength(2);
  });

  it('appends nothing to an ended run whose history, read back, already holds the entries', async () => {
    const { kube, writes } = fakeKube();
    const history = [1, 2, 3].map((seq) => entry(seq, `m${seq}`));
    const stored = {
      metadata: { name: 'podinfo-1', namespace: 'shop', labels: { 'weir.dev/canary': 'podinfo' } },
      spec: { canary: 'podinfo', revision: 'r1', startTime: '2026-11-22T10:00:00.000Z' },
      status: {
        transitions: [...history, entry(4, 'done', { to: 'Succeeded' })],
        result: 'Promoted',
      },
    } as unknown as CanaryRun;
    // This replica's cache is behind: it still shows the run ended at seq 3.
    const cached = structuredClone({
      ...stored,
      status: { transitions: history, result: 'Promoted' },
    }) as CanaryRun;
    trimEndedRun(cached);
    const recorder = recorderOn(kube, {
      runsOf: () => [cached],
      readRun: async () => stored,
    });
    await recorder.flush(canary('shop'), [entry(4, 'done', { to: 'Succeeded' })], images);
    expect(writes.runPatches).toBe(0);
  });

  it('does not mark Superseded a run that ended in the same flush that starts the next one', async () => {
    const { kube, patches } = fakeKube();
    const open = {
      metadata: { name: 'podinfo-1', namespace: 'shop', labels: { 'weir.dev/canary': 'podinfo' } },
      spec: { canary: 'podinfo', revision: 'r1', startTime: '2026-11-22T10:00:00.000Z' },
      status: { transitions: [entry(1, 'started', start)] },
    } as unknown as CanaryRun;
    const recorder = recorderOn(kube, {
      runsOf: () => [open],
    });
    // After a restart the outbox holds the end of podinfo-1 and the start of podinfo-2.
    await recorder.flush(
      canary('shop'),
      [
        entry(2, 'promoted', { to: 'Succeeded', from: 'Finalising' }),
        entry(3, 'next', { ...start, run: 'podinfo-3', time: '2026-11-22T11:00:00.000Z' }),
      ],
      images,
    );
    const first = patches.filter((p) => p.run === 'shop/podinfo-1').map((p) => p.status.result);
    expect(first).toEqual(['Promoted']);
  });
});
