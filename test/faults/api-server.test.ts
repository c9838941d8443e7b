import { afterAll, beforeAll, describe, it } from 'vitest';
import type { CanaryStatus } from '../../src/api/types.js';
import { startFaultTestbed, type FaultTestbed } from '../harness/fault-testbed.js';

const intervalMs = 10_000;

// Given a real control plane and Weir in-process on the wall clock, when the API
// server is frozen for 45 s or restarted in the middle of a release, then the
// release ends as an uninterrupted one would: the same transitions, one
// promotion, no step taken without a full interval of its own checks at the
// previous weight, and progress again soon after the API server is back.
describe('the API server stalls or restarts mid-release', () => {
  let bed: FaultTestbed;

  beforeAll(async () => {
    bed = await startFaultTestbed({ namespace: 'api-faults', intervalMs });
    await bed.bootstrap('web');
  });
  afterAll(async () => {
    await bed?.stop();
  });

  const at = (weight: number) => (s: CanaryStatus | undefined) =>
    s?.phase === 'Progressing' && s.canaryWeight === weight;

  it.each([
    ['frozen for 45 s at a weight step', at(20), 'pause' as const],
    ['restarted on the same etcd data at a weight step', at(40), 'restart' as const],
    // Promoting lasts milliseconds with KWOK: hit it by timing, half a second before
    // the last step's interval is up, so the promotion is decided while the API server is out.
    ['frozen for 45 s as the promotion starts', at(60), 'pause' as const, intervalMs - 500],
    ['restarted as the promotion starts', at(60), 'restart' as const, intervalMs - 500],
  ])('kube-apiserver %s', async (_what, when, fault, delayMs = 0) => {
    const apiserver = bed.cluster.component('kube-apiserver');
    const outcome = await bed.releaseUnderFault('web', when, async () => {
      await new Promise((r) => setTimeout(r, delayMs));
      if (fault === 'pause') {
        await apiserver.pause();
        await new Promise((r) => setTimeout(r, 45_000));
        await apiserver.resume();
      } else {
        await apiserver.restart(5_000);
      }
    });
    bed.expectUninterruptedPromotion(outcome);
  });
});
