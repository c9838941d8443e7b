import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis } from '../../../src/api/canary-schema.js';
import type { Effect, Observation } from '../../../src/machine/canary-machine.js';
import { calmObservation } from './fixtures.js';
import { decide, type Decision, type MachineSnapshot } from '../../../src/machine/release.js';

/** A simulated world for the machine: a clock, the cluster's answers and the persisted state. */
class Sim {
  now = Date.UTC(2026, 10, 22);
  state: MachineSnapshot | undefined;
  obs: Omit<Observation, 'now' | 'analysis'> = {
    ...calmObservation,
    revision: 'rev1',
    primaryReady: false,
    progressDeadlineSeconds: 60,
  };
  checks: { passed: boolean; failures: string[] } = { passed: true, failures: [] };
  log: { from: string; to: string; effects: Effect[] }[] = [];

  constructor(public analysis: CanaryAnalysis) {}

  private apply(d: Decision): Decision {
    this.state = d.snapshot;
    this.log.push({ from: d.previousPhase, to: d.phase, effects: d.effects });
    return d;
  }

  /** One reconcile: observe, and run the checks if the machine asks for them. */
  reconcile(): Decision {
    const d = this.apply(
      decide(this.state, {
        type: 'OBSERVE',
        obs: { ...this.obs, now: this.now, analysis: this.analysis },
      }),
    );
    if (d.effects.some((e) => e.type === 'runChecks')) {
      return this.apply(
        decide(this.state, {
          type: 'CHECKS',
          result: {
            ...this.checks,
            now: this.now,
            analysis: this.analysis,
            promotionOpen: this.obs.gates.promotion,
          },
        }),
      );
    }
    return d;
  }

  advance(ms: number): Decision {
    this.now += ms;
    return this.reconcile();
  }

  get phase() {
    return this.state?.phase;
  }
  get weight() {
    return this.state?.context.weight;
  }

  /** Bootstrap and reach Initialized with rev1 promoted. */
  initialized(): this {
    this.reconcile();
    this.obs.primaryReady = true;
    this.reconcile();
    return this;
  }

  release(revision = 'rev2'): this {
    this.obs.revision = revision;
    this.reconcile();
    return this;
  }
}

const weighted: CanaryAnalysis = { interval: '10s', threshold: 2, maxWeight: 50, stepWeight: 10 };
const effectsOf = (d: Decision, type: Effect['type']) => d.effects.filter((e) => e.type === type);

describe('bootstrap', () => {
  it('creates the primary and routing, then waits in Initialized with the target scaled down', () => {
    const sim = new Sim(weighted);
    const first = sim.reconcile();
    expect(first.phase).toBe('Initializing');
    expect(effectsOf(first, 'bootstrap')).toHaveLength(1);
    expect(effectsOf(first, 'requeue')).toEqual([{ type: 'requeue', at: sim.now + 2_000 }]);
    sim.obs.primaryReady = true;
    const ready = sim.reconcile();
    expect(ready.phase).toBe('Initialized');
    expect(ready.context.promotedRevision).toBe('rev1');
    expect(ready.effects.map((e) => e.type)).toEqual(['setWeight', 'scaleCanaryDown', 'record']);
  });

  it('stays Initialized while the declared revision is the promoted one', () => {
    const sim = new Sim(weighted).initialized();
    expect(sim.advance(60_000).phase).toBe('Initialized');
  });
});

