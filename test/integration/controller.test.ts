import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { controllerKubeConfig } from '../../src/kube/kube-config.js';
import { createLogger } from '../../src/logger.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { waitFor } from '../harness/wait.js';
import { installWeirCrds } from '../harness/weir.js';

// Given a real control plane, when the controller app starts against it,
// then it connects, syncs its caches, becomes ready and serves its metrics.
async function expectStartToFailWithoutCrds(kubeConfig: k8s.KubeConfig): Promise<void> {
  const config = parseConfig(
    ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'],
    {},
  )!;
  const quiet = new Writable({ write: (_c, _e, done) => done() });
  const app = createApp({ config, kubeConfig, logger: createLogger('info', quiet) });
  await expect(app.start()).rejects.toThrow(
    /Weir's CRDs are not installed in this cluster \(weir.dev\/v1alpha1 not found\)/,
  );
  expect(app.ready).toBe(false);
  await app.stop();
}

describe('controller entry point against the local cluster', () => {
  let cluster: Cluster;
  let app: App;
  const logLines: Record<string, unknown>[] = [];

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1, routerCrds: false });
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    await expectStartToFailWithoutCrds(kubeConfig);
    await installWeirCrds(cluster);
    const config = parseConfig(
      ['--metrics-bind-address=127.0.0.1:0', '--health-probe-bind-address=127.0.0.1:0'],
      {},
    )!;
    const sink = new Writable({
      write(chunk: Buffer, _e, done) {
        logLines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        done();
      },
    });
    app = createApp({ config, kubeConfig, logger: createLogger('info', sink), version: 'test' });
    await app.start();
  });

  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
  });

  it("asks for Secrets' metadata only, in lists and in watches", async () => {
    const kubeConfig = new k8s.KubeConfig();
    kubeConfig.loadFromFile(cluster.kubeconfigPath);
    const core = kubeConfig.makeApiClient(k8s.CoreV1Api);
    const body = (name: string) => ({
      metadata: { name },
      data: { token: Buffer.from('hunter2').toString('base64') },
    });
    await core.createNamespacedSecret({ namespace: 'default', body: body('listed') });
    const metadataOnly = controllerKubeConfig(kubeConfig, { metadataOnly: true });
    const listed = await metadataOnly
      .makeApiClient(k8s.CoreV1Api)
      .listNamespacedSecret({ namespace: 'default' });
    expect(listed.items.map((s) => s.metadata?.name)).toContain('listed');
    expect(listed.items.filter((s) => s.data !== undefined)).toEqual([]);

    const seen: Record<string, unknown>[] = [];
    const watching = await new k8s.Watch(metadataOnly).watch(
      '/api/v1/namespaces/default/secrets',
      { resourceVersion: listed.metadata?.resourceVersion },
      (_type, obj: Record<string, unknown>) => seen.push(obj),
      (err: unknown) => {
        if (err) seen.push({ watchFailed: String(err) });
      },
    );
    try {
      await core.createNamespacedSecret({ namespace: 'default', body: body('watched') });
      await waitFor(async () => (seen.length > 0 ? true : undefined), {
        timeoutMs: 10_000,
        what: 'the watch event',
      });
      expect(seen[0]).toMatchObject({
        kind: 'PartialObjectMetadata',
        metadata: { name: 'watched' },
      });
      expect(seen[0]).not.toHaveProperty('data');
    } finally {
      watching.abort();
    }
  });

  it('is ready once its caches have synced, and says which API server it reached', async () => {
    const res = await fetch(`http://127.0.0.1:${app.probeAddress!.port}/readyz`);
    expect(res.status).toBe(200);
    expect(logLines.find((l) => l.msg === 'Connected to the Kubernetes API server')).toMatchObject({
      server: cluster.server,
      kubernetesVersion: expect.stringMatching(/^v1\.\d+\.\d+/),
    });
  });

  it('serves its own Prometheus metrics', async () => {
    const body = await (await fetch(`http://127.0.0.1:${app.metricsAddress!.port}/metrics`)).text();
    expect(body).toContain('weir_build_info{version="test"} 1');
    expect(body).toContain('weir_process_resident_memory_bytes');
  });

  it('sees Deployments created after start through its watch', async () => {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(cluster.kubeconfigPath);
    await kc.makeApiClient(k8s.AppsV1Api).createNamespacedDeployment({
      namespace: 'default',
      body: {
        metadata: { name: 'watched' },
        spec: {
          selector: { matchLabels: { app: 'watched' } },
          template: {
            metadata: { labels: { app: 'watched' } },
            spec: { containers: [{ name: 'c', image: 'x' }] },
          },
        },
      },
    });
    const cached = async () => {
      const body = await (
        await fetch(`http://127.0.0.1:${app.metricsAddress!.port}/metrics`)
      ).text();
      return Number(/weir_informer_cached_objects\{kind="Deployment"\} (\d+)/.exec(body)?.[1]);
    };
    await waitFor(async () => ((await cached()) === 1 ? true : undefined), {
      timeoutMs: 10_000,
      what: 'the Deployment informer to hold the new Deployment',
    });
  });

  it('answers 404 for unknown paths and 405 for writes', async () => {
    expect((await fetch(`http://127.0.0.1:${app.probeAddress!.port}/nope`)).status).toBe(404);
    expect(
      (await fetch(`http://127.0.0.1:${app.metricsAddress!.port}/metrics`, { method: 'POST' }))
        .status,
    ).toBe(405);
  });
});
