import { describe, expect, it } from 'vitest';
import { mergePatchOf } from '../../../src/kube/merge-patch.js';

/** RFC 7396's merge: what the API server does with a merge patch. */
function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

describe('mergePatchOf', () => {
  it('removes what the new status no longer has, at any depth, and keeps arrays whole', () => {
    const previous = {
      phase: 'Progressing',
      trackedConfigs: { 'configmap/a': 'x', 'secret/b': 'y' },
      conditions: [{ type: 'Ready' }, { type: 'Reconciling' }],
      machine: {
        context: { weight: 20, unreadySince: 5, message: 'old', consumed: { retry: 'r' } },
      },
    };
    const next = {
      phase: 'Progressing',
      trackedConfigs: { 'configmap/a': 'x' },
      conditions: [{ type: 'Ready' }],
      machine: { context: { weight: 0, consumed: {} } },
    };
    const patch = mergePatchOf(previous, next);
    expect(patch).toMatchObject({
      trackedConfigs: { 'secret/b': null },
      machine: { context: { unreadySince: null, message: null, consumed: { retry: null } } },
    });
    expect(applyMergePatch(previous, patch)).toEqual(next);
  });

  it('is the new value itself when there was nothing before', () => {
    expect(mergePatchOf(undefined, { a: 1 })).toEqual({ a: 1 });
  });
});
