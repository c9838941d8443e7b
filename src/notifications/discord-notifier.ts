import type { AlertProviderSpec } from '../api/types.js';
import { escapeDiscord } from './markdown.js';
import { cut, releaseFacts, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: 0x2eb886, warn: 0xdaa038, error: 0xd40e0d } as const;

/**
 * Discord: one embed coloured by severity (embed limits: title 256, description 4096, field
 * value 1024). Every text is markdown-escaped, since messages, failures and image names carry
 * text Canary authors control, and no mention pings anyone (`allowed_mentions`).
 */
export function discordMessage(n: Notification, provider: Pick<AlertProviderSpec, 'username'>) {
  const field = (name: string, value: string, inline = true) => ({
    name,
    value: cut(escapeDiscord(value), 1024),
    inline,
  });
  return {
    ...(provider.username ? { username: provider.username } : {}),
    allowed_mentions: { parse: [] },
    embeds: [
      {
        title: cut(escapeDiscord(n.title), 256),
        description: cut(
          [n.message, ...n.failures.map((f) => `✗ ${f}`)].map(escapeDiscord).join('\n'),
          4096,
        ),
        color: colors[n.severity],
        timestamp: n.time,
        fields: [
          ...releaseFacts(n).map((f) => field(f.name, f.value, !f.wide)),
          ...(n.advice ? [field('What now', n.advice, false)] : []),
        ],
      },
    ],
  };
}

export const discordNotifier: Notifier = { type: 'discord', body: discordMessage };
