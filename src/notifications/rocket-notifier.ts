import type { AlertProviderSpec } from '../api/types.js';
import { neutraliseRocket } from './markdown.js';
import type { Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: '#2eb886', warn: '#daa038', error: '#d40e0d' } as const;
const cut = (text: string, max: number) =>
  text.length > max ? `${text.slice(0, max - 1)}…` : text;
/** Failed checks listed at most, as in the other formats. */
const maxFailures = 10;

/**
 * Rocket.Chat incoming webhook: the title as the message text and one attachment coloured by
 * severity with the facts as short fields. Every text a Canary author can influence is
 * neutralised (`neutraliseRocket`): no link, mention or emphasis comes through.
 */
export function rocketMessage(
  n: Notification,
  provider: Pick<AlertProviderSpec, 'channel' | 'username'>,
) {
  const text = (value: string, max: number) => cut(neutraliseRocket(value), max);
  const field = (title: string, value: string, short = true) => ({
    title,
    value: text(value, 1000),
    short,
  });
  const failures = n.failures.slice(0, maxFailures).map((f) => `✗ ${f}`);
  if (n.failures.length > maxFailures)
    failures.push(`… and ${n.failures.length - maxFailures} more failed checks`);
  return {
    text: text(n.title, 1000),
    ...(provider.channel ? { channel: provider.channel } : {}),
    ...(provider.username ? { alias: provider.username } : {}),
    attachments: [
      {
        title: text(n.title, 256),
        text: text([n.message, ...failures].join('\n'), 4000),
        color: colors[n.severity],
        ts: n.time,
        fields: [
          field('Canary', `${n.namespace}/${n.canary}`),
          field('Revision', n.revision),
          field(
            'Images',
            `${n.images.from.join(', ') || '?'} → ${n.images.to.join(', ') || '?'}`,
            false,
          ),
          field('Phase', n.phase),
          field('Canary weight', `${n.weight}%`),
          field('Failed checks', `${n.failedChecks} of ${n.threshold}`),
          field('Duration', n.duration),
          ...(n.advice ? [field('What now', n.advice, false)] : []),
        ],
      },
    ],
  };
}

export const rocketNotifier: Notifier = { type: 'rocket', body: rocketMessage };
