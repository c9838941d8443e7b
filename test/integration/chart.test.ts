import * as k8s from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../../src/api/types.js';
import { createApp, type App } from '../../src/app.js';
import { parseConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { ManualClock } from '../../src/util/clock.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { helm, renderChart, serviceAccountKubeConfig } from '../harness/helm.js';
import { repoRoot } from '../harness/tools.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  currentRun,
  readCanary,
  setImage,
  stepUntil,
} from '../harness/weir.js';

const system = 'weir-system';
const team = 'team';

// Given the Helm chart rendered and applied to a real API server, when the
// controller runs with the chart's ServiceAccount (not admin), then it completes a
// release — its RBAC is sufficient — and what it does not need is denied.
describe('the Helm chart', () => {
  let cluster: Cluster;
  let app: App | undefined;
  let sa: k8s.KubeConfig;
  const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 1 });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await cluster?.stop();
  });

  it('passes helm lint, with values checked against values.schema.json', async () => {
    expect(await helm(['lint', path.join(repoRoot, 'charts/weir')])).toContain('0 chart(s) failed');
    await expect(renderChart(system, { logLevel: 'loud' })).rejects.toThrow(
      /logLevel.*must be one of/s,
    );
  });

  it('applies to the API server; the controller as the chart’s ServiceAccount completes a release', async () => {
    await cluster.kubectl(['create', 'namespace', system]);
    // replicaCount 0: the pods would be KWOK fakes; the controller runs here, in-process, as the ServiceAccount.
    const rendered = await renderChart(system, { replicaCount: 0, metricsServer: '' });
    await cluster.kubectl([
      'apply',
      '--server-side',
      '-f',
      path.join(repoRoot, 'charts/weir/crds'),
    ]);
    await cluster.kubectl(['wait', '--for=condition=Established', 'crd', '--all', '--timeout=60s']);
    await cluster.kubectl(['apply', '-f', '-'], rendered);
    sa = await serviceAccountKubeConfig(cluster, system, 'weir');

    const { objects, apps } = clientsFor(cluster);
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: team } });
    await createDeployment(apps, team, 'podinfo', 1);
    const config = parseConfig(
      [
        '--metrics-bind-address=127.0.0.1:0',
        '--health-probe-bind-address=127.0.0.1:0',
        '--leader-elect',
        `--leader-election-namespace=${system}`,
        '--leader-election-id=weir',
      ],
      {},
    )!;
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    app = createApp({
      config,
      kubeConfig: sa,
      logger: createLogger('info', quiet),
      clock,
      identity: 'test-replica',
    });
    await app.start();
    await stepUntil(app, clock, 'the leader role', async () =>
      app!.role === 'leader' ? true : undefined,
    );
    expect(app.ready).toBe(true);

    await createCanary(objects, team, 'podinfo', {
      service: { port: 80, gatewayRefs: [{ name: 'public' }] },
      analysis: { interval: '10s', maxWeight: 20, stepWeight: 10 },
    });
    const phase = async () =>
      ((await readCanary(objects, team, 'podinfo')).status ?? ({} as CanaryStatus)).phase;
    await stepUntil(app, clock, 'Initialized', async () =>
      (await phase()) === 'Initialized' ? true : undefined,
    );
    await setImage(apps, team, 'podinfo', 'example.test/podinfo:2');
    await stepUntil(app, clock, 'Succeeded', async () =>
      (await phase()) === 'Succeeded' ? true : undefined,
    );
    const run = await currentRun(objects, team, 'podinfo');
    expect(run.status?.result).toBe('Promoted');
    // The lease is held by this replica, in the release namespace.
    const lease = await k8s.KubernetesObjectApi.makeApiClient(sa).read({
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: 'weir', namespace: system },
    });
    expect((lease as k8s.V1Lease).spec?.holderIdentity).toBe('test-replica');
  });

  it('denies what Weir does not need', async () => {
    const apps = sa.makeApiClient(k8s.AppsV1Api);
    const core = sa.makeApiClient(k8s.CoreV1Api);
    const rbac = sa.makeApiClient(k8s.RbacAuthorizationV1Api);
    const code = (p: Promise<unknown>) =>
      p.then(
        () => 200,
        (e: { code?: number }) => e.code,
      );
    expect(await code(apps.deleteNamespacedDeployment({ name: 'podinfo', namespace: team }))).toBe(
      403,
    );
    expect(await code(core.listNamespacedPod({ namespace: team }))).toBe(403);
    expect(await code(core.deleteNamespacedService({ name: 'podinfo', namespace: team }))).toBe(
      403,
    );
    expect(await code(core.readNamespacedSecret({ name: 'anything', namespace: team }))).toBe(403);
    expect(await code(rbac.listClusterRole())).toBe(403);
    // And what it needs is allowed (a sanity check of the denials above).
    expect(await code(apps.listNamespacedDeployment({ namespace: team }))).toBe(200);
  });
});
