import { describe, expect, it } from 'vitest';
import { argoHealth, luaLiteral } from '../../harness/argocd-health.js';

const canary = (status: unknown, extra: { generation?: number; suspend?: boolean } = {}) => ({
  apiVersion: 'weir.dev/v1alpha1',
  kind: 'Canary',
  metadata: { name: 'web', namespace: 'shop', generation: extra.generation ?? 2 },
  spec: { suspend: extra.suspend ?? false, analysis: { interval: '10s' } },
  status,
});
const cond = (type: string, status: string, reason: string, message: string) => ({
  type,
  status,
  reason,
  message,
});

// The Argo CD health check the chart ships, run by Debian's Lua 5.1 as Argo CD runs
// it, on Canary statuses as Weir writes them (the Flux suite runs it on live ones).
describe('Argo CD health check for the Canary', () => {
  it('says Progressing until Weir has observed the current generation', () => {
    expect(argoHealth(canary(undefined))).toEqual({
      status: 'Progressing',
      message: 'Waiting for Weir to observe the Canary',
    });
    const lagging = canary(
      {
        observedGeneration: 1,
        phase: 'Succeeded',
        conditions: [cond('Ready', 'True', 'Succeeded', 'ok')],
      },
      { generation: 2 },
    );
    expect(argoHealth(lagging)).toEqual({
      status: 'Progressing',
      message: 'Waiting for Weir to observe generation 2',
    });
  });

  it('follows a release: Progressing while in flight, Healthy once promoted, Degraded after a rollback', () => {
    const flight = canary({
      observedGeneration: 2,
      phase: 'Progressing',
      conditions: [
        cond('Ready', 'True', 'Progressing', 'Analysing revision abc: weight 25, failed checks 0'),
        cond(
          'Reconciling',
          'True',
          'Progressing',
          'Analysing revision abc: weight 25, failed checks 0',
        ),
      ],
    });
    expect(argoHealth(flight)).toEqual({
      status: 'Progressing',
      message: 'Analysing revision abc: weight 25, failed checks 0',
    });
    const promoted = canary({
      observedGeneration: 2,
      phase: 'Succeeded',
      conditions: [cond('Ready', 'True', 'Succeeded', 'Revision abc is promoted')],
    });
    expect(argoHealth(promoted)).toEqual({
      status: 'Healthy',
      message: 'Revision abc is promoted',
    });
    const rolledBack = canary({
      observedGeneration: 2,
      phase: 'Failed',
      conditions: [
        cond('Ready', 'False', 'RolledBack', 'Rolled back: smoke failed 1 time(s)'),
        cond('Stalled', 'True', 'RolledBack', 'Rolled back: smoke failed 1 time(s)'),
      ],
    });
    expect(argoHealth(rolledBack)).toEqual({
      status: 'Degraded',
      message: 'RolledBack: Rolled back: smoke failed 1 time(s)',
    });
  });

  it('says Suspended for a suspended Canary or a release held at a gate', () => {
    const held = canary({
      observedGeneration: 2,
      phase: 'WaitingPromotion',
      conditions: [cond('Reconciling', 'True', 'WaitingPromotion', 'waiting')],
    });
    expect(argoHealth(held).status).toBe('Suspended');
    expect(
      argoHealth(canary({ observedGeneration: 2, phase: 'Succeeded' }, { suspend: true })),
    ).toEqual({
      status: 'Suspended',
      message: 'The Canary is suspended (spec.suspend)',
    });
  });

  it('says Degraded with the reason when Weir cannot act on the Canary', () => {
    const blocked = canary({
      observedGeneration: 2,
      conditions: [
        cond('Ready', 'False', 'TargetNotFound', 'Deployment shop/web not found'),
        cond('Stalled', 'True', 'TargetNotFound', 'Deployment shop/web not found'),
      ],
    });
    expect(argoHealth(blocked)).toEqual({
      status: 'Degraded',
      message: 'TargetNotFound: Deployment shop/web not found',
    });
  });

  it('passes any text through Lua intact', () => {
    expect(luaLiteral({ a: ['x"y\\z\n', 1, true, null], 'b-c': 'é€' })).toBe(
      '{["a"] = {"x\\34y\\92z\\10", 1, true, nil}, ["b-c"] = "\\195\\169\\226\\130\\172"}',
    );
    const odd = canary({
      observedGeneration: 2,
      phase: 'Failed',
      conditions: [cond('Stalled', 'True', 'RolledBack', 'quote " backslash \\ ünïcode')],
    });
    expect(argoHealth(odd).message).toBe('RolledBack: quote " backslash \\ ünïcode');
  });
});