describe('weighted canary', () => {
  it('steps 0 → 10 → … → 50 one interval apart, then promotes and finalises', () => {
    const sim = new Sim(weighted).initialized().release();
    expect(sim.phase).toBe('Progressing');
    expect(sim.weight).toBe(0);
    const weights: number[] = [];
    for (let i = 0; i < 5; i++) {
      // Not due yet: nothing moves, and the machine asks to be woken at the step time.
      const early = sim.advance(9_000);
      expect(effectsOf(early, 'requeue')).toEqual([{ type: 'requeue', at: sim.now + 1_000 }]);
      expect(effectsOf(early, 'runChecks')).toEqual([]);
      // The current step is asserted again (routes and replicas), at the same weight.
      expect(effectsOf(early, 'setWeight')).toMatchObject([{ weight: sim.weight }]);
      sim.advance(1_000);
      weights.push(sim.weight!);
    }
    expect(weights).toEqual([10, 20, 30, 40, 50]);
    expect(sim.advance(10_000).phase).toBe('Promoting');
    expect(sim.log.at(-1)!.effects).toContainEqual({ type: 'promote', revision: 'rev2' });
    // The primary rolls out the promoted template.
    sim.obs.primaryRevision = 'rev2';
    expect(sim.advance(2_000).phase).toBe('Finalising');
    const done = sim.advance(0);
    expect(done.phase).toBe('Succeeded');
    expect(done.context.promotedRevision).toBe('rev2');
    expect(done.effects.map((e) => e.type)).toEqual(['setWeight', 'scaleCanaryDown', 'record']);
  });

  it('with stepWeightPromotion, shifts traffic back to the promoted primary one step per interval', () => {
    const sim = new Sim({ interval: '10s', maxWeight: 50, stepWeight: 50, stepWeightPromotion: 20 })
      .initialized()
      .release();
    sim.advance(10_000); // 50
    expect(sim.advance(10_000).phase).toBe('Promoting');
    sim.obs.primaryRevision = 'rev2';
    const weights = [10_000, 10_000, 10_000].map((ms) => sim.advance(ms).context.weight);
    expect(weights).toEqual([30, 10, 0]);
    expect(sim.advance(10_000).phase).toBe('Finalising');
  });

  it('follows stepWeights exactly', () => {
    const sim = new Sim({ interval: '10s', stepWeights: [1, 5, 25] }).initialized().release();
    const weights = [10_000, 10_000, 10_000].map((ms) => sim.advance(ms).context.weight);
    expect(weights).toEqual([1, 5, 25]);
    expect(sim.advance(10_000).phase).toBe('Promoting');
  });

  it('rolls back when failed checks reach the threshold, naming the failures', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    sim.checks = { passed: false, failures: ['request-success-rate 93.1% < 99%'] };
    const first = sim.advance(10_000);
    expect(first.phase).toBe('Progressing');
    expect(first.context.failedChecks).toBe(1);
    expect(first.context.weight).toBe(10);
    const second = sim.advance(10_000);
    expect(second.phase).toBe('Failed');
    expect(second.context.weight).toBe(0);
    expect(second.effects).toContainEqual(
      expect.objectContaining({ type: 'setWeight', weight: 0 }),
    );
    expect(second.effects).toContainEqual({ type: 'scaleCanaryDown' });
    expect(second.context.message).toBe(
      'Failed checks reached the threshold (2/2): request-success-rate 93.1% < 99%',
    );
  });

  it('does not retry the failed revision on its own, but does on request or for a new revision', () => {
    const sim = new Sim({ ...weighted, threshold: 1 }).initialized().release();
    sim.checks = { passed: false, failures: ['x'] };
    expect(sim.advance(10_000).phase).toBe('Failed');
    expect(sim.advance(60_000).phase).toBe('Failed');
    sim.obs.manual = { retry: 'rev2' };
    expect(sim.advance(1_000).phase).toBe('Progressing');
    // The retry request stays on the object, but acts once: the next failure stays Failed.
    expect(sim.advance(10_000).phase).toBe('Failed');
    expect(sim.advance(10_000).phase).toBe('Failed');
    sim.obs.manual = { retry: 'rev2-again' };
    expect(sim.advance(1_000).phase).toBe('Progressing');
    sim.obs.manual = { abort: 'rev2-again' };
    expect(sim.advance(1_000).phase).toBe('Failed');
    expect(sim.advance(1_000).phase).toBe('Failed');
    sim.obs.revision = 'rev3';
    expect(sim.advance(1_000).phase).toBe('Progressing');
  });

  it('a token that comes back after another replaced it does not act again (a Git revert)', () => {
    const sim = new Sim({ ...weighted, threshold: 1 }).initialized().release();
    sim.checks = { passed: false, failures: ['x'] };
    expect(sim.advance(10_000).phase).toBe('Failed');
    sim.obs.manual = { retry: 'rev2' };
    expect(sim.advance(1_000).phase).toBe('Progressing');
    expect(sim.advance(10_000).phase).toBe('Failed');
    sim.obs.manual = { retry: 'rev2-2' };
    expect(sim.advance(1_000).phase).toBe('Progressing');
    expect(sim.advance(10_000).phase).toBe('Failed');
    // The commit that set rev2-2 is reverted: rev2 is back, and has acted already.
    sim.obs.manual = { retry: 'rev2' };
    expect(sim.advance(1_000).phase).toBe('Failed');
    expect(sim.state?.context.spent).toEqual({ retry: ['rev2'] });
  });

  it('rolls back when the canary is not ready within the progress deadline', () => {
    const sim = new Sim(weighted).initialized();
    sim.obs.canaryReady = false;
    sim.release();
    // The first unready observation (2 s later, the machine's poll) starts the deadline.
    expect(sim.advance(2_000).context.unreadySince).toBe(sim.now);
    expect(sim.advance(59_000).phase).toBe('Progressing');
    const late = sim.advance(2_000);
    expect(late.phase).toBe('Failed');
    expect(late.context.message).toMatch(/not ready within progressDeadlineSeconds \(60s\)/);
  });

  it('measures the progress deadline from the first unready observation, not from the start of a long release', () => {
    const sim = new Sim({ ...weighted, maxWeight: 100 }).initialized().release();
    for (let i = 0; i < 7; i++) sim.advance(10_000); // 70 s in, past the 60 s deadline
    sim.obs.canaryReady = false;
    expect(sim.advance(5_000).phase).toBe('Progressing');
    expect(sim.advance(55_000).phase).toBe('Progressing');
    expect(sim.advance(6_000).phase).toBe('Failed');
  });

  it('does not fail a release for a moment of unreadiness after a long suspension', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    sim.obs.suspended = true;
    sim.advance(600_000);
    sim.obs.suspended = false;
    sim.obs.canaryReady = false; // a pod restarting
    expect(sim.advance(1_000).phase).toBe('Progressing');
    sim.obs.canaryReady = true;
    expect(sim.advance(2_000).context).not.toHaveProperty('unreadySince');
    expect(sim.phase).toBe('Progressing');
  });

  it('takes a step only after a full interval of traffic at the weight the routes carry', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    expect(sim.weight).toBe(10);
    // The route write for 10 % landed 45 s late (a frozen API server): the step to 20 %
    // waits for a full interval from then, though the last step was long ago.
    sim.obs.routedAt = sim.now + 45_000;
    const early = sim.advance(46_000);
    expect(early.context.weight).toBe(10);
    // And it asks to be looked at again when that interval is up, not at once.
    expect(effectsOf(early, 'requeue')).toEqual([
      { type: 'requeue', at: sim.obs.routedAt + 10_000 },
    ]);
    expect(sim.advance(8_000).context.weight).toBe(10);
    expect(sim.advance(1_000).context.weight).toBe(20);
  });

  it('goes back to Succeeded when the target is reverted to the promoted revision after a rollback', () => {
    const sim = new Sim({ ...weighted, threshold: 1 }).initialized().release();
    sim.checks = { passed: false, failures: ['x'] };
    expect(sim.advance(10_000).phase).toBe('Failed');
    sim.obs.revision = 'rev1';
    const reverted = sim.advance(1_000);
    expect(reverted.phase).toBe('Succeeded');
    expect(reverted.context).toMatchObject({ revision: 'rev1', promotedRevision: 'rev1' });
    expect(reverted.effects.find((e) => e.type === 'record')).toMatchObject({ reason: 'Reverted' });
    expect(sim.advance(60_000).phase).toBe('Succeeded');
  });

  it('restarts the analysis when a new revision arrives mid-release', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    sim.advance(10_000);
    expect(sim.weight).toBe(20);
    sim.obs.revision = 'rev3';
    const restart = sim.advance(1_000);
    expect(restart.phase).toBe('Progressing');
    expect(restart.context).toMatchObject({ revision: 'rev3', weight: 0, failedChecks: 0 });
    expect(restart.effects).toContainEqual(
      expect.objectContaining({ type: 'setWeight', weight: 0 }),
    );
  });

  it('holds still while suspended', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    sim.obs.suspended = true;
    const held = sim.advance(60_000);
    // Nothing moves: the current step's routes and replicas are only asserted again.
    expect(held.effects).toMatchObject([
      { type: 'setWeight', weight: 10 },
      { type: 'scaleCanaryUp' },
    ]);
    expect(held.context.weight).toBe(10);
    sim.obs.suspended = false;
    expect(sim.advance(0).context.weight).toBe(20);
  });

  it('aborts on request and promotes on request', () => {
    const aborted = new Sim(weighted).initialized().release();
    aborted.obs.manual = { abort: 'rev2' };
    expect(aborted.advance(1_000)).toMatchObject({
      phase: 'Failed',
      context: { message: 'Release aborted by request' },
    });
    const promoted = new Sim(weighted).initialized().release();
    promoted.obs.manual = { promote: 'rev2' };
    const d = promoted.advance(1_000);
    expect(d.phase).toBe('Promoting');
    expect(d.effects).toContainEqual({ type: 'promote', revision: 'rev2' });
  });

  it('promotes at once with skipAnalysis', () => {
    const sim = new Sim(weighted).initialized();
    sim.obs.skipAnalysis = true;
    const d = sim.release().log.at(-1)!;
    expect(d.to).toBe('Promoting');
    expect(d.effects).toContainEqual({ type: 'promote', revision: 'rev2' });
  });
});

