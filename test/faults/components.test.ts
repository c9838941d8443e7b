import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanaryStatus } from '../../src/api/types.js';
import { startFaultTestbed, type FaultTestbed } from '../harness/fault-testbed.js';
import { waitFor } from '../harness/wait.js';
import { readObject } from '../harness/controller.js';

const intervalMs = 10_000;
const at = (weight: number) => (s: CanaryStatus | undefined) =>
  s?.phase === 'Progressing' && s.canaryWeight === weight;

// Given a real control plane and Weir in-process on the wall clock, when etcd
// freezes, or KWOK (the kubelets) stops so that pods go NotReady, in the middle of
// a release, then the release ends as an uninterrupted one would, or, while the
// canary is not ready, it waits and rolls back at the progress deadline: it never
// promotes a canary that is not ready.
describe('etcd and the kubelets fail mid-release', () => {
  let bed: FaultTestbed;

  beforeAll(async () => {
    bed = await startFaultTestbed({
      namespace: 'component-faults',
      intervalMs,
      cluster: {
        // Nodes whose kubelet is gone are NotReady after 20 s, not the default 50 s.
        extraArgs: {
          'kube-controller-manager': [
            '--node-monitor-grace-period=20s',
            '--node-monitor-period=2s',
          ],
          kwok: ['--node-lease-duration-seconds=10'],
        },
      },
    });
    await bed.bootstrap('web');
  });
  afterAll(async () => {
    await bed?.stop();
  });

  it('etcd frozen for 30 s at a weight step', async () => {
    const etcd = bed.cluster.component('etcd');
    const outcome = await bed.releaseUnderFault('web', at(20), async () => {
      await etcd.pause();
      await new Promise((r) => setTimeout(r, 30_000));
      await etcd.resume();
    });
    bed.expectUninterruptedPromotion(outcome);
  });

  it('kubelets gone for 40 s at a weight step: the release waits while the canary is not ready, then goes on', async () => {
    const kwok = bed.cluster.component('kwok');
    let unready = false;
    const outcome = await bed.releaseUnderFault('web', at(20), async () => {
      await kwok.restart(40_000);
      // The pods went NotReady while KWOK was down (and are Ready again now).
      unready = true;
    });
    expect(unready).toBe(true);
    bed.expectUninterruptedPromotion(outcome);
  });

  it('kubelets gone past the progress deadline: rolled back, never promoted', async () => {
    const kwok = bed.cluster.component('kwok');
    const before = (await bed.status('web'))?.lastPromotedSpec;
    await bed.setProgressDeadline('web', 60);
    try {
      await bed.startRelease('web');
      await waitFor(async () => (at(20)(await bed.status('web')) ? true : undefined), {
        timeoutMs: 120_000,
        intervalMs: 50,
        what: 'weight 20',
      });
      await kwok.pause();
      const failed = await waitFor(
        async () => {
          const s = await bed.status('web');
          expect(s?.phase, 'never promoted while the canary was not ready').not.toMatch(
            /Promoting|Finalising|Succeeded/,
          );
          return s?.phase === 'Failed' ? s : undefined;
        },
        { timeoutMs: 240_000, intervalMs: 200, what: 'the rollback at the progress deadline' },
      );
      expect(failed.lastPromotedSpec).toBe(before);
      const run = await bed.endedRun('web');
      const last = run.status!.transitions!.at(-1)!;
      expect(`${last.to}:${last.reason}`).toBe('Failed:ProgressDeadlineExceeded');
      expect(run.status?.result).toBe('RolledBack');
      const primary = await readObject(
        bed.objects,
        'apps/v1',
        'Deployment',
        bed.namespace,
        'web-primary',
      );
      expect(primary?.spec?.template?.spec?.containers?.[0]?.image).not.toBe(
        run.spec.images?.to?.[0],
      );
    } finally {
      await kwok.resume();
      await bed.setProgressDeadline('web', 120);
    }
  });
});
