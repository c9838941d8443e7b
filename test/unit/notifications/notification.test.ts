import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { RecordEntry } from '../../../src/controller/records.js';
import { discordMessage } from '../../../src/notifications/discord-notifier.js';
import { teamsMessage } from '../../../src/notifications/msteams-notifier.js';
import {
  formatDuration,
  notificationFor,
  plainText,
} from '../../../src/notifications/notification.js';
import { slackMessage } from '../../../src/notifications/slack-notifier.js';
import { repoRoot } from '../../harness/tools.js';
import { context, promotedEntry, rolledBackEntry } from './fixtures.js';

const entry = (over: Partial<RecordEntry>): RecordEntry => ({ ...promotedEntry, ...over });

describe('notificationFor', () => {
  it.each([
    [{ reason: 'NewRevision', to: 'Progressing' }, 'started', 'info'],
    [{ reason: 'NewRevision', to: 'Waiting' }, 'waiting', 'warn'],
    [{ reason: 'RolloutConfirmed', to: 'Progressing' }, 'started', 'info'],
    [{ reason: 'StepAdvanced', to: 'Progressing' }, 'step', 'info'],
    [{ reason: 'CheckFailed', to: 'Progressing' }, 'check-failed', 'warn'],
    [{ reason: 'WaitingPromotion', to: 'WaitingPromotion' }, 'waiting', 'warn'],
    [{ reason: 'Succeeded', to: 'Succeeded' }, 'promoted', 'info'],
    [{ reason: 'RolledBack', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'ProgressDeadlineExceeded', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'Aborted', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'PromotionFailed', to: 'Failed' }, 'promotion-failed', 'error'],
  ] as const)('%j is %s (%s)', (over, kind, severity) => {
    expect(notificationFor(entry(over), context)).toMatchObject({ kind, severity });
  });

  it.each(['Promoting', 'PromotionStep', 'Finalising', 'Initialized'])(
    '%s sends nothing',
    (reason) => {
      expect(notificationFor(entry({ reason }), context)).toBeUndefined();
    },
  );

  it('a rollback says which check failed, with value and bound, and what to do', () => {
    const n = notificationFor(rolledBackEntry, context)!;
    expect(n.failures).toEqual(['request-success-rate 81.25% < 99%']);
    expect(n.duration).toBe('2m30s');
    expect(n.advice).toMatch(
      /^Git still declares revision 5f8c2d1e9a \(ghcr\.io\/stefanprodan\/podinfo:6\.5\.2\)/,
    );
    expect(n.advice).toMatch(/Revert the commit or push a fix/);
    expect(n.id).toBe('shop/podinfo-7/9');
  });

  it('formats durations', () => {
    expect([formatDuration(5), formatDuration(150), formatDuration(3725)]).toEqual([
      '5s',
      '2m30s',
      '1h02m',
    ]);
  });
});

describe('message formats', () => {
  const rolledBack = notificationFor(rolledBackEntry, context)!;
  const promoted = notificationFor(promotedEntry, context)!;

  it('Slack: Block Kit (typed by @slack/types) in a coloured attachment, red for a rollback', () => {
    const m = slackMessage(rolledBack, { channel: '#releases', username: 'weir' });
    const blocks: KnownBlock[] = m.attachments[0]!.blocks;
    expect(m.attachments[0]!.color).toBe('#d40e0d');
    expect(slackMessage(promoted, {}).attachments[0]!.color).toBe('#2eb886');
    expect(m).toMatchObject({ channel: '#releases', username: 'weir' });
    expect(blocks[0]).toEqual({
      type: 'header',
      text: {
        type: 'plain_text',
        text: ':rotating_light: Rolled back: podinfo in shop',
        emoji: true,
      },
    });
    const text = JSON.stringify(blocks);
    for (const fact of [
      'shop/podinfo',
      '5f8c2d1e9a',
      'podinfo:6.5.1',
      'podinfo:6.5.2',
      'Failed',
      '2 of 2',
      '2m30s',
      'request-success-rate 81.25% &lt; 99%',
      'Revert the commit',
    ])
      expect(text).toContain(fact);
  });

  it('Slack: stays within Block Kit limits however long the input', () => {
    const long = {
      ...rolledBack,
      title: 'x'.repeat(400),
      message: 'y'.repeat(5000),
      failures: ['z'.repeat(4000)],
    };
    const m = slackMessage(long, {});
    const blocks = m.attachments[0]!.blocks as {
      type: string;
      text?: { text: string };
      fields?: { text: string }[];
    }[];
    expect(blocks[0]!.text!.text.length).toBeLessThanOrEqual(150);
    for (const b of blocks) {
      if (b.text) expect(b.text.text.length).toBeLessThanOrEqual(3000);
      for (const f of b.fields ?? []) expect(f.text.length).toBeLessThanOrEqual(2000);
      expect((b.fields ?? []).length).toBeLessThanOrEqual(10);
    }
    expect(m.text.length).toBeLessThanOrEqual(3000);
  });

  it('Teams and Discord carry the same facts', () => {
    const teams = JSON.stringify(teamsMessage(rolledBack));
    const discord = discordMessage(rolledBack, {});
    for (const fact of [
      'shop/podinfo',
      '5f8c2d1e9a',
      'request-success-rate 81.25% < 99%',
      'Revert the commit',
    ]) {
      expect(teams).toContain(fact);
      expect(JSON.stringify(discord)).toContain(fact);
    }
    expect(discord.embeds[0]!.color).toBe(0xd40e0d);
  });

  it('the rendered text of both messages in docs/notifications.md is what Weir sends', () => {
    const docs = readFileSync(path.join(repoRoot, 'docs/notifications.md'), 'utf8');
    expect(docs).toContain(plainText(promoted));
    expect(docs).toContain(plainText(rolledBack));
  });
});
