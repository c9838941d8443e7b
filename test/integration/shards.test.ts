import type * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import {
  clientsFor,
  createDeployment,
  installWeirCrds,
  readCanary,
  stepUntil,
} from '../harness/weir.js';

const namespace = 'sharded';

// Given two controllers, each started with --label-selector for its shard, when
// Canaries of both shards exist, then each controller handles only its own.
describe('shards by label selector', () => {
  let cluster: Cluster;
  const apps: App[] = [];
  let objects: k8s.KubernetesObjectApi;
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
    await installWeirCrds(cluster);
    const clients = clientsFor(cluster);
    objects = clients.objects;
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    for (const shard of ['a', 'b']) {
      const config = parseConfig(
        [
          '--metrics-bind-address=127.0.0.1:0',
          '--health-probe-bind-address=127.0.0.1:0',
          `--label-selector=weir.dev/shard=${shard}`,
        ],
        {},
      )!;
      const quiet = new Writable({ write: (_c, _e, done) => done() });
      const app = createApp({
        config,
        kubeConfig: clients.kubeConfig,
        logger: createLogger('info', quiet),
        clock,
      });
      await app.start();
      apps.push(app);
    }
    for (const name of ['one', 'two', 'three'])
      await createDeployment(clients.apps, namespace, name, 1);
  }, 120_000);
  afterAll(async () => {
    await Promise.all(apps.map((a) => a.stop()));
    await cluster?.stop();
  });

  it('each controller reconciles only the Canaries of its shard', async () => {
    const canary = (name: string, shard?: string) =>
      objects.create({
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name, namespace, ...(shard ? { labels: { 'weir.dev/shard': shard } } : {}) },
        spec: {
          targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
          service: { port: 80, gatewayRefs: [{ name: 'public' }] },
          analysis: { interval: '10s', maxWeight: 20, stepWeight: 10 },
        },
      } as never);
    await canary('one', 'a');
    await canary('two', 'b');
    await canary('three'); // in no shard: nobody's
    const phase = async (name: string) =>
      (await readCanary(objects, namespace, name)).status?.phase;
    for (const app of apps)
      await stepUntil(app, clock, 'both shards initialized', async () =>
        (await phase('one')) === 'Initialized' && (await phase('two')) === 'Initialized'
          ? true
          : undefined,
      );
    expect(await phase('three')).toBeUndefined();
    // Each controller's cache holds only its shard.
    const [a, b] = apps as [App, App];
    const metric = async (app: App) => {
      const text = await (
        await fetch(`http://${app.metricsAddress!.host}:${app.metricsAddress!.port}/metrics`)
      ).text();
      return Number(/^weir_informer_cached_objects\{kind="Canary"\} (\d+)/m.exec(text)?.[1]);
    };
    expect([await metric(a), await metric(b)]).toEqual([1, 1]);
  });
});
