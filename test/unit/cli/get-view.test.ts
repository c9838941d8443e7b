import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderCanary, renderList, stepOf, weightBar } from '../../../src/cli/get-view.js';
import { repoRoot } from '../../harness/tools.js';
import { view } from './get-view-fixture.js';

describe('weir get views', () => {
  it('draw the weight as a bar', () => {
    expect(weightBar(0)).toBe(`[${'.'.repeat(20)}] 0%`);
    expect(weightBar(55)).toBe(`[${'#'.repeat(11)}${'.'.repeat(9)}] 55%`);
    expect(weightBar(100, 4)).toBe('[####] 100%');
  });

  it('count steps for stepWeight, stepWeights and iterations', () => {
    const c = view.canary;
    expect(stepOf(c)).toEqual({ step: 1, of: 2 });
    const a = (analysis: object, status: object) =>
      stepOf({ ...c, spec: { ...c.spec, analysis }, status: { ...c.status, ...status } });
    expect(a({ stepWeights: [5, 10, 25, 50] }, { canaryWeight: 25 })).toEqual({ step: 3, of: 4 });
    expect(a({ iterations: 10 }, { iterations: 4 })).toEqual({ step: 4, of: 10 });
  });

  it('say what a waiting release waits for, and why a blocked Canary is blocked', () => {
    const waiting = renderCanary({
      ...view,
      canary: { ...view.canary, status: { ...view.canary.status, phase: 'WaitingPromotion' } },
    });
    expect(waiting).toContain(
      'Waiting for: confirm-promotion (a webhook answering 2xx, or weir.dev/approve=42b4472e1f)',
    );
    const blocked = renderCanary({
      ...view,
      canary: {
        ...view.canary,
        status: {
          conditions: [
            {
              type: 'Ready',
              status: 'False',
              reason: 'TargetNotFound',
              message: 'Deployment shop/frontend not found',
              lastTransitionTime: '2026-11-22T10:00:00Z',
            },
          ],
        },
      },
    });
    expect(blocked[1]).toBe(
      'Status:      ? Unknown  (TargetNotFound: Deployment shop/frontend not found)',
    );
  });

  it('the capture in docs/weir-get.md is what Weir renders', () => {
    const docs = readFileSync(path.join(repoRoot, 'docs/weir-get.md'), 'utf8');
    expect(docs).toContain(renderCanary(view).join('\n'));
    expect(docs).toContain(renderList([view.canary], view.now).join('\n'));
  });
});
