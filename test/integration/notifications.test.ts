import type * as k8s from '@kubernetes/client-node';
import type { KnownBlock } from '@slack/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanarySpec } from '../../src/api/types.js';
import type { App } from '../../src/app.js';
import type { SlackMessage } from '../../src/notifications/slack-notifier.js';
import { canaryProbes, manualClock, startInProcess } from '../harness/in-process.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { startReceiver, type Received, type Receiver } from '../harness/receiver.js';
import { startTinyproxy, type Proxy } from '../harness/tinyproxy.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  currentRun,
  installWeirCrds,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const namespace = 'notify';

/** The Slack message a receiver got, with the text of each block flattened for assertions. */
const slack = (r: Received) => r.body as SlackMessage;
const header = (r: Received) => {
  const h = slack(r).attachments[0]!.blocks[0] as Extract<KnownBlock, { type: 'header' }>;
  return h.text.text;
};

// Given the controller on a real control plane and a real HTTP receiver speaking
// Slack's incoming-webhook format, when releases are promoted and rolled back,
// then the team gets messages it can act on, once each, and a down receiver costs
// the release nothing.
describe('notifications', () => {
  let cluster: Cluster;
  let app: App;
  let receiver: Receiver;
  let proxy: Proxy;
  let guardedProxy: Proxy;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;
  let kubeConfig: k8s.KubeConfig;
  const clock = manualClock();
  const until = <T>(what: string, probe: () => Promise<T | undefined>) =>
    stepUntil(app, clock, what, probe);
  const { status, phaseIs } = canaryProbes(() => objects, namespace);
  const messagesFor = (name: string) =>
    receiver.on('/slack').filter((r) => header(r).includes(`: ${name} in ${namespace}`));
  const startApp = async () => {
    app = await startInProcess(kubeConfig, { clock, webhookBackoff: { backoffMs: 10 } });
  };
  const release = async (name: string, analysis: Partial<CanarySpec['analysis']>) => {
    await createDeployment(apps, namespace, name, 1);
    await createCanary(objects, namespace, name, {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', threshold: 2, maxWeight: 20, stepWeight: 10, ...analysis },
    });
    await until(`${name} Initialized`, phaseIs(name, 'Initialized'));
    await setImage(apps, namespace, name, `example.test/${name}:2`);
  };
  const team = (provider = 'slack', extra: Record<string, unknown> = {}) => [
    { name: 'team', severity: 'info' as const, providerRef: { name: provider }, ...extra },
  ];

  beforeAll(async () => {
    receiver = await startReceiver();
    receiver.reply('/smoke', { status: 500, body: 'smoke tests failed: 3 of 40' });
    [proxy, guardedProxy] = await Promise.all([
      startTinyproxy(),
      startTinyproxy({ basicAuth: { user: 'weir', password: 'pr0xy-pw' } }),
    ]);
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    ({ objects, apps, kubeConfig } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const [name, address, type = 'slack'] of [
      ['slack', `${receiver.url}/slack`],
      ['down', 'http://127.0.0.1:1/services/T000/B000/secret-token'],
      ['rocket', `${receiver.url}/rocket`, 'rocket'],
      ['gchat', `${receiver.url}/gchat`, 'gchat'],
      ['proxied', `${receiver.url}/proxied`],
      ['proxied-auth', `${receiver.url}/proxied-auth`],
    ]) {
      await objects.create({
        apiVersion: 'v1',
        kind: 'Secret',
        // Weir uses a Secret as credentials only with this label (ADR 0012).
        metadata: {
          name: `${name}-url`,
          namespace,
          labels: { 'weir.dev/credentials': 'true' },
        },
        // A proxy with credentials goes in the Secret; one without may be in the spec.
        stringData: {
          address: address!,
          ...(name === 'proxied-auth' ? { proxy: guardedProxy.urlWithCredentials! } : {}),
        },
      } as k8s.V1Secret);
      await objects.create({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'AlertProvider',
        metadata: { name: name!, namespace },
        spec: {
          type,
          channel: '#releases',
          secretRef: { name: `${name}-url` },
          ...(name === 'proxied' ? { proxy: proxy.url } : {}),
        },
      });
    }
    await startApp();
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
    await receiver?.stop();
    await Promise.allSettled([proxy?.stop(), guardedProxy?.stop()]);
  });

  it('a promoted release: started and promoted, in Block Kit with the facts', async () => {
    await release('good', { alerts: team() });
    await until('good Succeeded', phaseIs('good', 'Succeeded'));
    await app.deliveries.idle();
    const got = messagesFor('good');
    expect(got.map(header)).toEqual([
      ':rocket: Release started: good in notify',
      ':white_check_mark: Promoted: good in notify',
    ]);
    const promoted = slack(got[1]!);
    expect(promoted).toMatchObject({ text: 'Promoted: good in notify', channel: '#releases' });
    expect(promoted.attachments[0]!.color).toBe('#2eb886');
    const text = JSON.stringify(promoted.attachments[0]!.blocks);
    const revision = (await status('good')).lastPromotedSpec!;
    for (const fact of [
      `notify/good`,
      revision,
      '`example.test/good:1` → `example.test/good:2`',
      '*Phase*\\nSucceeded',
      '*Failed checks*\\n0 of 2',
    ])
      expect(text).toContain(fact);
    for (const block of promoted.attachments[0]!.blocks)
      expect(['header', 'section', 'context']).toContain(block.type);
  });

  it('Rocket.Chat and Google Chat receivers get the same release in their own formats', async () => {
    await release('chat', {
      alerts: [...team('rocket', { name: 'rocket' }), ...team('gchat', { name: 'gchat' })],
    });
    await until('chat Succeeded', phaseIs('chat', 'Succeeded'));
    await app.deliveries.idle();
    const rocket = receiver.on('/rocket').map((r) => r.body as { text: string; channel?: string });
    expect(rocket.map((m) => m.text.replaceAll('\u200b', ''))).toEqual([
      'Release started: chat in notify',
      'Promoted: chat in notify',
    ]);
    expect(rocket[1]).toMatchObject({ channel: '#releases' });
    const gchat = receiver
      .on('/gchat')
      .map(
        (r) => r.body as { text: string; cardsV2: { card: { header: { subtitle: string } } }[] },
      );
    expect(gchat.map((m) => m.text)).toEqual([
      'Release started: chat in notify',
      'Promoted: chat in notify',
    ]);
    expect(gchat[1]!.cardsV2[0]!.card.header.subtitle).toBe('notify/chat · Succeeded');
    expect(JSON.stringify(gchat[1])).toContain('example.test/chat:1 → example.test/chat:2');
  });

  it('an AlertProvider with a proxy sends through it: from the spec, or with credentials from the Secret', async () => {
    await release('via', {
      alerts: [...team('proxied', { name: 'plain' }), ...team('proxied-auth', { name: 'auth' })],
    });
    await until('via Succeeded', phaseIs('via', 'Succeeded'));
    await app.deliveries.idle();
    for (const path of ['/proxied', '/proxied-auth']) {
      const got = receiver.on(path);
      expect(got.map(header)).toEqual([
        ':rocket: Release started: via in notify',
        ':white_check_mark: Promoted: via in notify',
      ]);
      // tinyproxy forwards an http request with its Via header: the proof it went through it.
      for (const r of got) expect(r.headers.via).toMatch(/tinyproxy/);
    }
    expect(proxy.log()).toMatch(
      /Request \(file descriptor \d+\): POST http:\/\/127\.0\.0\.1:\d+\/proxied /,
    );
    expect(guardedProxy.log()).toMatch(/POST http:\/\/127\.0\.0\.1:\d+\/proxied-auth /);
  });

  it('a rolled-back release: a warning per failed check, then a red rollback saying why and what to do', async () => {
    await release('bad', {
      alerts: team(),
      webhooks: [{ name: 'smoke', type: 'rollout', url: `${receiver.url}/smoke` }],
    });
    await until('bad Failed', phaseIs('bad', 'Failed'));
    await app.deliveries.idle();
    const got = messagesFor('bad');
    expect(got.map(header)).toEqual([
      ':rocket: Release started: bad in notify',
      ':warning: Check failed (1/2): bad in notify',
      ':rotating_light: Rolled back: bad in notify',
    ]);
    const rollback = slack(got[2]!);
    expect(rollback.attachments[0]!.color).toBe('#d40e0d');
    const text = JSON.stringify(rollback.attachments[0]!.blocks);
    expect(text).toContain('webhook smoke (rollout): HTTP 500: smoke tests failed: 3 of 40');
    expect(text).toContain('*Failed checks*\\n2 of 2');
    expect(text).toContain(
      `Git still declares revision ${(await status('bad')).lastAppliedSpec} (example.test/bad:2)`,
    );
    expect(text).toContain('Revert the commit or push a fix');
  });

  it('with the receiver down for the whole release, the release completes and the failures are counted', async () => {
    await release('quiet', { alerts: team('down') });
    const steps = await until('quiet Succeeded', async () =>
      (await status('quiet')).phase === 'Succeeded'
        ? (await currentRun(objects, namespace, 'quiet')).status!.transitions!
        : undefined,
    );
    // The same transitions as the release with a working receiver: nothing waited on Slack.
    const good = (await currentRun(objects, namespace, 'good')).status!.transitions!;
    expect(steps.map((t) => t.reason)).toEqual(good.map((t) => t.reason));
    await app.deliveries.idle();
    const address = app.metricsAddress!;
    const metrics = await (await fetch(`http://${address.host}:${address.port}/metrics`)).text();
    expect(metrics).toMatch(
      /weir_notifications_total\{kind="alert",type="slack",outcome="failed"\} 2/,
    );
    expect(metrics).not.toContain('secret-token');
  });

  it('a controller restarted mid-release sends no message twice', async () => {
    await release('restarted', { maxWeight: 30, alerts: team('slack', { includeSteps: true }) });
    await until('weight 10', async () =>
      (await status('restarted')).canaryWeight === 10 ? true : undefined,
    );
    await app.deliveries.idle();
    await app.stop();
    await startApp();
    await until('restarted Succeeded', phaseIs('restarted', 'Succeeded'));
    await app.deliveries.idle();
    const got = messagesFor('restarted');
    expect(got.map(header)).toEqual([
      ':rocket: Release started: restarted in notify',
      ':arrow_up: Canary weight 10%: restarted in notify',
      ':arrow_up: Canary weight 20%: restarted in notify',
      ':arrow_up: Canary weight 30%: restarted in notify',
      ':white_check_mark: Promoted: restarted in notify',
    ]);
    const ids = got.map((r) => r.headers['x-weir-delivery']);
    expect(new Set(ids).size).toBe(ids.length);
    const claimed = (await currentRun(objects, namespace, 'restarted')).status!.transitions!.filter(
      (t) => t.deliveries?.includes('alert/team'),
    );
    expect(claimed).toHaveLength(got.length);
  });
});