describe('blue/green and A/B', () => {
  it('runs `iterations` checks without shifting weight, then promotes', () => {
    for (const analysis of [
      { interval: '10s', iterations: 3 },
      {
        interval: '10s',
        iterations: 3,
        match: [{ headers: { 'x-canary': { exact: 'insider' } } }],
      },
    ] satisfies CanaryAnalysis[]) {
      const sim = new Sim(analysis).initialized().release();
      const phases = [10_000, 10_000, 10_000].map((ms) => sim.advance(ms).phase);
      expect(phases).toEqual(['Progressing', 'Progressing', 'Promoting']);
      expect(
        sim.log.flatMap((l) => l.effects).filter((e) => e.type === 'setWeight' && e.weight > 0),
      ).toEqual([]);
    }
  });
});

describe('deletion', () => {
  it('finalises from any phase, reverting when asked', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.obs.deleting = true;
    sim.obs.revertOnDeletion = true;
    expect(sim.advance(1_000).phase).toBe('Terminating');
    expect(sim.advance(1_000).effects).toEqual([{ type: 'finalize', revert: true }]);
  });
});

describe('persistence', () => {
  it('decides the same from a persisted state round-tripped through JSON', () => {
    const sim = new Sim(weighted).initialized().release();
    sim.advance(10_000);
    const stored = JSON.parse(JSON.stringify(sim.state)) as MachineSnapshot;
    const obs = { ...sim.obs, now: sim.now + 10_000, analysis: weighted };
    const a = decide(sim.state, { type: 'OBSERVE', obs });
    const b = decide(stored, { type: 'OBSERVE', obs });
    expect(b).toEqual(a);
  });
});
