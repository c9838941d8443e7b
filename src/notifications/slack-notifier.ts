import type { KnownBlock, MessageAttachment } from '@slack/types';
import type { AlertProviderSpec } from '../api/types.js';
import { cut, type Notification, type NotificationKind } from './notification.js';
import type { Notifier } from './notifier.js';

/** The body of a Slack incoming-webhook message. */
export interface SlackMessage {
  text: string;
  channel?: string;
  username?: string;
  attachments: (MessageAttachment & { blocks: KnownBlock[] })[];
}

const icons: Record<NotificationKind, string> = {
  started: ':rocket:',
  step: ':arrow_up:',
  waiting: ':hourglass_flowing_sand:',
  'check-failed': ':warning:',
  'check-inconclusive': ':grey_question:',
  promoted: ':white_check_mark:',
  'rolled-back': ':rotating_light:',
  'promotion-failed': ':x:',
};
const colors = { info: '#2eb886', warn: '#daa038', error: '#d40e0d' } as const;

// Block Kit limits: header text 150 characters, section text 3000, a field 2000, 10 fields.
const escape = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * Slack: Block Kit blocks in one attachment, whose colour bar tells the
 * severity apart (red for a rollback); the title is the message text.
 */
export function slackMessage(
  n: Notification,
  provider: Pick<AlertProviderSpec, 'channel' | 'username'>,
): SlackMessage {
  const images = `${n.images.from.map((i) => `\`${escape(i)}\``).join(', ') || '?'} → ${n.images.to.map((i) => `\`${escape(i)}\``).join(', ') || '?'}`;
  const blocks: KnownBlock[] = [
    {
      type: 'header',
      text: { type: 'plain_text', text: cut(`${icons[n.kind]} ${n.title}`, 150), emoji: true },
    },
    { type: 'section', text: { type: 'mrkdwn', text: cut(escape(n.message), 3000) } },
    {
      type: 'section',
      fields: [
        { type: 'mrkdwn', text: `*Canary*\n${escape(n.namespace)}/${escape(n.canary)}` },
        { type: 'mrkdwn', text: `*Revision*\n\`${escape(n.revision)}\`` },
        { type: 'mrkdwn', text: cut(`*Images*\n${images}`, 2000) },
        { type: 'mrkdwn', text: `*Phase*\n${n.phase}` },
        { type: 'mrkdwn', text: `*Canary weight*\n${n.weight}%` },
        { type: 'mrkdwn', text: `*Failed checks*\n${n.failedChecks} of ${n.threshold}` },
        { type: 'mrkdwn', text: `*Duration*\n${n.duration}` },
      ],
    },
  ];
  if (n.failures.length > 0) {
    blocks.push({
      type: 'section',
      text: {
        type: 'mrkdwn',
        text: cut(`*Why*\n${n.failures.map((f) => `• ${escape(f)}`).join('\n')}`, 3000),
      },
    });
  }
  if (n.advice) {
    blocks.push({
      type: 'context',
      elements: [{ type: 'mrkdwn', text: cut(`*What now:* ${escape(n.advice)}`, 3000) }],
    });
  }
  return {
    // Shown above the attachment and in push notifications: the title, so nothing is said twice.
    text: cut(n.title, 3000),
    ...(provider.channel ? { channel: provider.channel } : {}),
    ...(provider.username ? { username: provider.username } : {}),
    attachments: [{ color: colors[n.severity], fallback: n.title, blocks }],
  };
}

export const slackNotifier: Notifier = { type: 'slack', body: slackMessage };
