import type { Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: 'Good', warn: 'Warning', error: 'Attention' } as const;

/** Microsoft Teams: an Adaptive Card in a message (what Teams workflows and connectors accept). */
export function teamsMessage(n: Notification) {
  const facts = [
    ['Canary', `${n.namespace}/${n.canary}`],
    ['Revision', n.revision],
    ['Images', `${n.images.from.join(', ') || '?'} → ${n.images.to.join(', ') || '?'}`],
    ['Phase', n.phase],
    ['Canary weight', `${n.weight}%`],
    ['Failed checks', `${n.failedChecks} of ${n.threshold}`],
    ['Duration', n.duration],
  ].map(([title, value]) => ({ title, value }));
  return {
    type: 'message',
    summary: n.title,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            {
              type: 'TextBlock',
              size: 'Large',
              weight: 'Bolder',
              color: colors[n.severity],
              wrap: true,
              text: n.title,
            },
            { type: 'TextBlock', wrap: true, text: n.message },
            { type: 'FactSet', facts },
            ...n.failures.map((f) => ({
              type: 'TextBlock',
              wrap: true,
              color: 'Attention',
              text: `✗ ${f}`,
            })),
            ...(n.advice
              ? [{ type: 'TextBlock', wrap: true, isSubtle: true, text: n.advice }]
              : []),
          ],
        },
      },
    ],
  };
}

export const msteamsNotifier: Notifier = { type: 'msteams', body: teamsMessage };
