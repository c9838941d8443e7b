import type { AlertProviderSpec } from '../api/types.js';
import { neutraliseRocket } from './markdown.js';
import { cut, failureLines, releaseFacts, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: '#2eb886', warn: '#daa038', error: '#d40e0d' } as const;

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
  const facts = [
    ...releaseFacts(n),
    ...(n.advice ? [{ name: 'What now', value: n.advice, wide: true }] : []),
  ];
  return {
    text: text(n.title, 1000),
    ...(provider.channel ? { channel: provider.channel } : {}),
    ...(provider.username ? { alias: provider.username } : {}),
    attachments: [
      {
        title: text(n.title, 256),
        text: text([n.message, ...failureLines(n)].join('\n'), 4000),
        color: colors[n.severity],
        ts: n.time,
        fields: facts.map((f) => ({ title: f.name, value: text(f.value, 1000), short: !f.wide })),
      },
    ],
  };
}

export const rocketNotifier: Notifier = { type: 'rocket', body: rocketMessage };
