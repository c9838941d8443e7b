import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { Recorder } from '../../../src/controller/recorder.js';
import type { RecordEntry } from '../../../src/controller/records.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { createLogger } from '../../../src/logger.js';

/** Records the CanaryRun status patches, per namespace/name. */
function fakeKube() {
  const runs = new Map<string, { seq: number }[]>();
  const kube = {
    apply: async () => undefined,
    patchStatus: async (
      _kind: string,
      ref: { namespace: string; name: string },
      status: { transitions: { seq: number }[] },
    ) => {
      runs.set(`${ref.namespace}/${ref.name}`, status.transitions);
    },
    createEvent: async () => undefined,
    deleteObject: async () => undefined,
  } as unknown as KubeAccess;
  return { kube, runs };
}

const canary = (namespace: string): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace, uid: namespace },
  }) as unknown as Canary;
const entry = (seq: number, message: string): RecordEntry => ({
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
});

describe('Recorder', () => {
  it('keeps the runs of same-named Canaries in different namespaces apart', async () => {
    const { kube, runs } = fakeKube();
    const recorder = new Recorder({
      kube,
      logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })),
      registry: new Registry(),
      runsOf: () => [],
    });
    const images = { from: ['a:1'], to: ['a:2'] };
    await recorder.flush(canary('team-a'), [entry(1, 'a1')], images);
    await recorder.flush(canary('team-b'), [entry(1, 'b1')], images);
    await recorder.flush(canary('team-a'), [entry(2, 'a2')], images);
    await recorder.flush(canary('team-b'), [entry(2, 'b2')], images);
    const messages = (key: string) =>
      runs.get(key)!.map((t) => (t as unknown as { message: string }).message);
    expect(messages('team-a/podinfo-1')).toEqual(['a1', 'a2']);
    expect(messages('team-b/podinfo-1')).toEqual(['b1', 'b2']);
  });
});
