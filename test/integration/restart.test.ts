import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryRun } from '../../src/api/types.js';
import { startCluster, type Cluster } from '../harness/cluster.js';
import { ControllerProcess } from '../harness/controller-process.js';
import {
  clientsFor,
  createCanary,
  createDeployment,
  installWeirCrds,
  readCanary,
  setImage as setDeploymentImage,
} from '../harness/weir.js';
import { waitFor } from '../harness/wait.js';

const namespace = 'restart';
const scale = 20; // 10 s analysis intervals take 0.5 s of wall-clock time
const epoch = Date.now();

// Given the controller as a real process on a real control plane, when it is
// killed with SIGKILL at 20 points of several releases and started again each
// time, then every release ends as it would have, with one promotion each and a
// CanaryRun whose transitions are neither repeated nor missing.
describe('SIGKILL at any moment does not change a release', () => {
  let cluster: Cluster;
  let controller: ControllerProcess;
  let objects: k8s.KubernetesObjectApi;
  let apps: k8s.AppsV1Api;

  const canary = () => readCanary(objects, namespace, 'web');
  const setImage = (image: string) => setDeploymentImage(apps, namespace, 'web', image);
  const setMetrics = (metrics: unknown[] | null) =>
    objects.patch(
      {
        apiVersion: 'weir.dev/v1alpha1',
        kind: 'Canary',
        metadata: { name: 'web', namespace },
        spec: { analysis: { metrics } },
      } as never,
      undefined,
      undefined,
      undefined,
      undefined,
      k8s.PatchStrategy.MergePatch,
    );

  beforeAll(async () => {
    cluster = await startCluster({ nodes: 2 });
    await installWeirCrds(cluster);
    ({ objects, apps } = clientsFor(cluster));
    await objects.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace } });
    await createDeployment(apps, namespace, 'web', 2);
    await createCanary(objects, namespace, 'web', {
      provider: 'gatewayapi',
      analysis: { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10 },
    });
    controller = new ControllerProcess({
      kubeconfig: cluster.kubeconfigPath,
      time: { scale, epoch },
    });
    await controller.start();
  });

  afterAll(async () => {
    await controller?.stop();
    await cluster?.stop();
  });

  it('ends every release as an uninterrupted run would', async () => {
    await waitFor(
      async () => ((await canary()).status?.phase === 'Initialized' ? true : undefined),
      {
        timeoutMs: 60_000,
        what: 'Initialized',
      },
    );

    // Releases: promoted, promoted, rolled back (a metric without a Prometheus to ask), promoted, and
    // as many more as it takes to spend the 20 kills.
    const releases: { image: string; metrics: unknown[] | null; expect: 'Succeeded' | 'Failed' }[] =
      [
        { image: 'example.test/web:2', metrics: null, expect: 'Succeeded' },
        { image: 'example.test/web:3', metrics: null, expect: 'Succeeded' },
        {
          image: 'example.test/web:4',
          metrics: [{ name: 'error-rate', query: 'sum(up)', thresholdRange: { max: 1 } }],
          expect: 'Failed',
        },
        { image: 'example.test/web:5', metrics: null, expect: 'Succeeded' },
      ];
    const killedIn: string[] = [];
    let kills = 0;
    // More promoted releases until the 20 kills are spent.
    for (let i = 0; i < releases.length; i++) {
      const release = releases[i]!;
      if (i === releases.length - 1 && kills < 20) {
        releases.push({
          image: `example.test/web:${releases.length + 2}`,
          metrics: null,
          expect: 'Succeeded',
        });
      }
      const before = (await canary()).status?.lastAppliedSpec;
      await setMetrics(release.metrics);
      await setImage(release.image);
      let last = '';
      // Follow the release; kill the controller right after each status change it
      // writes (the window between a status write and its recording), and now and
      // then on a timer, until 20 kills are spent.
      await waitFor(
        async () => {
          const c = await canary();
          const s = c.status;
          const point = `${s?.phase}/${s?.canaryWeight}/${s?.failedChecks}`;
          if (point !== last && kills < 20 && s?.lastAppliedSpec !== s?.lastPromotedSpec) {
            last = point;
            if (kills % 3 !== 2) {
              killedIn.push(s?.phase ?? '?');
              kills += 1;
              await controller.kill();
              await controller.start();
            }
          } else if (kills < 20 && kills % 3 === 2) {
            await new Promise((r) => setTimeout(r, 300));
            killedIn.push(`${(await canary()).status?.phase}(timer)`);
            kills += 1;
            await controller.kill();
            await controller.start();
          }
          const done =
            s?.phase === release.expect && s.lastAppliedSpec !== before && c.status?.currentRun;
          return done && (release.expect === 'Failed' || s?.lastPromotedSpec === s?.lastAppliedSpec)
            ? true
            : undefined;
        },
        {
          timeoutMs: 150_000,
          intervalMs: 50,
          what: `release of ${release.image} to end ${release.expect}; controller log:\n${controller.log}`,
        },
      );
    }
    console.log(`killed ${kills} times, in: ${killedIn.join(', ')}`);
    expect(kills).toBe(20);
    expect(new Set(killedIn.map((p) => p.replace('(timer)', '')))).toEqual(
      expect.objectContaining({}),
    );
    expect(killedIn.some((p) => p.startsWith('Progressing'))).toBe(true);

    // The primary runs the last promoted image.
    const primary = await apps.readNamespacedDeployment({ name: 'web-primary', namespace });
    expect(primary.spec?.template.spec?.containers[0]?.image).toBe(releases.at(-1)!.image);

    // The Canary's status reports the end before its run records it (the run is
    // written right after, from the outbox): wait until every run has its result.
    const list = await waitFor(
      async () => {
        const items = (await objects.list<CanaryRun>('weir.dev/v1alpha1', 'CanaryRun', namespace))
          .items;
        const ended = releases.every((r) =>
          items.some((run) => run.spec.images?.to?.[0] === r.image && run.status?.result),
        );
        return ended ? items : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 100, what: `every run to record its result` },
    );
    const runs = list.sort((a, b) => a.spec.startTime.localeCompare(b.spec.startTime));
    const byImage = (image: string) => runs.filter((r) => r.spec.images?.to?.[0] === image);
    // One run per release: a restart never starts a second one.
    for (const r of releases) expect(byImage(r.image), r.image).toHaveLength(1);

    const promoted = [
      'Progressing:NewRevision:0',
      'Progressing:StepAdvanced:10',
      'Progressing:StepAdvanced:20',
      'Progressing:StepAdvanced:30',
      'Progressing:StepAdvanced:40',
      'Progressing:StepAdvanced:50',
      'Promoting:Promoting:50',
      'Finalising:Finalising:50',
      'Succeeded:Succeeded:0',
    ];
    // The first step moves the first traffic unmeasured; the metric fails from the second on.
    const rolledBack = [
      'Progressing:NewRevision:0',
      'Progressing:StepAdvanced:10',
      'Progressing:CheckFailed:10',
      'Failed:RolledBack:0',
    ];
    for (const r of releases) {
      const run = byImage(r.image)[0]!;
      const timeline = (run.status?.transitions ?? []).map(
        (t) => `${t.to}:${t.reason}:${t.weight}`,
      );
      expect(timeline, `transitions of the run for ${r.image}`).toEqual(
        r.expect === 'Succeeded' ? promoted : rolledBack,
      );
      expect(run.status?.result).toBe(r.expect === 'Succeeded' ? 'Promoted' : 'RolledBack');
      // Consecutive positions in the Canary's history: nothing missing in between.
      const positions = (run.status?.transitions ?? []).map((t) => t.seq!);
      expect(positions).toEqual(positions.map((_, i) => positions[0]! + i));
    }
    // No transition recorded twice anywhere.
    const seqs = runs.flatMap((r) =>
      (r.status?.transitions ?? []).map((t) => (t as { seq?: number }).seq),
    );
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});
