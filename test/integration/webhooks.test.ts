import type * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanarySpec } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { startReceiver, type Receiver } from '../harness/receiver.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  currentRun,
  installWeirCrds,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const namespace = 'hooks';

// Given the controller on a real control plane and a real HTTP receiver standing in
// for load testers, approval services and audit logs, when a Deployment changes,
// then each of Flagger's webhook types fires at its moment with Flagger's payload,
// and the gates hold the release until their webhook answers 2xx.
describe('webhooks', () => {
  let cluster: Cluster;
  let app: App;
  let receiver: Receiver;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  const clock = manualClock();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe);
  const { status, phaseIs } = canaryProbes(() => objects, namespace);
  type Hook = NonNullable<CanarySpec['analysis']['webhooks']>[number];
  const hook = (
    name: string,
    type: NonNullable<Hook['type']>,
    path: string,
    extra: Partial<Hook> = {},
  ): Hook => ({
    name,
    type,
    url: `${receiver.url}${path}`,
    ...extra,
  });
  const canaryWith = (name: string, analysis: Partial<CanarySpec['analysis']>) =>
    createCanary(objects, namespace, name, {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', threshold: 2, maxWeight: 20, stepWeight: 10, ...analysis },
    });

  beforeAll(async () => {
    receiver = await startReceiver();
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const name of ['gated', 'aborted', 'hangs', 'fast'])
      await createDeployment(apps, namespace, name, 1);
    app = await startInProcess(clientsFor(cluster).kubeConfig, {
      clock,
      webhookBackoff: { backoffMs: 10 },
    });
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    await receiver?.stop();
  });

  it('runs every webhook type at its moment, and each gate holds until it answers 2xx', async () => {
    receiver.reply('/confirm-rollout', { status: 403, body: 'change freeze' });
    receiver.reply('/traffic', { status: 403, body: 'hold' });
    receiver.reply('/promotion', { status: 403, body: 'waiting for QA' });
    receiver.reply('/rollback', { status: 404 });
    await canaryWith('gated', {
      webhooks: [
        hook('approve-start', 'confirm-rollout', '/confirm-rollout'),
        hook('smoke', 'pre-rollout', '/pre'),
        hook('load', 'rollout', '/rollout', {
          metadata: { cmd: 'hey -z 1m http://podinfo-canary' },
        }),
        hook('more-traffic', 'confirm-traffic-increase', '/traffic'),
        hook('approve-promotion', 'confirm-promotion', '/promotion'),
        hook('cleanup', 'post-rollout', '/post'),
        hook('audit', 'event', '/event'),
        hook('stop', 'rollback', '/rollback'),
      ],
    });
    await until('gated Initialized', phaseIs('gated', 'Initialized'));
    expect(receiver.received).toHaveLength(0);

    // confirm-rollout: asked at once and every interval; the release waits while it says no.
    await setImage(apps, namespace, 'gated', 'example.test/gated:2');
    await until('confirm-rollout asked twice', async () =>
      receiver.on('/confirm-rollout').length >= 2 ? true : undefined,
    );
    const waiting = await status('gated');
    expect(waiting.phase).toBe('Waiting');
    expect(receiver.on('/confirm-rollout')[0]!.body).toEqual({
      name: 'gated',
      namespace,
      phase: 'Waiting',
      checksum: waiting.lastAppliedSpec,
      metadata: {},
    });
    expect(receiver.on('/pre')).toHaveLength(0);

    // Confirmed: the analysis starts; pre-rollout runs before any traffic; the traffic gate holds the weight.
    receiver.reply('/confirm-rollout', { status: 200, body: 'go' });
    await until('traffic increase asked twice', async () =>
      receiver.on('/traffic').length >= 2 ? true : undefined,
    );
    expect((await status('gated')).canaryWeight).toBe(0);
    expect(receiver.on('/pre')).toHaveLength(1);
    expect(receiver.on('/pre')[0]!.body).toMatchObject({ phase: 'Progressing' });
    // No traffic has moved yet: the load test (rollout) waits; rollback is asked at every step.
    expect(receiver.on('/rollout')).toHaveLength(0);
    expect(receiver.on('/rollback').length).toBeGreaterThanOrEqual(2);

    // The traffic gate opens: 10, 20, then the promotion gate holds in WaitingPromotion, analysis running.
    receiver.reply('/traffic', { status: 200 });
    await until('WaitingPromotion', phaseIs('gated', 'WaitingPromotion'));
    expect((await status('gated')).canaryWeight).toBe(20);
    expect(receiver.on('/rollout')[0]!.body).toMatchObject({
      phase: 'Progressing',
      metadata: { cmd: 'hey -z 1m http://podinfo-canary' },
    });
    const rolloutCalls = receiver.on('/rollout').length;
    await until('analysis to keep running while waiting', async () =>
      receiver.on('/rollout').length >= rolloutCalls + 2 ? true : undefined,
    );
    expect((await status('gated')).phase).toBe('WaitingPromotion');

    receiver.reply('/promotion', { status: 200, body: 'QA signed off' });
    await until('Succeeded', phaseIs('gated', 'Succeeded'));
    await app.deliveries.idle();

    // post-rollout once, with the final phase; pre-rollout never again.
    expect(receiver.on('/post').map((r) => r.body)).toEqual([
      {
        name: 'gated',
        namespace,
        phase: 'Succeeded',
        checksum: (await status('gated')).lastPromotedSpec,
        metadata: {},
      },
    ]);
    expect(receiver.on('/pre')).toHaveLength(1);

    // event: one call per recorded transition, in order, with Flagger's event metadata.
    const run = await currentRun(objects, namespace, 'gated');
    const transitions = run.status!.transitions!;
    expect(
      receiver
        .on('/event')
        .map((r) => (r.body as { metadata: { eventMessage: string } }).metadata.eventMessage),
    ).toEqual(transitions.map((t) => t.message));
    expect(receiver.on('/event')[0]!.body).toMatchObject({
      phase: transitions[0]!.to,
      metadata: { eventType: 'Normal', timestamp: String(Date.parse(transitions[0]!.time)) },
    });
    expect(transitions.every((t) => t.deliveries?.includes('webhook/event/audit'))).toBe(true);

    // Every step keeps the answers it was decided on.
    const step = transitions.find((t) => t.reason === 'StepAdvanced' && t.weight === 20)!;
    expect(step.webhooks).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          name: 'load',
          type: 'rollout',
          statusCode: 200,
          passed: true,
          body: 'ok',
        }),
        expect.objectContaining({
          name: 'more-traffic',
          type: 'confirm-traffic-increase',
          passed: true,
        }),
      ]),
    );
  });

  it('a rollback webhook answering 2xx rolls the release back', async () => {
    receiver.reply('/stop-now', { status: 404 });
    await canaryWith('aborted', {
      maxWeight: 50,
      webhooks: [hook('stop-now', 'rollback', '/stop-now')],
    });
    await until('aborted Initialized', phaseIs('aborted', 'Initialized'));
    await setImage(apps, namespace, 'aborted', 'example.test/aborted:2');
    await until('weight 20', async () =>
      (await status('aborted')).canaryWeight === 20 ? true : undefined,
    );
    receiver.reply('/stop-now', { status: 200, body: 'incident open' });
    await until('Failed', phaseIs('aborted', 'Failed'));
    const s = await status('aborted');
    expect(s.canaryWeight).toBe(0);
    const last = (await currentRun(objects, namespace, 'aborted')).status!.transitions!.at(-1)!;
    expect(last).toMatchObject({
      reason: 'RolledBack',
      message: 'Rollback requested by webhook stop-now; rolled back',
    });
    expect(last.webhooks).toEqual([
      expect.objectContaining({ name: 'stop-now', passed: true, body: 'incident open' }),
    ]);
  });

  it('a hanging webhook times out without delaying another canary', async () => {
    receiver.reply('/hang', 'hang');
    await canaryWith('hangs', {
      webhooks: [hook('slow-load', 'rollout', '/hang', { timeout: '5s' })],
    });
    await canaryWith('fast', {});
    await until('both Initialized', async () =>
      (await status('hangs')).phase === 'Initialized' &&
      (await status('fast')).phase === 'Initialized'
        ? true
        : undefined,
    );
    await setImage(apps, namespace, 'hangs', 'example.test/hangs:2');
    await setImage(apps, namespace, 'fast', 'example.test/fast:2');
    const started = Date.now();
    await until('fast Succeeded', phaseIs('fast', 'Succeeded'));
    // The other canary's release went through all its steps while this one's webhook (first called
    // in the second step, once the canary has traffic) was still hanging.
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(receiver.on('/hang')).toHaveLength(1);
    expect(await status('hangs')).toMatchObject({
      phase: 'Progressing',
      canaryWeight: 10,
      failedChecks: 0,
    });
    // Then the hanging call times out: a failed check that says so.
    await until('the timeout to count as a failed check', async () =>
      (await status('hangs')).failedChecks === 1 ? true : undefined,
    );
    const entry = (await currentRun(objects, namespace, 'hangs')).status!.transitions!.at(-1)!;
    expect(entry).toMatchObject({ reason: 'CheckFailed' });
    expect(entry.message).toContain('webhook slow-load (rollout): no answer within 5s');
  });
});
