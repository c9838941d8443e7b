import { describe, expect, it } from 'vitest';
import { canaryOf, steadyStepWrites, type ObjectWrite } from '../../../bench/scale/step-writes.js';

describe('canaryOf', () => {
  const canaries = new Set(['app-1', 'app-12']);
  it.each([
    ['app-1', 'app-1'],
    ['app-1-primary', 'app-1'],
    ['app-1.18a2f3', 'app-1'],
    ['app-12', 'app-12'],
    ['app-12-7', 'app-12'],
    ['app-2', undefined],
    ['app-123', undefined],
  ])('%s belongs to %s', (name, owner) => {
    expect(canaryOf(name, canaries)).toBe(owner);
  });
});

describe('steadyStepWrites', () => {
  // One release of app-1: a step every 10 s is a route, a status and an Event; the
  // first step also starts the run, the last is followed by the promotion's writes.
  const at = (s: number, name: string, resource: string): ObjectWrite => ({
    at: s * 1000,
    namespace: 'ns',
    name,
    resource,
  });
  const step = (s: number) => [
    at(s, 'app-1', 'httproutes'),
    at(s + 0.1, 'app-1', 'canaries/status'),
    at(s + 0.2, 'app-1.abc', 'events'),
  ];
  const release: ObjectWrite[] = [
    at(0, 'app-1', 'canaries/status'),
    at(0.1, 'app-1-3', 'canaryruns'),
    at(0.2, 'app-1-3', 'canaryruns/status'),
    ...step(10),
    ...step(20),
    ...step(30),
    ...[...step(40), at(40.3, 'app-1-3', 'canaryruns/status')],
    ...step(50),
    at(60, 'app-1-primary', 'deployments'),
    ...step(70),
    at(0, 'other', 'httproutes'),
  ];

  it('counts the writes of the middle steps only, per step and by resource', () => {
    const r = steadyStepWrites(release, [{ namespace: 'ns', name: 'app-1' }]);
    // Route writes at 10, 20, 30, 40, 50, 70: steps 20, 30 and 40 are steady.
    expect(r.steps).toBe(3);
    expect(r.writes).toBe(10);
    expect(r.perStep).toBe(3.33);
    expect(r.byResource).toEqual({
      httproutes: 1,
      'canaries/status': 1,
      events: 1,
      'canaryruns/status': 0.33,
    });
  });

  it('skips a Canary with too few steps to have a steady one', () => {
    expect(steadyStepWrites(step(10), [{ namespace: 'ns', name: 'app-1' }]).steps).toBe(0);
  });
});
