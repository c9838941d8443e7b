import { describe, expect, it } from 'vitest';
import type { TransitionView } from '../../../src/dashboard/model.js';
import {
  answerText,
  compareImages,
  gitOpsChange,
  releaseState,
  webhookHistories,
} from '../../../src/dashboard/ui/detail-data.js';

describe('declared against running images', () => {
  it('pairs containers in order and says whether any differs', () => {
    expect(compareImages(['app:2', 'proxy:1'], ['app:1', 'proxy:1'])).toEqual({
      pairs: [
        { declared: 'app:2', running: 'app:1', differs: true },
        { declared: 'proxy:1', running: 'proxy:1', differs: false },
      ],
      differs: true,
    });
    expect(compareImages(['app:1'], ['app:1']).differs).toBe(false);
  });

  it('counts a container on one side only, or no primary at all, as a difference', () => {
    expect(compareImages(['app:1', 'sidecar:1'], ['app:1']).pairs[1]).toEqual({
      declared: 'sidecar:1',
      differs: true,
    });
    expect(compareImages(['app:1'], []).differs).toBe(true);
    expect(compareImages([], []).differs).toBe(false);
  });
});

describe('actions', () => {
  it('shows the GitOps change as YAML a person can commit', () => {
    expect(
      gitOpsChange({
        action: 'promote',
        applicable: true,
        annotation: 'weir.dev/promote',
        value: '42b4472e1f',
      }),
    ).toBe('metadata:\n  annotations:\n    weir.dev/promote: "42b4472e1f"');
  });

  it('quotes a value so that YAML keeps it a string', () => {
    expect(
      gitOpsChange({
        action: 'abort',
        applicable: true,
        annotation: 'weir.dev/abort',
        value: '1e5',
      }),
    ).toContain('weir.dev/abort: "1e5"');
  });

  it("shows the server's answer: its message, its error, or the status", () => {
    expect(answerText(200, { message: 'Requested promote of shop/frontend' })).toBe(
      'Requested promote of shop/frontend',
    );
    expect(answerText(409, { error: 'only a Failed release can be retried' })).toBe(
      'Refused (409): only a Failed release can be retried',
    );
    expect(answerText(502, 'Bad gateway')).toBe('The dashboard answered 502 without a reason.');
    expect(answerText(500, { message: 'a 500 with a message is still a failure' })).toMatch(/500/);
  });
});

describe('webhooks', () => {
  const t = (time: string, webhooks: TransitionView['webhooks']): TransitionView => ({
    time,
    to: 'Progressing',
    event: 'checks',
    metrics: [],
    webhooks,
  });

  it('groups answers by webhook, newest first', () => {
    const histories = webhookHistories([
      t('2026-12-04T10:00:00Z', [
        { name: 'smoke', type: 'pre-rollout', statusCode: 200, passed: true, body: 'ok' },
        { name: 'gate', type: 'confirm-promotion', statusCode: 403, passed: false },
      ]),
      t('2026-12-04T10:01:00Z', [
        { name: 'gate', type: 'confirm-promotion', statusCode: 200, passed: true },
      ]),
    ]);
    expect(histories.map((h) => `${h.type}/${h.name}`)).toEqual([
      'pre-rollout/smoke',
      'confirm-promotion/gate',
    ]);
    expect(histories[1]!.answers.map((a) => [a.time, a.statusCode])).toEqual([
      ['2026-12-04T10:01:00Z', 200],
      ['2026-12-04T10:00:00Z', 403],
    ]);
  });

  it('names how a release ended, or that it is in flight', () => {
    const r = {
      name: 'f-1',
      revision: 'r',
      images: { from: [], to: [] },
      startTime: 'x',
      transitions: [],
    };
    expect(releaseState(r)).toBe('In flight');
    expect(releaseState({ ...r, result: 'RolledBack' })).toBe('RolledBack');
  });
});
