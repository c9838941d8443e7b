import { escapeCardLinks } from './markdown.js';
import { cut, failureLines, releaseFacts, type Notification } from './notification.js';
import type { Notifier } from './notifier.js';

const colors = { info: 'Good', warn: 'Warning', error: 'Attention' } as const;

// Lengths Weir sends at most: a card of ~28 KB is Teams' limit, and nobody reads more.
const messageLimit = 3000;
const failureLimit = 1000;

/**
 * Text shown as written: a `RichTextBlock` whose `TextRun` renders no markdown (unlike a
 * `TextBlock`), so untrusted text cannot become a link or formatting.
 */
function plain(text: string, style: Record<string, unknown> = {}) {
  return { type: 'RichTextBlock', inlines: [{ type: 'TextRun', text, ...style }] };
}

/**
 * Microsoft Teams: an Adaptive Card in a message (what Teams workflows and connectors accept).
 * Messages, failures and advice carry text Canary authors control (webhook answers, Prometheus
 * errors, image names): they go into `TextRun`s, fact values get their links escaped, and
 * every text is cut to a length a channel can hold.
 */
export function teamsMessage(n: Notification) {
  const facts = releaseFacts(n).map((f) => ({
    title: f.name,
    value: escapeCardLinks(cut(f.value, failureLimit)),
  }));
  return {
    type: 'message',
    summary: n.title,
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          // 1.2 brought RichTextBlock and TextRun; Teams renders up to 1.5.
          version: '1.4',
          body: [
            plain(n.title, { size: 'Large', weight: 'Bolder', color: colors[n.severity] }),
            plain(cut(n.message, messageLimit)),
            { type: 'FactSet', facts },
            ...failureLines(n).map((f) => plain(cut(f, failureLimit), { color: 'Attention' })),
            ...(n.advice ? [plain(cut(n.advice, messageLimit), { isSubtle: true })] : []),
          ],
        },
      },
    ],
  };
}

export const msteamsNotifier: Notifier = { type: 'msteams', body: teamsMessage };
