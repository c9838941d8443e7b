import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { KnownBlock } from '@slack/types';
import { describe, expect, it } from 'vitest';
import type { RecordEntry } from '../../../src/contracts/records.js';
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
    [{ reason: 'CheckInconclusive', to: 'Progressing' }, 'check-inconclusive', 'warn'],
    [{ reason: 'WaitingPromotion', to: 'WaitingPromotion' }, 'waiting', 'warn'],
    [{ reason: 'Succeeded', to: 'Succeeded' }, 'promoted', 'info'],
    [{ reason: 'RolledBack', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'ProgressDeadlineExceeded', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'Aborted', to: 'Failed' }, 'rolled-back', 'error'],
    [{ reason: 'PromotionFailed', to: 'Failed' }, 'promotion-failed', 'error'],
  ] as const)('%j is %s (%s)', (over, kind, severity) => {
    expect(notificationFor(entry(over), context)).toMatchObject({ kind, severity });
  });

  it.each(['Promoting', 'PromotionStep', 'Finalising', 'Initialized'] as const)(
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

  it('an inconclusive step says the weight holds, what was not judged, and what comes next', () => {
    const n = notificationFor(
      entry({
        reason: 'CheckInconclusive',
        from: 'Progressing',
        to: 'Progressing',
        weight: 20,
        inconclusiveChecks: 2,
        message:
          "Inconclusive checks 2/5, holding the weight at 20: latency: the canary's query failed: Prometheus at http://prometheus:9090 is unreachable (ECONNREFUSED)",
        metrics: [
          {
            name: 'latency',
            passed: false,
            inconclusive: true,
            message:
              "latency: the canary's query failed: Prometheus at http://prometheus:9090 is unreachable (ECONNREFUSED)",
          },
        ],
      }),
      context,
    )!;
    expect(n.title).toBe('Checks inconclusive (2/5), weight held at 20%: podinfo in shop');
    expect(n.failures).toEqual([
      "latency: the canary's query failed: Prometheus at http://prometheus:9090 is unreachable (ECONNREFUSED)",
    ]);
    expect(n.advice).toBe(
      "The canary is not being judged: look at the metric provider or the canary's traffic. 3 more inconclusive step(s) in a row roll the release back; a conclusive step resets the count.",
    );
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

  describe('untrusted text in Teams and Discord', () => {
    const link = '[Approve rollback](https://evil.example/approve)';
    const hostile = {
      ...rolledBack,
      message: `**URGENT** ${link} @everyone <@123>`,
      failures: [`webhook load (rollout): HTTP 500: ${link}`],
      images: { from: ['[x](https://evil.example/img)'], to: ['app:2'] },
    };

    /** Every object in a card, depth first. */
    const nodes = (value: unknown): Record<string, unknown>[] =>
      value && typeof value === 'object'
        ? [
            ...(Array.isArray(value) ? [] : [value as Record<string, unknown>]),
            ...Object.values(value).flatMap(nodes),
          ]
        : [];

    it('Teams: free text only in TextRuns, which render no markdown; fact links escaped', () => {
      const card = teamsMessage(hostile);
      const all = nodes(card);
      // TextBlocks render markdown: none is used at all.
      expect(all.filter((n) => n.type === 'TextBlock')).toEqual([]);
      const runs = all.filter((n) => n.type === 'TextRun').map((n) => n.text as string);
      expect(runs).toContain(hostile.message);
      expect(runs).toContain(`✗ ${hostile.failures[0]}`);
      const facts = all.flatMap((n) => (n.type === 'FactSet' ? (n.facts as object[]) : []));
      expect(facts).toContainEqual({
        title: 'Images',
        value: '\\[x\\](https://evil.example/img) → app:2',
      });
    });

    it('Teams: texts are cut to lengths a channel holds, failures to the first ten', () => {
      const card = teamsMessage({
        ...rolledBack,
        message: 'y'.repeat(10_000),
        failures: Array.from({ length: 50 }, (_, i) => `${i} ${'z'.repeat(5_000)}`),
      });
      const runs = nodes(card)
        .filter((n) => n.type === 'TextRun')
        .map((n) => n.text as string);
      for (const text of runs) expect(text.length).toBeLessThanOrEqual(3000);
      expect(runs.filter((t) => t.startsWith('✗ '))).toHaveLength(10);
      expect(runs).toContain('… and 40 more failed checks');
      expect(JSON.stringify(card).length).toBeLessThan(28_000);
    });

    it('Discord: markdown escaped everywhere, and no mention pings anyone', () => {
      const m = discordMessage(hostile, {});
      expect(m.allowed_mentions).toEqual({ parse: [] });
      const embed = m.embeds[0]!;
      expect(embed.description).toBe(
        '\\*\\*URGENT\\*\\* \\[Approve rollback\\](https://evil.example/approve) @everyone \\<@123>\n' +
          '✗ webhook load (rollout): HTTP 500: \\[Approve rollback\\](https://evil.example/approve)',
      );
      const images = embed.fields.find((f) => f.name === 'Images')!;
      expect(images.value).toBe('\\[x\\](https://evil.example/img) → app:2');
    });

    it('Discord: a comparison reads as written', () => {
      expect(discordMessage(rolledBack, {}).embeds[0]!.description).toContain(
        'request-success-rate 81.25% < 99%',
      );
    });
  });

  it('the rendered text of both messages in docs/notifications.md is what Weir sends', () => {
    const docs = readFileSync(path.join(repoRoot, 'docs/notifications.md'), 'utf8');
    expect(docs).toContain(plainText(promoted));
    expect(docs).toContain(plainText(rolledBack));
  });
});
