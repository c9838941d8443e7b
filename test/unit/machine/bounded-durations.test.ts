import { describe, expect, it } from 'vitest';
import type { CanaryAnalysis } from '../../../src/api/canary-schema.js';
import { durationBounds } from '../../../src/api/limits.js';
import type { MachineEvent } from '../../../src/machine/canary-machine.js';
import { decide, machineVersion } from '../../../src/machine/release.js';
import { boundedDurationMs } from '../../../src/api/durations.js';
import { targetOf } from '../../../src/webhooks/webhook-checks.js';

/**
 * Durations a Canary admitted under an older CRD may still carry (ADR 0012):
 * the code holds them within the bounds the CRD now enforces, so no timer or
 * timeout overflows (Node runs a setTimeout beyond 2^31-1 ms after 1 ms).
 */
const day = 86_400_000;

describe('boundedDurationMs', () => {
  it.each([
    ['700h', 60_000, durationBounds.analysisInterval, day],
    ['5s', 60_000, durationBounds.analysisInterval, 10_000],
    ['1m30s', 60_000, durationBounds.analysisInterval, 90_000],
    [undefined, 60_000, durationBounds.analysisInterval, 60_000],
    ['99999999999999999999h', 10_000, durationBounds.webhookTimeout, 300_000],
    ['0s', 10_000, durationBounds.webhookTimeout, 10_000],
    ['1ms', 10_000, durationBounds.webhookTimeout, 100],
    ['48h', 0, durationBounds.routeTimeout, day],
  ])('%s (fallback %d) within %j is %d ms', (value, fallback, bounds, expected) => {
    expect(boundedDurationMs(value, fallback, bounds)).toBe(expected);
  });
});

describe('an interval above 24h from an older CRD', () => {
  it('schedules the next step at most a day ahead', () => {
    const now = Date.UTC(2026, 11, 3, 12);
    const analysis: CanaryAnalysis = {
      interval: '700h',
      threshold: 2,
      maxWeight: 50,
      stepWeight: 10,
    };
    const checks: MachineEvent = {
      type: 'CHECKS',
      result: { now, analysis, passed: true, failures: [], promotionOpen: true },
    };
    const d = decide(
      {
        version: machineVersion,
        phase: 'Progressing',
        context: {
          weight: 10,
          iterations: 1,
          failedChecks: 0,
          revision: 'rev2',
          promotedRevision: 'rev1',
          startedAt: now - day,
          lastStepAt: now - 60_000,
        },
      },
      checks,
    );
    const requeues = d.effects.flatMap((e) => (e.type === 'requeue' ? [e.at] : []));
    expect(requeues.length).toBeGreaterThan(0);
    for (const at of requeues) expect(at - now).toBeLessThanOrEqual(day);
  });
});

describe('webhook targets', () => {
  it('hold the timeout within 100ms to 5m', () => {
    const target = (timeout?: string) =>
      targetOf({ name: 'w', url: 'http://w/', ...(timeout ? { timeout } : {}) }).timeoutMs;
    expect(target('500h')).toBe(300_000);
    expect(target('50ms')).toBe(100);
    expect(target()).toBe(10_000);
  });
});
