import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Canary } from '../../../src/api/types.js';
import { stepHasTraffic, stepHooks } from '../../../src/machine/steps.js';
import { WebhookChecks } from '../../../src/webhooks/webhook-checks.js';
import { WebhookClient } from '../../../src/webhooks/webhook-client.js';
import { startReceiver, type Receiver } from '../../harness/receiver.js';

let receiver: Receiver;
beforeAll(async () => {
  receiver = await startReceiver();
  receiver.reply('/fail', { status: 500, body: 'smoke test failed' });
  receiver.reply('/closed', { status: 403, body: 'not yet' });
  receiver.reply('/keep', { status: 404 });
});
afterAll(() => receiver.stop());

const canary = (webhooks: { name: string; type: string; path: string }[]): Canary =>
  ({
    apiVersion: 'weir.dev/v1alpha1',
    kind: 'Canary',
    metadata: { name: 'podinfo', namespace: 'shop' },
    spec: {
      targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'podinfo' },
      service: { port: 80 },
      analysis: {
        webhooks: webhooks.map((w) => ({
          name: w.name,
          type: w.type,
          url: `${receiver.url}${w.path}`,
          timeout: '1s',
          metadata: { cmd: 'hey -z 1m' },
        })),
      },
    },
  }) as unknown as Canary;
const checks = new WebhookChecks(new WebhookClient({ backoffMs: 5 }));
const run = (c: Canary, hooks: string[], phase = 'Progressing') =>
  checks.run(c, {
    revision: 'abc123',
    phase: phase as 'Progressing',
    weight: 10,
    iterations: 1,
    hooks: hooks as never,
    measure: true,
    signal: new AbortController().signal,
  });

describe('WebhookChecks', () => {
  it("sends Flagger's payload", async () => {
    await run(canary([{ name: 'load', type: 'rollout', path: '/load' }]), ['rollout']);
    expect(receiver.on('/load').at(-1)!.body).toEqual({
      name: 'podinfo',
      namespace: 'shop',
      phase: 'Progressing',
      checksum: 'abc123',
      metadata: { cmd: 'hey -z 1m' },
    });
  });

  it('a failing rollout or pre-rollout webhook is a failed check naming it', async () => {
    const o = await run(
      canary([
        { name: 'smoke', type: 'pre-rollout', path: '/fail' },
        { name: 'load', type: 'rollout', path: '/load' },
      ]),
      ['pre-rollout', 'rollout'],
    );
    expect(o.passed).toBe(false);
    expect(o.failures).toEqual(['webhook smoke (pre-rollout): HTTP 500: smoke test failed']);
    expect(o.webhooks).toEqual([
      expect.objectContaining({
        name: 'smoke',
        passed: false,
        statusCode: 500,
        body: 'smoke test failed',
      }),
      expect.objectContaining({ name: 'load', passed: true, statusCode: 200 }),
    ]);
  });

  it('a closed confirm gate is not a failure; an open one opens', async () => {
    const c = canary([
      { name: 'traffic', type: 'confirm-traffic-increase', path: '/closed' },
      { name: 'promote', type: 'confirm-promotion', path: '/ok' },
    ]);
    const o = await run(c, ['confirm-traffic-increase', 'confirm-promotion']);
    expect(o).toMatchObject({
      passed: true,
      failures: [],
      gates: { trafficIncrease: false, promotion: true },
    });
  });

  it('only the step’s types are called', async () => {
    const before = receiver.on('/never').length;
    const o = await run(canary([{ name: 'gate', type: 'confirm-rollout', path: '/never' }]), [
      'rollout',
    ]);
    expect(o).toEqual({ passed: true, failures: [] });
    expect(receiver.on('/never').length).toBe(before);
  });

  it('a rollback webhook answering 2xx asks for the rollback; any other answer does not', async () => {
    const o = await run(
      canary([
        { name: 'keep', type: 'rollback', path: '/keep' },
        { name: 'abort', type: 'rollback', path: '/ok' },
      ]),
      ['rollback'],
    );
    expect(o).toMatchObject({ passed: true, rollbackRequested: 'abort' });
  });
});

describe('stepHooks', () => {
  const analysis = { maxWeight: 30, stepWeight: 10 };
  it.each([
    ['Waiting', 0, 0, ['confirm-rollout']],
    ['Progressing', 0, 0, ['pre-rollout', 'rollback', 'confirm-traffic-increase']],
    ['Progressing', 10, 1, ['rollout', 'rollback', 'confirm-traffic-increase']],
    ['Progressing', 30, 3, ['rollout', 'rollback', 'confirm-promotion']],
    ['WaitingPromotion', 30, 4, ['rollout', 'rollback', 'confirm-promotion']],
    ['Promoting', 30, 4, []],
  ])('%s at weight %i (iteration %i) calls %j', (phase, weight, iterations, hooks) => {
    expect(
      stepHooks(phase as never, analysis, {
        weight: weight as number,
        iterations: iterations as number,
      }),
    ).toEqual(hooks);
  });

  it('pre-rollout stops once a step has passed (a held traffic increase keeps the weight at 0)', () => {
    expect(
      stepHooks('Progressing', analysis, { weight: 0, iterations: 0, stepPassed: true }),
    ).toEqual(['rollback', 'confirm-traffic-increase']);
  });

  it('blue/green never asks confirm-traffic-increase', () => {
    expect(stepHooks('Progressing', { iterations: 3 }, { weight: 0, iterations: 1 })).toEqual([
      'rollout',
      'rollback',
    ]);
  });

  it('only steps with canary traffic are measured', () => {
    expect(stepHasTraffic('Waiting', 0, 0)).toBe(false);
    expect(stepHasTraffic('Progressing', 0, 0)).toBe(false);
    expect(stepHasTraffic('Progressing', 10, 1)).toBe(true);
    expect(stepHasTraffic('Progressing', 0, 1)).toBe(true);
    expect(stepHasTraffic('WaitingPromotion', 30, 3)).toBe(true);
  });
});
