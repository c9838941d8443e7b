import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { fillOutbox, outboxMax } from '../../../src/controller/outbox.js';
import { Recorder, runBudgetBytes } from '../../../src/controller/recorder.js';
import { Telemetry } from '../../../src/controller/telemetry.js';
import { recordLimits, withinLimits, type RecordEntry } from '../../../src/contracts/records.js';
import type { KubeAccess } from '../../../src/kube/access.js';
import { createLogger } from '../../../src/logger.js';
import { validateDocument } from '../../../src/lint/validate.js';

const huge = 'x'.repeat(5 * 1024 * 1024);
const entry = (seq: number, changes: Partial<RecordEntry> = {}): RecordEntry => ({
  seq,
  time: '2026-12-03T10:00:00.000Z',
  from: 'Progressing',
  to: 'Progressing',
  event: 'checks',
  reason: 'CheckFailed',
  message: `step ${seq}`,
  weight: 20,
  failedChecks: 1,
  revision: 'r1',
  run: 'web-1',
  ...changes,
});
const hostile = (seq: number) =>
  entry(seq, {
    message: huge,
    metrics: Array.from({ length: 40 }, (_, i) => ({
      name: `m${i}`.padEnd(100, 'm'),
      passed: false,
      message: huge,
    })),
    webhooks: Array.from({ length: 40 }, (_, i) => ({
      name: `w${i}`,
      type: 'rollout',
      passed: false,
      body: huge,
      error: huge,
    })),
  });
const canary = {
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name: 'web', namespace: 'shop', uid: 'u1' },
} as unknown as Canary;

describe('what is recorded stays within the CanaryRun schema and a size budget', () => {
  it('cuts an entry to the schema limits however much a provider or webhook answered', () => {
    const e = withinLimits(hostile(1));
    expect(e.message.length).toBeLessThanOrEqual(recordLimits.message);
    expect(e.metrics).toHaveLength(recordLimits.metrics);
    expect(e.webhooks).toHaveLength(recordLimits.webhooks);
    expect(Math.max(...e.metrics!.map((m) => m.message!.length))).toBeLessThanOrEqual(1024);
    expect(Math.max(...e.webhooks!.map((w) => w.body!.length))).toBeLessThanOrEqual(1024);
    expect(Math.max(...e.webhooks!.map((w) => w.error!.length))).toBeLessThanOrEqual(512);
    // And the API server's schema accepts a run holding it.
    const run = {
      apiVersion: 'weir.dev/v1alpha1',
      kind: 'CanaryRun',
      metadata: { name: 'web-1', namespace: 'shop' },
      spec: { canary: 'web', revision: 'r1', startTime: e.time },
      status: { transitions: [e] },
    };
    expect(validateDocument(run).filter((v) => v.severity === 'error')).toEqual([]);
  });

  it('keeps the outbox to its cap while runs cannot be written, oldest details first', () => {
    let stored:
      | {
          seq?: number;
          outbox?: RecordEntry[];
          version: number;
          phase: 'Progressing';
          context: never;
        }
      | undefined;
    for (let i = 0; i < 200; i++) {
      const out = fillOutbox({
        stored,
        recorded: [
          {
            effect: { type: 'record', event: 'checks', reason: 'CheckFailed', message: huge },
            from: 'Progressing',
            to: 'Progressing',
          },
        ],
        flushed: 0, // nothing ever reaches a run
        canary: 'web',
        revision: 'r1',
        context: { weight: 20, iterations: 1, failedChecks: 1, revision: 'r1' },
        nowIso: '2026-12-03T10:00:00.000Z',
      });
      stored = {
        ...(stored ?? { version: 1, phase: 'Progressing', context: undefined as never }),
        seq: out.seq,
        outbox: out.entries,
      };
    }
    expect(stored!.outbox).toHaveLength(outboxMax);
    expect(stored!.outbox!.at(-1)!.seq).toBe(200);
    expect(JSON.stringify(stored!.outbox).length).toBeLessThan(200 * 1024);
  });

  it('records a run that refuses its entries (422) without their measurements, and carries on', async () => {
    const patches: { transitions: RecordEntry[] }[] = [];
    const kube = {
      apply: async () => undefined,
      createEvent: async () => undefined,
      deleteObject: async () => undefined,
      patchStatus: async (_k: string, _r: unknown, status: { transitions: RecordEntry[] }) => {
        if (status.transitions?.some((t) => t.metrics))
          throw Object.assign(new Error('Unprocessable'), { code: 422 });
        patches.push(status);
      },
    } as unknown as KubeAccess;
    const recorder = new Recorder({
      kube,
      logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })),
      telemetry: new Telemetry(new Registry()),
      runsOf: () => [],
    });
    const first = entry(1, {
      event: 'new-revision',
      reason: 'NewRevision',
      metrics: [{ name: 'm', passed: false }],
    });
    await recorder.flush(canary, [first], { from: [], to: [] });
    expect(patches.at(-1)!.transitions.map((t) => t.seq)).toEqual([1]);
    expect(patches.at(-1)!.transitions[0]!.metrics).toBeUndefined();
    expect(recorder.flushedSeq(canary)).toBe(1);
  });

  it('keeps a run under its byte budget by dropping the oldest transitions', async () => {
    let last: RecordEntry[] = [];
    const kube = {
      apply: async () => undefined,
      createEvent: async () => undefined,
      deleteObject: async () => undefined,
      patchStatus: async (_k: string, _r: unknown, status: { transitions: RecordEntry[] }) => {
        last = status.transitions;
      },
    } as unknown as KubeAccess;
    const recorder = new Recorder({
      kube,
      logger: createLogger('info', new Writable({ write: (_c, _e, done) => done() })),
      telemetry: new Telemetry(new Registry()),
      runsOf: () => [],
    });
    for (let seq = 1; seq <= 300; seq++)
      await recorder.flush(canary, [withinLimits(hostile(seq))], { from: [], to: [] });
    expect(JSON.stringify(last).length).toBeLessThanOrEqual(runBudgetBytes);
    expect(last.at(-1)!.seq).toBe(300);
    // 300 flushes measure the run each time: about 2 s on a busy 2-core machine, more under a
    // parallel suite, so a bound that is not about speed (benchmarks measure that).
  }, 30_000);
});
