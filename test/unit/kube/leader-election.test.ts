import type * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { LeaderElector, type LeaseApi } from '../../../src/kube/leader-election.js';
import { createLogger } from '../../../src/logger.js';
import { ManualClock } from '../../../src/util/clock.js';

/** A Lease API in memory whose calls can be made to hang, as on a frozen API server. */
class FakeLeases implements LeaseApi {
  lease: k8s.V1Lease | undefined;
  hang = false;
  private rv = 0;
  private pending = () => new Promise<never>(() => undefined);

  async readNamespacedLease(): Promise<k8s.V1Lease> {
    if (this.hang) return this.pending();
    if (!this.lease) throw Object.assign(new Error('not found'), { code: 404 });
    return structuredClone(this.lease);
  }
  async createNamespacedLease(req: { body: k8s.V1Lease }): Promise<k8s.V1Lease> {
    if (this.hang) return this.pending();
    this.lease = {
      ...req.body,
      metadata: { ...req.body.metadata, resourceVersion: String(++this.rv) },
    };
    return this.lease;
  }
  async replaceNamespacedLease(req: { body: k8s.V1Lease }): Promise<k8s.V1Lease> {
    if (this.hang) return this.pending();
    if (req.body.metadata?.resourceVersion !== this.lease?.metadata?.resourceVersion)
      throw Object.assign(new Error('conflict'), { code: 409 });
    return this.createNamespacedLease(req);
  }
}

const settle = () => new Promise((r) => setTimeout(r, 0));

describe('LeaderElector', () => {
  it('stops leading at the renew deadline while a renewal hangs, before a standby may take over', async () => {
    const clock = new ManualClock();
    const api = new FakeLeases();
    const events: string[] = [];
    const elector = new LeaderElector({
      kubeConfig: undefined as never,
      api,
      namespace: 'weir-system',
      name: 'weir',
      identity: 'a',
      clock,
      logger: createLogger('silent'),
      onStartedLeading: () => events.push(`lead@${clock.now()}`),
      onStoppedLeading: () => events.push(`stop@${clock.now()}`),
    });
    const start = clock.now();
    elector.start();
    await settle();
    expect(elector.role).toBe('leader');
    // The API server freezes: the next renewal never answers.
    api.hang = true;
    for (let t = 0; t < 20; t++) {
      clock.advance(1_000);
      await settle();
    }
    expect(events).toEqual([`lead@${start}`, `stop@${start + 10_000}`]);
    expect(elector.role).toBe('standby');
    // The Lease expires for a standby only 15 s after the last renewal: 5 s later.
    expect(Date.parse(String(api.lease!.spec!.renewTime)) + 15_000).toBeGreaterThan(start + 10_000);
    // The frozen call answering late does not make it lead again.
    api.hang = false;
    for (let t = 0; t < 5; t++) {
      clock.advance(2_000);
      await settle();
    }
    expect(elector.role).toBe('standby');
    expect(events).toHaveLength(2);
  });

  it('refuses timings where the renew deadline and a retry do not fit in the lease', () => {
    expect(
      () =>
        new LeaderElector({
          kubeConfig: undefined as never,
          api: new FakeLeases(),
          namespace: 'x',
          name: 'y',
          identity: 'a',
          clock: new ManualClock(),
          logger: createLogger('silent'),
          leaseDurationMs: 10_000,
          renewDeadlineMs: 10_000,
          onStartedLeading: () => undefined,
          onStoppedLeading: () => undefined,
        }),
    ).toThrow(/must be shorter than the lease duration/);
  });
});
